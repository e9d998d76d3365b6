"""The bytes of a small motion benchmark and of the clip cache prepared from it."""
from __future__ import annotations

import hashlib
from pathlib import Path

from videomodels.data import load_cache, prepare_cache, synthesize


def tree_sha256(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def synth_and_cache_hashes(out: Path) -> dict[str, str]:
    videos, cache = out / "videos", out / "cache"
    synthesize(videos, clips_per_class=2, seed=0, frames=8, size=32)
    # 32 -> 24 px: a non-integer resize, the case where vector code rounds differently.
    prepare_cache(videos, cache, frames=6, size=24, flow=False, val_fraction=0.25, test_fraction=0.25, seed=0,
                  progress=False)
    return {"videos": tree_sha256(videos), "cache": load_cache(cache).content_hash()}
