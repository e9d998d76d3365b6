"""From replayed runs to the field's anytime picture: test regret against simulated time, times
to the table's top 1% and 0.1%, ratios to random search with a bootstrap interval, rank tests.

A run is reduced (``strategies.Trace``) to the times its pick changed. Its regret at time t is
the table's best mean test top-1 minus the mean test top-1 of the architecture it picked by
then (infinite before its first pick); it reaches a target the first time its pick's mean
test top-1 is at least the target. A run that never does counts as infinitely slow: medians
and rank tests use it as such (censored, not dropped), and a median that is infinite is shown
as "not reached".
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from benchmarks.nasbench.table import Table

TARGETS = {"top 1%": 0.01, "top 0.1%": 0.001}
BOOTSTRAP = 2000


def regret_curves(table: Table, runs: Sequence[dict], grid: np.ndarray) -> np.ndarray:
    """[run, time] regret of each run's pick at each time of ``grid`` (inf before the first pick)."""
    best = table.best_mean_test
    out = np.full((len(runs), len(grid)), np.inf)
    for row, run in enumerate(runs):
        if not run["picks"]:
            continue
        times = np.array([t for t, _ in run["picks"]])
        regrets = np.array([best - table[key].mean_test for _, key in run["picks"]])
        index = np.searchsorted(times, grid, side="right") - 1
        out[row] = np.where(index >= 0, regrets[np.maximum(index, 0)], np.inf)
    return out


def times_to(table: Table, runs: Sequence[dict], threshold: float) -> np.ndarray:
    """Per run, the first simulated time its pick's mean test top-1 was at least ``threshold`` (inf: never)."""
    return np.array([next((t for t, key in run["picks"] if table[key].mean_test >= threshold), math.inf) for run in runs])


def quantiles(values: np.ndarray, qs=(25, 50, 75)) -> list[float]:
    """Percentiles without interpolation (an infinite value never meets a finite one in an average)."""
    return [float(np.percentile(values, q, method="inverted_cdf")) for q in qs]


def median(values: np.ndarray) -> float:
    return quantiles(values, (50,))[0]


def bootstrap_ratio(mine: np.ndarray, reference: np.ndarray, *, seed: int = 0, draws: int = BOOTSTRAP) -> tuple[float, float, float]:
    """Ratio of medians (mine / reference) and its 95% percentile-bootstrap interval, each sample
    resampled on its own; inf when my median is censored, nan when both are."""
    rng = np.random.default_rng(seed)
    a = np.percentile(rng.choice(mine, (draws, len(mine))), 50, axis=1, method="inverted_cdf")
    b = np.percentile(rng.choice(reference, (draws, len(reference))), 50, axis=1, method="inverted_cdf")
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = a / b
        point = float(np.float64(median(mine)) / np.float64(median(reference)))
    ratios = ratios[~np.isnan(ratios)]
    if not len(ratios):
        return point, math.nan, math.nan
    low, high = (float(np.percentile(ratios, q, method="inverted_cdf")) for q in (2.5, 97.5))
    return point, low, high


def faster_p(mine: np.ndarray, reference: np.ndarray) -> float:
    """One-sided Mann-Whitney U p-value that ``mine`` tends to take less time than ``reference``
    (censored runs tie with each other above every finished one)."""
    from scipy.stats import mannwhitneyu

    cap = 1e18
    result = mannwhitneyu(np.minimum(mine, cap), np.minimum(reference, cap), alternative="less")
    return float(result.pvalue)


@dataclass
class Summary:
    """Everything the tables say about one strategy."""

    name: str
    runs: int
    evaluations: float  # median per run
    times: dict[str, np.ndarray]  # target -> per-run time
    final_regret: np.ndarray

    def reached(self, target: str) -> int:
        return int(np.isfinite(self.times[target]).sum())


def summarize(table: Table, name: str, runs: Sequence[dict], budget_s: float) -> Summary:
    thresholds = {label: table.threshold(share) for label, share in TARGETS.items()}
    return Summary(name, len(runs), float(np.median([run["evaluations"] for run in runs])),
                   {label: times_to(table, runs, value) for label, value in thresholds.items()},
                   regret_curves(table, runs, np.array([budget_s]))[:, 0])


