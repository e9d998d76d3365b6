"""The benchmark's data: the motion benchmark in three splits, rebuilt from a recipe.

Every table row was measured on one clip cache; its content hash is in the table's
provenance, and `recipe_commands` are the exact commands that rebuild it anywhere.
"""
from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from videomodels.data import load_cache, prepare_cache, synthesize

# Fixed once, before the first row was trained: changing any of these makes a new table.
RECIPE = {
    "clips_per_class": 48,  # 10 classes: 240 train, 120 validation, 120 test clips
    "synth_seed": 0,
    "synth_frames": 16,
    "synth_size": 48,
    "frames": 8,
    "size": 32,
    "val_fraction": 0.25,
    "test_fraction": 0.25,
    "split_seed": 0,
}


def recipe_commands(videos: str = "nasbench-videos", cache: str = "nasbench-cache") -> list[str]:
    r = RECIPE
    return [
        f"python -m videomodels data synth {shlex.quote(videos)} --clips-per-class {r['clips_per_class']} "
        f"--seed {r['synth_seed']} --frames {r['synth_frames']} --size {r['synth_size']}",
        f"python -m videomodels data prepare {shlex.quote(videos)} --frames {r['frames']} --size {r['size']} "
        f"--val-fraction {r['val_fraction']} --test-fraction {r['test_fraction']} --seed {r['split_seed']} "
        f"--out {shlex.quote(cache)}",
    ]


def build_cache(work: Path) -> Path:
    """The recipe, run in-process under ``work`` (reused when already there)."""
    r = RECIPE
    videos = work / "videos"
    if not (videos / ".complete").exists():
        if videos.exists():  # a synthesis killed half-way
            shutil.rmtree(videos)
        synthesize(videos, clips_per_class=r["clips_per_class"], seed=r["synth_seed"], frames=r["synth_frames"],
                   size=r["synth_size"])
        (videos / ".complete").write_text("ok")
    cache = work / "cache"
    prepare_cache(videos, cache, frames=r["frames"], size=r["size"], flow=False, val_fraction=r["val_fraction"],
                  test_fraction=r["test_fraction"], seed=r["split_seed"], progress=False)
    return cache


def cache_hash(cache: Path) -> str:
    return load_cache(cache).content_hash()
