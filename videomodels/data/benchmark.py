"""Clips per second from the memmap cache versus decoding the files every time.

The cache exists to make this ratio large; `compare_loading` measures it so the
claim stays checked (e.g. from the project's `make bench`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from torch.utils.data import Dataset

from .cache import load_cache
from .dataset import ClipDataset, FileClipDataset
from .sampling import StreamRequest


def clips_per_second(dataset: Dataset, items: int) -> float:
    """Read the first `items` items (cycling if the dataset is smaller) and time it."""
    if len(dataset) == 0 or items < 1:
        raise ValueError("need a non-empty dataset and items >= 1 to time loading")
    started = time.perf_counter()
    for i in range(items):
        dataset[i % len(dataset)]
    return items / max(time.perf_counter() - started, 1e-9)


def compare_loading(
    source: str | Path, cache_dir: str | Path, streams: Sequence[StreamRequest] | None = None, *, items: int = 32
) -> dict[str, float]:
    """Training-mode clips/s from the cache at `cache_dir` and from the files of `source`.

    The file path decodes at the cache's frames/size and split settings, so both
    produce the same clips; flow streams make the file path also compute flow.
    """
    cache = load_cache(cache_dir)
    params = cache.index["params"]
    from_cache = ClipDataset(cache, "all", streams, train=True, seed=0)
    from_files = FileClipDataset(
        source, "all", streams, train=True, seed=0, frames=cache.frames, size=cache.size,
        val_fraction=params["val_fraction"], split_seed=params["seed"],
    )
    cache_rate = clips_per_second(from_cache, items)
    file_rate = clips_per_second(from_files, items)
    return {"cache_clips_per_s": cache_rate, "file_clips_per_s": file_rate, "speedup": cache_rate / file_rate}
