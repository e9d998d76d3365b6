"""Hand-designed baselines on both video collections, each at its best learning rate from a small grid.

Every model is trained by the same loop (``videomodels.train``) with the same step
budget, batch and seed; the best rate of the grid is chosen on the validation split,
the same split every search uses to rank its candidates.
"""
from __future__ import annotations

from pathlib import Path

from videomodels.data import prepare_cache
from videomodels.train import TrainConfig, train_and_evaluate

from benchmarks.common import TRAIN_THREADS, WORK, motion_cache, record_cache, table
from benchmarks.handdesigned import HAND_DESIGNED, hand_designed_spec
from benchmarks.parallel import job, run_jobs
from benchmarks.scenes import CAMERA_MOVES, make_collection

LR_GRID = (0.003, 0.01, 0.03)
STEPS = 100  # the budget every retrained model gets (hand-designed and evolved alike)
DATASETS = ("motion", "scenes")


def scenes_cache(*, clips_per_class: int = 40, frames: int = 8, size: int = 32) -> Path:
    """The camera-motion collection (benchmarks.scenes), prepared with optical flow."""
    videos = make_collection(WORK / f"scenes-{clips_per_class}", clips_per_class=clips_per_class, frames=16, size=48)
    cache = WORK / f"cache-scenes-{clips_per_class}-{frames}x{size}-flow"
    prepare_cache(videos, cache, frames=frames, size=size, flow=True, val_fraction=0.25, seed=0, progress=False)
    return record_cache(cache)


def dataset_cache(name: str, quick: bool) -> Path:
    if name == "motion":
        return motion_cache(clips_per_class=8 if quick else 48, frames=8, size=32, flow=True)
    return scenes_cache(clips_per_class=8 if quick else 40)


def steps(quick: bool) -> int:
    return 10 if quick else STEPS


def train_config(quick: bool, lr: float) -> TrainConfig:
    return TrainConfig(epochs=None, max_steps=steps(quick), batch_size=16, lr=lr, seed=0, num_threads=TRAIN_THREADS,
                       progress=False, latency_runs=10, warmup_steps=10)


def train_spec(spec, cache: Path, quick: bool, lr: float, out: Path) -> dict:
    result = train_and_evaluate(spec, cache, train_config(quick, lr), out_dir=out)
    return {"top1": result.score, "params": result.params, "macs": result.macs, "latency_ms": result.latency["ms"],
            "train_s": result.train_time_s, "lr": lr}


def train_named(name: str, cache: Path, quick: bool, lr: float, out: Path) -> dict:
    """One hand-designed model at one rate (a job: the spec is built in the worker)."""
    return train_spec(hand_designed_spec(name), cache, quick, lr, out)


def rates(quick: bool) -> tuple[float, ...]:
    return LR_GRID[1:2] if quick else LR_GRID


def best_of(runs: list[dict]) -> dict:
    """The grid's best rate (ties: the smaller) is the model's result."""
    best = max(runs, key=lambda r: (r["top1"], -r["lr"]))
    return {**best, "grid": {f"{r['lr']:g}": r["top1"] for r in runs}}


def grid(name: str, cache: Path, quick: bool, out: Path) -> dict:
    """Every rate of the grid for one model, side by side."""
    return best_of(run_jobs([job(train_named, name, cache, quick, lr, out / f"lr{lr:g}") for lr in rates(quick)]))


def run(quick: bool = False) -> tuple[str, dict]:
    caches = {dataset: dataset_cache(dataset, quick) for dataset in DATASETS}
    keys = [(dataset, name, lr) for dataset in DATASETS for name in HAND_DESIGNED for lr in rates(quick)]
    runs = run_jobs([job(train_named, name, caches[dataset], quick, lr, WORK / "baselines" / dataset / name / f"lr{lr:g}")
                     for dataset, name, lr in keys])
    results: dict[str, dict] = {}
    lines = []
    for dataset in DATASETS:
        results[dataset] = {name: best_of([r for (d, n, _), r in zip(keys, runs) if (d, n) == (dataset, name)])
                            for name in HAND_DESIGNED}
        classes = 10 if dataset == "motion" else len(CAMERA_MOVES)
        rows = [[name, r["top1"], " / ".join(f"{v:.2f}" for v in r["grid"].values()), r["lr"], r["params"], r["macs"] / 1e6,
                 r["latency_ms"], r["train_s"]] for name, r in results[dataset].items()]
        made = ("`data synth` object motion, 10 classes" if dataset == "motion" else
                f"camera motion over OpenCV-drawn scenes with a distractor object (benchmarks/scenes.py), {classes} classes")
        lines += [f"## Hand-designed baselines: {dataset} ({made}; chance {1 / classes:.2f}; 8x32x32 clips)", "",
                  f"{steps(quick)} AdamW steps, batch 16, seed 0, {TRAIN_THREADS} training thread, learning rate grid "
                  f"{', '.join(f'{lr:g}' for lr in rates(quick))} (best on val kept); CPU latency at batch 1, "
                  "median of 10, at the training thread count.", "",
                  table(["model", "val top-1 (best lr)", "top-1 per lr", "best lr", "params", "MMACs", "CPU ms", "train s"], rows), ""]
    return "\n".join(lines), results
