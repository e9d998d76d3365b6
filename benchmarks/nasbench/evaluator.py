"""The tabular evaluator: ``archsearch.evaluate.evaluate_candidate``'s interface, answered from the table.

Each query draws one of the architecture's recorded seeds at random (NAS-Bench-201's rule), so
a strategy meets the real noise of training and may see a different value when it asks again.
A requested step count is answered by the nearest recorded fidelity (``Table.fidelity``:
40 -> 36, 120 -> 108); the low fidelity is the long run's checkpoint at that step, as NAS-Bench-201's
curves are, not a separate shorter schedule. Every answer charges a ``SimulatedClock`` with
the seconds the row recorded: latency measurement, then setup, training to the fidelity and
one validation pass; promotion charges only the additional training and its validation pass
(the same run continues), and the test split is read for reporting only (never charged,
never used for selection).

What the table cannot model: weight inheritance. The engine hands a child its parent's
checkpoint (``init_checkpoint``); every row here was trained from scratch, so the child is
answered as if it had none. A search that gains from inheritance on real training gets no
credit for it on the table. Nor proxies (SynFlow screens need the model) nor the latency
re-measurement noise (the table's one measurement is the latency).
"""
from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from archsearch.curves import check_step
from archsearch.evaluate import EvalBudget

from benchmarks.nasbench.table import Entry, Table
from benchmarks.nasbench.tablespace import TableSpace


@dataclass
class SimulatedClock:
    """CPU seconds a strategy would have spent, as the table recorded them; ``parts`` says on what."""

    now: float = 0.0
    parts: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def charge(self, seconds: float, part: str) -> float:
        if seconds < 0:
            raise ValueError(f"cannot charge {seconds} s ({part}): a clock only moves forward")
        self.now += seconds
        self.parts[part] += seconds
        return self.now


class TableRun:
    """One architecture's training replayed from one row: a seed drawn once, seconds charged as it goes.

    ``start`` charges the latency measurement; the first ``train_to`` charges the setup, then every
    call the training from where the run stands to the asked fidelity and one validation pass there.
    """

    def __init__(self, entry: Entry, seed: int, clock: SimulatedClock):
        self.entry, self.seed, self.clock = entry, seed, clock
        self.run = entry.runs[seed]
        self.at: int | None = None  # index of the fidelity reached
        clock.charge(self.run.latency_s, "latency")
        self.seconds = self.run.latency_s

    def train_to(self, fidelity: int, *, validate: bool = True):
        """Continue to ``fidelity`` (an index into the table's steps) and, unless told not to,
        validate there; returns the point."""
        if self.at is not None and fidelity <= self.at:
            raise ValueError(f"{self.entry.key}: already at fidelity {self.at}, cannot train to {fidelity}")
        curve = self.run.curve
        if self.at is None:
            self._charge(self.run.setup_s, "setup")
        trained = curve[self.at].train_s if self.at is not None else 0.0
        self._charge(max(0.0, curve[fidelity].train_s - trained), "train")
        if validate:
            self.validate(fidelity)
        self.at = fidelity
        return curve[fidelity]

    def validate(self, fidelity: int) -> None:
        self._charge(self.run.curve[fidelity].val_eval_s, "validation")

    def _charge(self, seconds: float, part: str) -> None:
        self.clock.charge(seconds, part)
        self.seconds += seconds


class TableEvaluator:
    """Drop-in for ``evaluate_candidate`` (same arguments, same result keys) over a table.

    ``data``, ``out_dir``, ``init_checkpoint``, ``stop`` and ``watchers`` are accepted and ignored
    (nothing trains, nothing is written, weights are not inherited: see the module's docstring).
    ``seed`` is the real evaluator's training seed; the table's seed comes from ``rng`` instead.
    """

    def __init__(self, table: Table, space: TableSpace, clock: SimulatedClock, rng: random.Random):
        self.table, self.space, self.clock, self.rng = table, space, clock, rng

    def start(self, key: str) -> TableRun:
        entry = self.table[key]
        return TableRun(entry, self.rng.choice(entry.seeds), self.clock)

    def __call__(self, spec: dict[str, Any], data: Any = None, budget: EvalBudget | dict[str, Any] | None = None, seed: int = 0, *,
                 out_dir: Any = None, init_checkpoint: str | None = None, promote_threshold: float | None = None,
                 curve_threshold: float | None = None, stop: Callable | None = None, watchers: Iterable[Any] = ()) -> dict[str, Any]:
        budget = budget if isinstance(budget, EvalBudget) else EvalBudget(**(budget or {}))
        key = self.space.key_of(spec)
        if key is None or key not in self.table:
            raise KeyError(f"{spec.get('name') or 'spec'}: not in the table ({len(self.table)} architectures)")
        entry = self.table[key]
        run = self.start(key)
        # The architecture's latency (the table's best figure for it), the measuring time the row's.
        result: dict[str, Any] = {"params": entry.params, "macs": entry.macs, "latency_ms": entry.latency_ms,
                                  "table": {"key": key, "seed": run.seed}}
        if budget.latency_budget_ms is not None and entry.latency_ms > budget.latency_budget_ms:
            return {**result, "status": "rejected", "seconds": run.seconds, "timing": {"latency_s": run.seconds},
                    "reason": f"latency {entry.latency_ms:.1f} ms over the {budget.latency_budget_ms:g} ms budget"}
        low = self.table.fidelity(budget.low_steps)
        curve_loss, fidelity_name = None, "low"
        check = check_step(budget.low_steps, budget.curve_stop)
        check_at = self.table.fidelity(check) if check is not None else None
        if check_at is not None and check_at < low:
            # The median stopping rule reads the training loss at its check step: answered at the
            # recorded fidelity nearest to it, when one lies below the low fidelity (else it cannot apply).
            point = run.train_to(check_at, validate=False)  # the training loss is free to read
            curve_loss = point.train_loss
            if curve_threshold is not None and curve_loss > curve_threshold:
                fidelity_name = "stopped"
                run.validate(check_at)  # a stopped run is still scored where it stopped
        if fidelity_name != "stopped":
            point = run.train_to(low)
        low_point = point
        high = self.table.fidelity(budget.high_steps) if budget.high_steps else low
        if (fidelity_name == "low" and promote_threshold is not None and budget.high_steps > budget.low_steps and high > low
                and low_point.val_top1 >= promote_threshold):
            point = run.train_to(high)
            fidelity_name = "high"
        timing = {"latency_s": run.run.latency_s, "setup_s": run.run.setup_s, "train_s": run.seconds - run.run.latency_s - run.run.setup_s,
                  "overhead_s": 0.0}
        result.update(
            status="evaluated", accuracy=point.val_top1, low_accuracy=low_point.val_top1, fidelity=fidelity_name,
            steps=point.steps, metrics={"top1": point.val_top1}, curve_loss=curve_loss, checkpoint=None, edge_weights=[],
            inherited_tensors=0, seconds=run.seconds, timing=timing,
            test_accuracy=point.test_top1,  # for reporting only: no strategy reads it
        )
        result["table"]["steps"] = point.steps
        return result
