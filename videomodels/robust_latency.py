"""Latency that a shared machine cannot flip: rounds of timed runs, the figure decisions use, its
spread, and when to measure again.

One round's median moves with whatever else the machine runs: an 11 k-parameter network once read
19 ms while a 95 k one read 0.24 ms in the same search. So a measurement is one or more rounds
(several runs each, the usual warm-up before); the figure is the lower quartile (p25) of every run:
load only ever adds time, so the low runs are the network's own cost, and a quartile rather than
the minimum is not one lucky run. (On a 2-core machine at load 13, tvn-small read p10 1.8 ms,
median 7.9 ms, p90 15.7 ms in one measurement.) The spread (p10/p50/p90) is kept beside it. A figure close to a latency budget, or over it, is
measured again before a decision rests on it (``needs_another_round``), up to ``max_rounds``.
Pure Python: ``measure_round`` does the timing (videomodels.profile.measure_latency).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

# A figure within this fraction under the budget, or anywhere over it, is measured again.
NEAR_BUDGET = 0.2
MAX_ROUNDS = 3


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between the closest ranks (numpy's default)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class LatencyMeasurement:
    ms: float  # the lower quartile of every run: the figure budgets and rankings use
    p10: float
    p50: float
    p90: float
    runs: int  # timed runs in all rounds
    rounds: int

    @classmethod
    def of(cls, rounds: Sequence[Sequence[float]]) -> LatencyMeasurement:
        timings = [t for r in rounds for t in r]
        if not timings:
            raise ValueError("no timed runs")
        return cls(ms=percentile(timings, 25), p10=percentile(timings, 10), p50=percentile(timings, 50),
                   p90=percentile(timings, 90), runs=len(timings), rounds=len(rounds))

    @property
    def relative_spread(self) -> float:
        """(p90 - p10) / p50: how far runs wandered, as a fraction of the typical run."""
        return (self.p90 - self.p10) / self.p50 if self.p50 > 0 else 0.0

    def to_dict(self) -> dict[str, float | int]:
        return {key: (round(value, 4) if isinstance(value, float) else value) for key, value in asdict(self).items()}


def needs_another_round(ms: float, budget_ms: float | None, *, near: float = NEAR_BUDGET) -> bool:
    """True when a decision against ``budget_ms`` would rest on this figure: within ``near`` under
    the budget, or over it (a rejection is confirmed before it is made). No budget, no decision."""
    return budget_ms is not None and ms >= budget_ms * (1.0 - near)


def robust_latency(measure_round: Callable[[], list[float]], *, budget_ms: float | None = None, near: float = NEAR_BUDGET,
                   max_rounds: int = MAX_ROUNDS) -> LatencyMeasurement:
    """Rounds of ``measure_round()`` (per-run ms) until the figure is clear of the budget or
    ``max_rounds`` were measured; the first round alone when there is no budget."""
    rounds = [measure_round()]
    while len(rounds) < max_rounds and needs_another_round(LatencyMeasurement.of(rounds).ms, budget_ms, near=near):
        rounds.append(measure_round())
    return LatencyMeasurement.of(rounds)
