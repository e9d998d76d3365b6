"""Hand-designed baselines on the motion benchmark, all trained by the same loop and budget."""
from __future__ import annotations

from videomodels.presets import get_preset
from videomodels.train import TrainConfig, train_and_evaluate

from benchmarks.common import TRAIN_THREADS, WORK, motion_cache, table

BASELINES = ("baseline-2d", "baseline-r2plus1d", "baseline-r3d", "tvn-small", "assemblenet-small")


def budget(quick: bool) -> TrainConfig:
    return TrainConfig(epochs=None, max_steps=20 if quick else 300, batch_size=16, lr=0.01, seed=0,
                       num_threads=TRAIN_THREADS, progress=False, latency_runs=10, warmup_steps=10)


def train_baseline(name: str, cache, quick: bool) -> dict:
    result = train_and_evaluate(get_preset(name), cache, budget(quick), out_dir=WORK / "baselines" / name)
    return {"top1": result.score, "params": result.params, "macs": result.macs, "latency_ms": result.latency["ms"],
            "train_s": result.train_time_s}


def run(quick: bool = False) -> tuple[str, dict]:
    cache = motion_cache(clips_per_class=8 if quick else 48, frames=8, size=32, flow=True)
    results = {name: train_baseline(name, cache, quick) for name in BASELINES}
    chance = 0.1
    reference = results["baseline-2d"]
    rows = [[name, r["top1"], r["top1"] / max(reference["top1"], 1e-9), r["params"], r["macs"] / 1e6, r["latency_ms"], r["train_s"]]
            for name, r in results.items()]
    steps = budget(quick).max_steps
    lines = [f"## Baselines on the motion benchmark (10 classes, chance {chance:.2f}; 8x32x32 clips; {steps} AdamW steps at lr 0.01, batch 16)", "",
             f"Every model trained by `videomodels.train` with the same budget and seed ({TRAIN_THREADS} training thread); "
             "latency at batch 1, median of 10, at the training loop's thread count.", "",
             table(["model", "val top-1", "vs single-frame", "params", "MMACs", "CPU ms", "train s"], rows), ""]
    return "\n".join(lines), results
