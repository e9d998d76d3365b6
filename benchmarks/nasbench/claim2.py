"""The seed's claim 2 on the table: searched networks as accurate as hand-designed ones, many times faster.

The hand-designed baselines were trained by the builder on the same clips, with the same steps,
at three learning rates and three seeds each (``baselines.jsonl``). A baseline is scored at the
learning rate its *validation* top-1 prefers (what a user tuning it would pick), and reported on
test, as table rows are. Against the best of them: the table's fastest architecture at least as
accurate on test, its latency ratio, and how often the default search's pick is at least as
accurate, and how fast that pick is.
"""
from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from benchmarks.nasbench.build import read_rows
from benchmarks.nasbench.table import Entry, Table, TableError


@dataclass(frozen=True)
class Baseline:
    name: str
    lr: float  # the rate its mean validation top-1 prefers
    val_top1: float  # means over seeds at the last step count, at that rate
    test_top1: float
    latency_ms: float  # median over its rows (batch 1, one thread)
    params: int
    seeds: int


def read_baselines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise TableError(f"{path}: no baseline rows (the builder trains them first)")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.endswith("\n") and line.strip()]


def pass_latencies(path: Path) -> dict[str, float]:
    """The baselines' figures from the builder's latency pass (``latency.jsonl``), by preset name.
    When the pass ran, the table's architectures take their latency from it too: a ratio then
    compares figures from one machine and one quiet process."""
    return {row["key"]: float(row["latency_ms"]) for row in read_rows(path) if row.get("baseline")}


def best_rate_baselines(rows: Sequence[dict[str, Any]], measured: dict[str, float] | None = None) -> list[Baseline]:
    """One ``Baseline`` per preset, at its best learning rate by validation; best test first.
    ``measured`` (preset -> ms, the latency pass) replaces the latency the training rows recorded."""
    by_rate: dict[tuple[str, float], list[dict[str, Any]]] = {}
    for row in rows:
        by_rate.setdefault((row["baseline"], float(row["lr"])), []).append(row)
    chosen: dict[str, Baseline] = {}
    for (name, lr), group in sorted(by_rate.items()):
        candidate = Baseline(
            name, lr,
            val_top1=statistics.fmean(r["curve"][-1]["val_top1"] for r in group),
            test_top1=statistics.fmean(r["curve"][-1]["test_top1"] for r in group),
            latency_ms=(measured or {}).get(name, statistics.median(r["latency_ms"] for r in group)),
            params=int(group[0]["params"]), seeds=len(group),
        )
        current = chosen.get(name)
        if current is None or candidate.val_top1 > current.val_top1:
            chosen[name] = candidate
    return sorted(chosen.values(), key=lambda b: (-b.test_top1, b.latency_ms, b.name))


def fastest_at_least(table: Table, accuracy: float) -> Entry | None:
    """The lowest-latency architecture whose mean test top-1 is at least ``accuracy``."""
    fit = [entry for entry in table.entries.values() if entry.mean_test >= accuracy]
    return min(fit, key=lambda e: (e.latency_ms, -e.mean_test, e.key)) if fit else None


def final_pick(run: dict[str, Any]) -> str | None:
    picks = run.get("picks") or []
    return picks[-1][1] if picks else None


def claim2(table: Table, baselines: Sequence[Baseline], default_runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The numbers behind the claim; ``default_runs`` are the default search's replays on the table."""
    if not baselines:
        raise TableError("no baselines to compare against")
    best = baselines[0]
    fastest = fastest_at_least(table, best.test_top1)
    picks = [final_pick(run) for run in default_runs]
    picked = [table[key] for key in picks if key is not None and key in table]
    as_accurate = [entry for entry in picked if entry.mean_test >= best.test_top1]
    return {
        "best_baseline": best.__dict__,
        "baselines": [b.__dict__ for b in baselines],
        "fastest_as_accurate": None if fastest is None else {
            "key": fastest.key, "test_top1": fastest.mean_test, "latency_ms": fastest.latency_ms, "params": fastest.params,
            "latency_ratio": best.latency_ms / fastest.latency_ms},
        "default_runs": len(default_runs),
        "default_picks_as_accurate": len(as_accurate),
        "default_found_fastest": sum(key == (fastest.key if fastest else None) for key in picks),
        "default_pick_latency_ratio_median": (statistics.median(best.latency_ms / e.latency_ms for e in as_accurate)
                                               if as_accurate else None),
    }


def markdown(numbers: dict[str, Any], heading: str = "###") -> str:
    best, fastest = numbers["best_baseline"], numbers["fastest_as_accurate"]
    lines = [f"{heading} Claim 2 on the table: as accurate as the hand-designed networks, and how much faster", "",
             "Hand-designed baselines trained by the builder on the same clips and steps, each at the learning rate its "
             "validation top-1 prefers (of three, three seeds each); test top-1 is the mean over seeds:", "",
             "| baseline | learning rate | test top-1 | CPU latency (ms) | params |", "|---|---|---|---|---|"]
    for b in numbers["baselines"]:
        lines.append(f"| {b['name']} | {b['lr']:g} | {b['test_top1']:.3f} | {b['latency_ms']:.2f} | {b['params']:,} |")
    lines.append("")
    if fastest is None:
        lines.append(f"No architecture of the table reaches the best baseline ({best['name']}, {best['test_top1']:.3f}).")
    else:
        lines.append(f"The fastest table architecture at least as accurate as the best baseline ({best['name']}, "
                     f"{best['test_top1']:.3f}) is `{fastest['key']}`: {fastest['test_top1']:.3f} at {fastest['latency_ms']:.2f} ms, "
                     f"**{fastest['latency_ratio']:.1f}x** faster (the seed paper says 10x or more).")
    runs = numbers["default_runs"]
    if runs:
        ratio = numbers["default_pick_latency_ratio_median"]
        lines.append(f"The default search's final pick is at least as accurate as that baseline in "
                     f"{numbers['default_picks_as_accurate']} of {runs} seeds"
                     + (f" (median {ratio:.1f}x faster than it)" if ratio else "")
                     + f"; it is exactly the fastest such architecture in {numbers['default_found_fastest']} (the default "
                     "optimises accuracy, not latency).")
    return "\n".join(lines) + "\n"
