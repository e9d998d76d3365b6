"""Claim 2 on the table: the best baseline at its validation-chosen rate, the fastest table
architecture at least as accurate, and how often the default's pick gets there."""
from __future__ import annotations

import random

import pytest

from benchmarks.nasbench import claim2
from benchmarks.nasbench.table import Table, TableError
from nasbench_rows import fake_row


def _baseline_row(name: str, lr: float, seed: int, val: float, test: float, latency_ms: float) -> dict:
    curve = [{"steps": 108, "train_s": 1.0, "train_loss": 2.0, "val_top1": val, "val_loss": 2.0, "val_eval_s": 0.1,
              "test_top1": test, "test_loss": 2.0, "test_eval_s": 0.1}]
    return {"baseline": name, "lr": lr, "seed": seed, "params": 5000, "latency_ms": latency_ms, "curve": curve}


def test_a_baseline_is_scored_at_the_rate_validation_prefers_not_the_best_test() -> None:
    rows = [_baseline_row("r3d", 0.01, s, val=0.5, test=0.40, latency_ms=20.0) for s in range(3)]
    rows += [_baseline_row("r3d", 0.03, s, val=0.3, test=0.60, latency_ms=20.0) for s in range(3)]  # better test, worse val
    rows += [_baseline_row("2d", 0.01, s, val=0.2, test=0.30 + 0.03 * s, latency_ms=2.0 + s) for s in range(3)]
    baselines = claim2.best_rate_baselines(rows)
    assert [(b.name, b.lr) for b in baselines] == [("r3d", 0.01), ("2d", 0.01)]
    assert baselines[0].test_top1 == pytest.approx(0.40)
    assert baselines[1].test_top1 == pytest.approx(0.33) and baselines[1].latency_ms == 3.0 and baselines[1].seeds == 3


def test_the_latency_pass_replaces_the_baselines_training_time_figures(tmp_path) -> None:
    import json

    rows = [_baseline_row("r3d", 0.01, s, val=0.5, test=0.40, latency_ms=20.0 + s) for s in range(3)]
    rows += [_baseline_row("2d", 0.01, 0, val=0.2, test=0.3, latency_ms=2.0)]
    path = tmp_path / "latency.jsonl"
    path.write_text(json.dumps({"key": "r3d", "baseline": True, "latency_ms": 30.5}) + "\n"
                    + json.dumps({"key": "f4s16r0|std.1d.c16.cg0", "latency_ms": 0.4}) + "\n")
    measured = claim2.pass_latencies(path)
    assert measured == {"r3d": 30.5}  # grid rows are the table's business
    by_name = {b.name: b for b in claim2.best_rate_baselines(rows, measured)}
    assert by_name["r3d"].latency_ms == 30.5 and by_name["2d"].latency_ms == 2.0
    assert claim2.pass_latencies(tmp_path / "absent.jsonl") == {}


def test_fastest_as_accurate_latency_ratio_and_the_default_picks() -> None:
    rng = random.Random(0)
    keys = ["f4s16r5|std.1d.c16.cg0", "f8s20r5|std.1d.c32.cg0", "f4s16r0|std.1d.c16.cg0", "f8s20r5|depth.mp.c32.cg1"]
    quality = {keys[0]: 0.55, keys[1]: 0.8, keys[2]: 0.1, keys[3]: 0.6}
    latency = {keys[0]: 1.0, keys[1]: 8.0, keys[2]: 0.5, keys[3]: 4.0}
    table = Table([fake_row(k, 0, quality[k], rng, latency_ms=latency[k]) for k in keys])
    threshold = min(table[keys[0]].mean_test, table[keys[3]].mean_test)
    best = claim2.Baseline("r3d", 0.01, val_top1=0.5, test_top1=threshold, latency_ms=20.0, params=5000, seeds=3)
    runs = [{"picks": [(1.0, keys[2]), (5.0, keys[1])]}, {"picks": [(2.0, keys[2])]}, {"picks": []}]
    numbers = claim2.claim2(table, [best], runs)
    fastest = numbers["fastest_as_accurate"]
    assert fastest["key"] == keys[0] and fastest["latency_ratio"] == pytest.approx(20.0)
    assert numbers["default_picks_as_accurate"] == 1 and numbers["default_found_fastest"] == 0
    assert numbers["default_pick_latency_ratio_median"] == pytest.approx(20.0 / 8.0)
    text = claim2.markdown(numbers)
    assert "20.0x" in text and keys[0] in text and "1 of 3 seeds" in text


def test_no_architecture_as_accurate_is_said_and_missing_baselines_are_an_error(tmp_path) -> None:
    table = Table([fake_row("f4s16r0|std.1d.c16.cg0", 0, 0.1, random.Random(1), latency_ms=1.0)])
    best = claim2.Baseline("r3d", 0.01, val_top1=0.9, test_top1=0.95, latency_ms=20.0, params=1, seeds=1)
    numbers = claim2.claim2(table, [best], [])
    assert numbers["fastest_as_accurate"] is None
    assert "No architecture of the table reaches" in claim2.markdown(numbers)
    with pytest.raises(TableError, match="no baseline rows"):
        claim2.read_baselines(tmp_path / "baselines.jsonl")
