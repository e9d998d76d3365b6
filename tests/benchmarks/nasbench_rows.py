"""A small made-up table for the benchmark's tests: real grid keys, plausible curves and costs.

The real table takes CPU hours to build and is never rebuilt in CI; these rows have its
format (``benchmarks.nasbench.build.train_row``) and its shape: accuracy rises with the
fidelity, representation flow and width help, seeds disagree by a few clips.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

from benchmarks.nasbench.build import STEPS
from benchmarks.nasbench.space import enumerate_grid

CLIPS = 120  # validation and test clips: top-1 moves in steps of one clip


def _clip(value: float) -> float:
    return round(min(1.0, max(0.0, value)) * CLIPS) / CLIPS


def fake_row(key: str, seed: int, quality: float, rng: random.Random, *, latency_ms: float | None = None) -> dict:
    """One row whose last-fidelity accuracy is about ``quality`` (per-seed noise added)."""
    arch_steps = len(key.split("|")) - 1
    per_step = 0.02 + 0.02 * arch_steps  # CPU seconds of one training step
    curve = []
    for share, steps in zip((0.35, 0.75, 1.0), STEPS):
        level = 0.1 + share * (quality - 0.1)
        val, test = (_clip(level + rng.gauss(0, 0.03)) for _ in range(2))
        curve.append({"steps": steps, "train_s": per_step * steps, "train_loss": 2.3 - 1.5 * (level - 0.1),
                      "val_top1": val, "val_loss": 2.0, "val_eval_s": 0.1, "test_top1": test, "test_loss": 2.0, "test_eval_s": 0.1})
    return {"key": key, "seed": seed, "params": 1000 * (1 + arch_steps), "macs": 10**6 * (1 + arch_steps),
            "latency_ms": latency_ms if latency_ms is not None else 1.0 + 2.0 * arch_steps + rng.random(),
            "latency_s": 0.05, "curve": curve, "final_val_top1": curve[-1]["val_top1"], "steps": STEPS[-1], "stop_reason": None,
            "setup_s": 1.5, "cpu_s": 1.5 + per_step * STEPS[-1], "wall_s": 2.0, "host": "test", "finished": "2026-12-04T00:00:00+00:00"}


def quality_of(key: str, rng: random.Random) -> float:
    """A made-up architecture quality: flow and wide blocks help, plus an architecture's own luck."""
    head, *blocks = key.split("|")
    value = 0.15 + (0.25 if head.endswith("r5") else 0.0) + 0.05 * sum(".c32." in b for b in blocks)
    return value + rng.gauss(0, 0.05)


def write_fixture_table(path: Path, *, count: int = 40, seed: int = 0, every: int = 53) -> Path:
    """``count`` grid architectures (every ``every``-th of the grid), three seeds for every fifth."""
    rng = random.Random(seed)
    keys = [arch.key() for arch in enumerate_grid()][::every][:count]
    rows = []
    for index, key in enumerate(keys):
        quality = quality_of(key, rng)
        for run_seed in ((0, 1, 2) if index % 5 == 0 else (0,)):
            rows.append(fake_row(key, run_seed, quality, rng))
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path
