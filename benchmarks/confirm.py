"""Does the default search's win on the table carry over to real training on other videos?

``python -m benchmarks.confirm [--seeds 5] [--budget-s S] [--workers N]``: the default evolution
(``SearchConfig``'s own defaults, as a user gets them), random search and TPE + Hyperband, each
with the same CPU-second budget per run, on the camera-motion collection (``benchmarks/scenes.py``:
no table was built on it and no default was tuned on it). Each run's pick is the candidate with
the best *validation* top-1 under the latency cap; what is reported is that model's top-1 on a
held-out *test* split it never saw. Too long for ``make bench`` (5 seeds x 3 strategies at a
budget where evolution reaches 5 generations): it writes its own section,
``var/bench/sections/confirm.md``, and puts it in docs/BENCHMARKS.md beside the others.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from videomodels import ArchSpec
from videomodels.data import ClipDataset, prepare_cache
from videomodels.train.checkpoint import load_checkpoint
from videomodels.train.datasets import DataBundle
from videomodels.train.loop import evaluate
from videomodels.train.specs import streams_for_spec

from archsearch.config import SearchConfig

from benchmarks.common import CACHES_USED, ROOT, WORK, machine, record_cache, table
from benchmarks.document import write
from benchmarks.parallel import job, run_jobs
from benchmarks.scenes import make_collection
from benchmarks.search import SETTINGS, Trace, generations_reached, run_evolution, run_peer

STRATEGIES = ("evolution (default)", "random", "tpe + hyperband")
STORE = WORK / "sections"


def scenes_cache(*, clips_per_class: int = 40) -> Path:
    """The camera-motion collection in train / validation / test splits (50/25/25, stratified)."""
    videos = make_collection(WORK / f"scenes-{clips_per_class}", clips_per_class=clips_per_class)
    cache = WORK / f"scenes-{clips_per_class}-cache-3split"
    prepare_cache(videos, cache, frames=8, size=32, flow=False, val_fraction=0.25, test_fraction=0.25, seed=0, progress=False)
    return record_cache(cache)


def default_settings() -> dict[str, Any]:
    """The benchmark's shared settings with the search's shipped defaults for population,
    tournament and rungs, so the default evolution row is what a user runs."""
    defaults = SearchConfig(family="tvn")
    return {**SETTINGS, "population": defaults.population, "tournament_size": defaults.tournament_size,
            "low_steps": defaults.low_steps, "high_steps": defaults.high_steps}


def test_top1(checkpoint: str, cache: Path) -> float:
    """Top-1 of a trained candidate on the test split."""
    model, meta = load_checkpoint(checkpoint)
    dataset = ClipDataset(cache, "test", streams_for_spec(ArchSpec.from_json(meta["spec"])), train=False, seed=0)
    loader = DataLoader(dataset, batch_size=32, shuffle=False, generator=torch.Generator().manual_seed(0))
    bundle = DataBundle(None, None, dataset.cache.num_classes, dataset.cache.class_names, dataset.cache.multilabel)
    return float(evaluate(model, loader, bundle, torch.device("cpu"))["top1"])


def pick(trace: Trace, cap: float) -> dict | None:
    """What the strategy would ship: the best validation top-1 under the latency cap."""
    return trace.best(cap)


def run_one(strategy: str, seed: int, cache: Path, budget_s: float, settings: dict) -> dict[str, Any]:
    out = WORK / "confirm" / f"{strategy.split()[0]}-{seed}"
    if strategy.startswith("evolution"):
        trace = run_evolution("tvn", seed, cache, out, budget_s=budget_s, settings=settings)[0]
    else:
        trace = run_peer(strategy, "tvn", seed, cache, out, budget_s=budget_s, settings=settings)
    chosen = pick(trace, settings["latency_cap_ms"])
    return {
        "strategy": strategy, "seed": seed, "candidates": len(trace.evaluated()),
        "generations": generations_reached(trace, settings["population"]) if strategy.startswith("evolution") else None,
        "val_top1": chosen["accuracy"] if chosen else None,
        "test_top1": test_top1(chosen["checkpoint"], cache) if chosen and chosen.get("checkpoint") else None,
        "latency_ms": chosen["latency_ms"] if chosen else None,
    }


def report(results: list[dict], *, budget_s: float, settings: dict, seeds: int) -> str:
    rows = []
    by_strategy = {s: [r for r in results if r["strategy"] == s] for s in STRATEGIES}
    reference = {r["seed"]: r["test_top1"] for r in by_strategy["random"]}
    for strategy, runs in by_strategy.items():
        tests = [r["test_top1"] for r in runs if r["test_top1"] is not None]
        wins = sum(1 for r in runs if r["test_top1"] is not None and reference.get(r["seed"]) is not None
                   and r["test_top1"] > reference[r["seed"]])
        generations = [r["generations"] for r in runs if r["generations"] is not None]
        rows.append([strategy, f"{statistics.median(tests):.3f}" if tests else "–",
                     f"{min(tests):.3f}-{max(tests):.3f}" if tests else "–",
                     statistics.median(r["val_top1"] or 0.0 for r in runs),
                     "–" if strategy == "random" else f"{wins}/{len(runs)}",
                     statistics.median(r["candidates"] for r in runs),
                     f"{statistics.median(generations):.1f} [{min(generations):.1f}-{max(generations):.1f}]" if generations else "–"])
    lines = [
        "## Confirmation on real training (camera-motion collection, test split)", "",
        f"{seeds} seeds per strategy, {budget_s:.0f} CPU s per run, latency cap {settings['latency_cap_ms']} ms, "
        f"population {settings['population']}, rungs {settings['low_steps']}/{settings['high_steps']} steps. "
        "Each run ships the candidate with the best validation top-1; the table gives that model's top-1 on the "
        "test split (never used for selection). Weight inheritance and everything else run as in the product.", "",
        table(["strategy", "test top-1 of the pick (median)", "range", "its validation top-1", "seeds ahead of random",
               "candidates trained", "generations (median [min-max])"], rows), "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.confirm", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget-s", type=float, default=600.0, help="CPU seconds per run (default 600)")
    parser.add_argument("--clips-per-class", type=int, default=40)
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.budget_s <= 0:
        parser.error("--seeds must be >= 1 and --budget-s > 0")
    settings = default_settings()
    cache = scenes_cache(clips_per_class=args.clips_per_class)
    results = run_jobs([job(run_one, strategy, seed, cache, args.budget_s, settings)
                        for seed in range(args.seeds) for strategy in STRATEGIES])
    text = report(results, budget_s=args.budget_s, settings=settings, seeds=args.seeds)
    STORE.mkdir(parents=True, exist_ok=True)
    caches = ", ".join(f"{name} sha256 {digest}" for name, digest in CACHES_USED.items())
    (STORE / "confirm.md").write_text(f"_Measured on {machine()}; clip cache {caches}._\n\n" + text)
    (STORE / "confirm.json").write_text(json.dumps(results, indent=1))
    print(text)
    print(f"wrote {write(STORE, ROOT / 'docs' / 'BENCHMARKS.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
