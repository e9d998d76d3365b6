"""The real-training confirmation's report: picks by validation, reports test, counts wins per seed."""
from __future__ import annotations

from benchmarks import confirm
from benchmarks.search import Trace


def test_pick_is_by_validation_under_the_cap() -> None:
    trace = Trace()
    for accuracy, latency in ((0.5, 3.0), (0.9, 30.0), (0.7, 9.0)):
        trace.add({"status": "evaluated", "accuracy": accuracy, "latency_ms": latency, "checkpoint": f"c{accuracy}"}, {})
    chosen = confirm.pick(trace, cap=10.0)
    assert chosen["accuracy"] == 0.7 and chosen["checkpoint"] == "c0.7"


def test_report_counts_seeds_ahead_of_random() -> None:
    results = []
    for seed, (evolved, random_, tpe) in enumerate(((0.6, 0.5, 0.4), (0.3, 0.5, 0.6), (0.8, 0.7, None))):
        for strategy, test in zip(confirm.STRATEGIES, (evolved, random_, tpe)):
            results.append({"strategy": strategy, "seed": seed, "candidates": 10, "generations": 5.0 + seed if "evolution" in strategy else None,
                            "val_top1": 0.9, "test_top1": test, "latency_ms": 1.0})
    text = confirm.report(results, budget_s=100, settings=confirm.default_settings(), seeds=3)
    evolution_line = next(line for line in text.splitlines() if line.startswith("| evolution"))
    assert "| 0.600 |" in evolution_line and "2/3" in evolution_line and "0.300-0.800" in evolution_line
    assert "6.0 [5.0-7.0]" in evolution_line  # every seed's generations, not the median alone
    tpe_line = next(line for line in text.splitlines() if line.startswith("| tpe"))
    assert "1/3" in tpe_line and "0.400-0.600" in tpe_line  # a seed with no pick is no win
