"""Regret, time to target and the statistics of the comparison, on cases checkable by hand."""
from __future__ import annotations

import math
import random

import numpy as np
import pytest

from benchmarks.nasbench import report
from benchmarks.nasbench.strategies import Trace
from benchmarks.nasbench.table import Table

from nasbench_rows import fake_row

A, B, C = "f8s20r5|std.1d.c32.cg1", "f8s20r5|std.1d.c16.cg1", "f4s16r0|std.1d.c16.cg0"


def _table(tests: dict[str, list[float]]) -> Table:
    """A table whose architectures have exactly these last-fidelity test top-1 values (one per seed)."""
    rows = []
    for key, values in tests.items():
        for seed, value in enumerate(values):
            row = fake_row(key, seed, 0.3, random.Random(seed))
            row["curve"][-1]["test_top1"] = value
            rows.append(row)
    return Table(rows, source="hand")


@pytest.fixture
def table() -> Table:
    # Mean test top-1: A 0.6 (two seeds), B 0.5, C 0.4.
    return _table({A: [0.55, 0.65], B: [0.5], C: [0.4]})


def test_regret_follows_the_pick_and_is_infinite_before_the_first(table: Table) -> None:
    runs = [{"picks": [(10.0, C), (25.0, B), (40.0, A)]}, {"picks": [(5.0, B)]}, {"picks": []}]
    curves = report.regret_curves(table, runs, np.array([0.0, 10.0, 30.0, 50.0]))
    assert curves[0] == pytest.approx([math.inf, 0.2, 0.1, 0.0])
    assert curves[1] == pytest.approx([math.inf, 0.1, 0.1, 0.1])
    assert np.isinf(curves[2]).all()


def test_time_to_target_is_the_first_pick_at_or_above_it(table: Table) -> None:
    runs = [{"picks": [(10.0, C), (25.0, B), (40.0, A)]}, {"picks": [(5.0, B)]}, {"picks": [(7.0, A), (9.0, C)]}]
    assert list(report.times_to(table, runs, 0.6)) == [40.0, math.inf, 7.0]
    assert list(report.times_to(table, runs, 0.5)) == [25.0, 5.0, 7.0]
    assert table.threshold(0.01) == pytest.approx(0.6)  # 1% of three architectures: the best alone
    summary = report.summarize(table, "hand", [{**run, "evaluations": 3} for run in runs], budget_s=50.0)
    assert summary.reached("top 1%") == 2 and report.median(summary.times["top 1%"]) == 40.0
    assert list(summary.final_regret) == pytest.approx([0.0, 0.1, 0.2])


def test_trace_keeps_the_best_validation_pick_and_ignores_pruned_trials() -> None:
    trace = Trace()
    trace.observe(1.0, C, 0.3)
    trace.observe(2.0, B, 0.3)  # a tie: the first pick stays
    trace.observe(3.0, A, 0.9, selectable=False)  # pruned at a low rung: not a pick
    trace.observe(4.0, B, 0.5)
    trace.observe(5.0, B, 0.6)  # the same architecture again: no new pick
    assert trace.picks == [(1.0, C), (4.0, B)] and trace.evaluations == 5


def test_ratio_of_medians_with_a_bootstrap_interval() -> None:
    point, low, high = report.bootstrap_ratio(np.array([10.0, 10.0, 10.0]), np.array([30.0, 30.0, 30.0]))
    assert (point, low, high) == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    rng = np.random.default_rng(0)
    mine, theirs = rng.uniform(10, 20, 200), rng.uniform(40, 60, 200)
    point, low, high = report.bootstrap_ratio(mine, theirs)
    assert low < point < high and 0.2 < low and high < 0.4
    censored = report.bootstrap_ratio(np.full(5, math.inf), np.array([1.0, 2, 3, 4, 5]))
    assert censored[0] == math.inf


def test_rank_test_says_which_is_faster_and_handles_runs_that_never_arrive() -> None:
    fast, slow = np.arange(1.0, 31.0), np.arange(20.0, 50.0)
    assert report.faster_p(fast, slow) < 1e-6
    assert report.faster_p(slow, fast) > 0.99
    never = np.full(30, math.inf)
    assert report.faster_p(fast, never) < 1e-6 and report.faster_p(never, fast) > 0.99


def test_cells_show_median_iqr_and_reach_count() -> None:
    times = np.array([10.0, 20.0, 30.0, math.inf])
    assert report.time_cell(times) == "20 s [10 s-30 s] (3/4)"
    assert report.fmt_time(math.inf) == "not reached"
    assert report.fmt_ratio(0.5, 0.25, math.inf) == "0.50x [0.25-∞]"
