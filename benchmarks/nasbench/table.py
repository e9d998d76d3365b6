"""The table, loaded for queries and replays: one entry per architecture, indexed by key.

A table file is the builder's append-only JSON lines (``table.jsonl``, or gzip-compressed
``.jsonl.gz``), one row per (architecture, seed). A partial table works: it holds the
architectures trained so far and everything here (targets, fronts, strategies) is about
those alone. ``load_table`` keeps the parsed table per process, so a worker replaying
hundreds of runs reads the file once.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import math
import statistics
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from benchmarks.nasbench.build import TABLE, packed


class TableError(ValueError):
    """A table that cannot be used (missing, empty, rows of different fidelities); the message says why."""


@dataclass(frozen=True)
class Point:
    """One seed of one architecture at one fidelity, as the builder recorded it."""

    steps: int
    train_s: float  # cumulative CPU seconds of training to this step (evaluations excluded)
    train_loss: float
    val_top1: float
    val_eval_s: float
    test_top1: float


@dataclass(frozen=True)
class Run:
    """One training run (architecture, seed): its curve and what it cost."""

    seed: int
    curve: tuple[Point, ...]  # one point per fidelity of the table, in step order
    setup_s: float  # data, model, final evaluation: the run's CPU seconds outside training and checkpoints
    latency_s: float  # measuring the latency
    latency_ms: float


@dataclass
class Entry:
    """Every recorded run of one architecture."""

    key: str
    params: int
    macs: int
    runs: dict[int, Run] = field(default_factory=dict)

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(sorted(self.runs))

    measured_latency_ms: float | None = None  # from the builder's latency pass (latency.jsonl), when it ran

    @property
    def latency_ms(self) -> float:
        """The latency pass's figure (alone on an idle machine, 21 runs) when there is one, else the
        median over the rows' own measurements (taken beside a neighbour training on the other core)."""
        if self.measured_latency_ms is not None:
            return self.measured_latency_ms
        return statistics.median(run.latency_ms for run in self.runs.values())

    def val(self, seed: int, fidelity: int) -> float:
        return self.runs[seed].curve[fidelity].val_top1

    def test(self, seed: int, fidelity: int) -> float:
        return self.runs[seed].curve[fidelity].test_top1

    @cached_property
    def mean_test(self) -> float:
        """Mean over seeds of the test top-1 at the last fidelity: what a strategy's pick is worth."""
        return statistics.fmean(run.curve[-1].test_top1 for run in self.runs.values())

    @cached_property
    def mean_val(self) -> float:
        return statistics.fmean(run.curve[-1].val_top1 for run in self.runs.values())

    def full_cost_s(self, seed: int) -> float:
        """Seconds of one evaluation at the last fidelity: latency, setup, training, one validation pass."""
        run = self.runs[seed]
        return run.latency_s + run.setup_s + run.curve[-1].train_s + run.curve[-1].val_eval_s