# -- text ---------------------------------------------------------------------------------------
def fmt_time(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "not reached"
    return f"{seconds:,.0f} s" if seconds >= 100 else f"{seconds:.0f} s"


def fmt_regret(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{100 * value:.2f}"


def fmt_ratio(point: float, low: float, high: float) -> str:
    def one(v):
        return "∞" if v == math.inf else ("–" if not math.isfinite(v) else f"{v:.2f}")

    return f"{one(point)}x [{one(low)}-{one(high)}]"


def fmt_p(p: float) -> str:
    return "–" if not math.isfinite(p) else (f"{p:.1e}" if p < 0.001 else f"{p:.3f}")


def time_cell(times: np.ndarray) -> str:
    q1, q2, q3 = quantiles(times)
    return f"{fmt_time(q2)} [{fmt_time(q1)}-{fmt_time(q3)}] ({int(np.isfinite(times).sum())}/{len(times)})"


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def comparison_rows(summaries: list[Summary], reference: Summary, target: str, *, seed: int = 0) -> list[list[str]]:
    """Per strategy: time to ``target`` median [IQR] (reached/runs), ratio of medians to the
    reference with its bootstrap interval, and the one-sided rank test that it is faster."""
    rows = []
    for summary in summaries:
        mine, theirs = summary.times[target], reference.times[target]
        if summary is reference:
            rows.append([summary.name, time_cell(mine), "1x (reference)", "–"])
            continue
        rows.append([summary.name, time_cell(mine), fmt_ratio(*bootstrap_ratio(mine, theirs, seed=seed)), fmt_p(faster_p(mine, theirs))])
    return rows


def regret_rows(table: Table, named_runs: dict[str, Sequence[dict]], budget_s: float, shares=(0.1, 0.25, 0.5, 1.0)) -> list[list[str]]:
    """Test regret (percentage points), median [IQR] over runs, at fractions of the budget."""
    grid = np.array([share * budget_s for share in shares])
    rows = []
    for name, runs in named_runs.items():
        curves = regret_curves(table, runs, grid)
        cells = []
        for column in curves.T:
            q1, q2, q3 = quantiles(column)
            cells.append(f"{fmt_regret(q2)} [{fmt_regret(q1)}-{fmt_regret(q3)}]")
        rows.append([name, *cells])
    return rows


# -- the plot ------------------------------------------------------------------------------------
def plot(table: Table, panels: dict[str, dict[str, Sequence[dict]]], budget_s: float, path, *, title: str = "") -> None:
    """Median test regret (line) and interquartile range (band) against simulated time, one panel per group."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.linspace(0, budget_s, 241)[1:]
    figure, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.6), sharey=True, squeeze=False)
    ceiling = 0.0
    for axis, (panel, named_runs) in zip(axes[0], panels.items()):
        for name, runs in named_runs.items():
            curves = regret_curves(table, runs, grid)
            q1, q2, q3 = (np.percentile(curves, q, axis=0, method="inverted_cdf") for q in (25, 50, 75))
            shown = np.isfinite(q3)
            line, = axis.plot(grid[np.isfinite(q2)] / 60, 100 * q2[np.isfinite(q2)], label=name, linewidth=1.6)
            axis.fill_between(grid[shown] / 60, 100 * q1[shown], 100 * q3[shown], color=line.get_color(), alpha=0.15, linewidth=0)
            if shown.any():
                ceiling = max(ceiling, float(np.max(100 * q3[shown][len(q3[shown]) // 10:])))
        for label, share in TARGETS.items():
            axis.axhline(100 * (table.best_mean_test - table.threshold(share)), color="grey", linestyle=":", linewidth=1)
            axis.text(0, 100 * (table.best_mean_test - table.threshold(share)), f" {label}", color="grey", fontsize=8, va="bottom")
        axis.set_title(panel, fontsize=11)
        axis.set_xlabel("simulated CPU minutes")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    axes[0][0].set_ylabel("test regret (percentage points), median and IQR")
    axes[0][0].set_ylim(bottom=0, top=max(1.0, ceiling * 1.1))
    if title:
        figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
