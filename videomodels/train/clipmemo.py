"""Sampled clips kept on the training device for the life of the process.

A search trains many candidates in one worker on the same clip cache with the same seed, so
candidate after candidate samples exactly the same clips: clip (seed, epoch, item) of a
``ClipDataset`` depends on nothing else (videomodels.data.dataset). Sampling one costs a
crop, a resize and a normalisation on the CPU, then a copy to the GPU. The memo keeps each
sampled clip, already on the device, keyed by everything it depends on, so a later candidate
(or epoch of val passes) takes it from there: the numbers are the same, only the work is not
done twice. Its size is capped (``VIDEOMODELS_CLIP_MEMO_MB``, default 256 MB per process);
the least recently used clips leave first.

Only ``ClipDataset`` items are kept, and only with ``num_workers=0`` (loader processes must
not hold CUDA tensors); any other dataset passes through untouched.
"""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any

import torch
from torch.utils.data import Dataset

from videomodels.data import ClipDataset
from videomodels.data.cache import INDEX_NAME

DEFAULT_MB = 256


def _nbytes(sample: Any) -> int:
    inputs, target = sample
    return sum(t.numel() * t.element_size() for t in inputs.values()) + target.numel() * target.element_size()


class ClipMemo:
    """A size-capped LRU of sampled clips: key -> (inputs on device, target on device)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.used = 0
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple):
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, key: tuple, sample) -> None:
        size = _nbytes(sample)
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                return
            while self._items and self.used + size > self.max_bytes:
                _, (_, freed) = self._items.popitem(last=False)
                self.used -= freed
            self._items[key] = (sample, size)
            self.used += size

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.used = 0

    def stats(self) -> dict[str, int]:
        return {"clips": len(self._items), "bytes": self.used, "hits": self.hits, "misses": self.misses}


_memo: ClipMemo | None = None


def process_memo() -> ClipMemo:
    """The memo of this process (one per worker), sized by VIDEOMODELS_CLIP_MEMO_MB."""
    global _memo
    if _memo is None:
        megabytes = float(os.environ.get("VIDEOMODELS_CLIP_MEMO_MB", DEFAULT_MB))
        _memo = ClipMemo(int(max(0.0, megabytes) * 2**20))
    return _memo


def _cache_identity(dataset: ClipDataset) -> tuple:
    """Which cache, as built: a cache prepared again at the same path is another cache."""
    index = dataset.cache.directory / INDEX_NAME
    stat = index.stat()
    return str(dataset.cache.directory), stat.st_mtime_ns, stat.st_size


class MemoClips(Dataset):
    """``dataset``'s items, sampled once per process and kept on ``device``."""

    def __init__(self, dataset: ClipDataset, device: torch.device, memo: ClipMemo):
        self.dataset = dataset
        self.device = device
        self.memo = memo
        streams = tuple((s.name, s.modality, s.frames, s.frame_stride, s.size) for s in dataset.streams)
        self.prefix = (_cache_identity(dataset), str(device), dataset.split, streams, dataset.train, dataset.seed,
                       dataset.hflip_prob, dataset.pad)

    # What the training loop and the metrics read from a dataset.
    def set_epoch(self, epoch: int) -> None:
        self.dataset.set_epoch(epoch)

    def __getattr__(self, name: str):
        if name == "dataset":  # not set yet (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        # Centred val clips do not depend on the epoch; training clips do.
        key = (*self.prefix, self.dataset.epoch if self.dataset.train else None, index)
        sample = self.memo.get(key)
        if sample is None:
            inputs, target = self.dataset[index]
            non_blocking = self.device.type == "cuda"
            sample = ({k: v.to(self.device, non_blocking=non_blocking) for k, v in inputs.items()},
                      target.to(self.device, non_blocking=non_blocking))
            self.memo.put(key, sample)
        return sample


def memoized(dataset: Dataset, device: torch.device, memo: ClipMemo | None = None) -> Dataset:
    """``dataset`` behind the process's clip memo when its items can be kept (a ClipDataset)."""
    if not isinstance(dataset, ClipDataset):
        return dataset
    memo = memo or process_memo()
    if memo.max_bytes <= 0:
        return dataset
    return MemoClips(dataset, device, memo)