class Table:
    def __init__(self, rows: list[dict[str, Any]], *, source: str = "", digest: str = "", latencies: dict[str, float] | None = None):
        self.source, self.digest = source, digest
        self.entries: dict[str, Entry] = {}
        self.skipped: list[str] = []  # why rows were left out (duplicates, short curves)
        steps = None
        for row in rows:
            curve = row.get("curve") or []
            row_steps = tuple(point["steps"] for point in curve)
            if steps is None:
                steps = row_steps
            if row_steps != steps:
                self.skipped.append(f"{row.get('key')} seed {row.get('seed')}: recorded steps {row_steps}, the table's are {steps}")
                continue
            entry = self.entries.setdefault(row["key"], Entry(row["key"], int(row["params"]), int(row["macs"])))
            if row["seed"] in entry.runs:
                self.skipped.append(f"{row['key']} seed {row['seed']}: a second row for the same seed (the first is kept)")
                continue
            points = tuple(Point(p["steps"], p["train_s"], p["train_loss"], p["val_top1"], p["val_eval_s"], p["test_top1"]) for p in curve)
            entry.runs[row["seed"]] = Run(row["seed"], points, row["setup_s"], row["latency_s"], row["latency_ms"])
        if not self.entries:
            raise TableError(f"{source or 'table'}: no rows")
        for key, latency in (latencies or {}).items():
            if key in self.entries:
                self.entries[key].measured_latency_ms = latency
        self.steps: tuple[int, ...] = steps
        self.keys: list[str] = sorted(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def __getitem__(self, key: str) -> Entry:
        return self.entries[key]

    @property
    def rows(self) -> int:
        return sum(len(entry.runs) for entry in self.entries.values())

    # -- fidelities --------------------------------------------------------------------------------
    def fidelity(self, steps: int) -> int:
        """Index of the recorded step count nearest to ``steps`` on a log scale (a ratio apart, as
        rungs are): the engine's 40/120 map to 36/108, anything below the first to the first."""
        if steps <= 0:
            raise ValueError(f"steps must be positive, got {steps}")
        return min(range(len(self.steps)), key=lambda i: (abs(math.log(steps / self.steps[i])), i))

    # -- targets -----------------------------------------------------------------------------------
    @cached_property
    def ranked(self) -> list[Entry]:
        """Entries by mean test top-1, best first (ties: by key, so the order is stable)."""
        return sorted(self.entries.values(), key=lambda e: (-e.mean_test, e.key))

    @property
    def best_mean_test(self) -> float:
        return self.ranked[0].mean_test

    def threshold(self, share: float) -> float:
        """Mean test top-1 an architecture needs to be in the table's top ``share`` (0.01: top 1%).

        The value of the ceil(share x size)-th best; with ties at that value more than ``share``
        of the table reaches it (test top-1 moves in steps of one clip)."""
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], got {share}")
        count = max(1, math.ceil(share * len(self.ranked)))
        return self.ranked[count - 1].mean_test

    def share_at_least(self, value: float) -> float:
        return sum(entry.mean_test >= value for entry in self.ranked) / len(self.ranked)

    # -- costs -------------------------------------------------------------------------------------
    @cached_property
    def mean_full_cost_s(self) -> float:
        """One evaluation's worth: the mean over rows of an evaluation at the last fidelity."""
        return statistics.fmean(entry.full_cost_s(seed) for entry in self.entries.values() for seed in entry.runs)

    # -- the front ---------------------------------------------------------------------------------
    def pareto(self) -> list[Entry]:
        """Accuracy (mean test top-1) against latency: every architecture no other is at least as
        accurate and as fast as, and strictly better in one; fastest first."""
        front, best = [], -1.0
        for entry in sorted(self.entries.values(), key=lambda e: (e.latency_ms, -e.mean_test, e.key)):
            if entry.mean_test > best:
                front.append(entry)
                best = entry.mean_test
        return front


def _read_lines(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    rows = []
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.endswith("\n") and line.strip():  # a torn last line (a build killed mid-write) is left out
                rows.append(json.loads(line))
    return rows


_LOADED: dict[tuple, Table] = {}


def load_table(path: str | Path | None = None) -> Table:
    """The table at ``path`` (default: the committed one), parsed once per process and file version."""
    path = Path(path) if path is not None else default_path()
    if not path.exists():
        raise TableError(f"{path}: no such table file (build one with `python -m benchmarks.nasbench build`)")
    latency_path = path.with_name("latency.jsonl")
    key = tuple((str(p.resolve()), p.stat().st_mtime_ns, p.stat().st_size) for p in (path, latency_path) if p.exists())
    if key not in _LOADED:
        try:
            rows = _read_lines(path)
        except (OSError, ValueError, EOFError) as error:
            raise TableError(f"{path}: not a readable table ({error})") from None
        # Of the rows, not the file: the compressed table and its working copy have one digest.
        content = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        digest = hashlib.sha256(content + (latency_path.read_bytes() if latency_path.exists() else b"")).hexdigest()
        try:
            latencies = ({row["key"]: float(row["latency_ms"]) for row in _read_lines(latency_path) if not row.get("baseline")}
                         if latency_path.exists() else None)
            table = Table(rows, source=str(path), digest=digest, latencies=latencies)
        except (KeyError, TypeError) as error:
            raise TableError(f"{path}: a row lacks a field the builder writes ({error})") from None
        _LOADED.clear()  # one table per process is the use; a rebuilt file replaces the old one
        _LOADED[key] = table
    return _LOADED[key]


def default_path() -> Path:
    """The committed, compressed table; the builder packs it as rows land. Its plain working copy
    only where there is no compressed one (a build started from nothing)."""
    return packed(TABLE) if packed(TABLE).exists() else TABLE
