"""PyTorch datasets over a clip cache (fast path) or over the video files (benchmark only)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from .cache import ClipCache, load_cache
from .decode import decode_square
from .errors import DataError
from .flow import compute_flow
from .layouts import assign_splits, discover
from .sampling import PadMode, StreamRequest, sample_streams

Sample = tuple[dict[str, torch.Tensor], torch.Tensor]


def item_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    """Per-item generator: the same (seed, epoch, index) gives the same clip in any
    process, so DataLoader workers need no seeding of their own."""
    if seed < 0 or epoch < 0:
        raise ValueError(f"seed and epoch must be >= 0, got seed={seed}, epoch={epoch}")
    return np.random.default_rng([seed, epoch, index])


def _check_split(split: str) -> None:
    if split not in ("train", "val", "test", "all"):
        raise ValueError(f"split must be 'train', 'val', 'test' or 'all', got {split!r}")


def _target(label: np.ndarray | int, multilabel: bool) -> torch.Tensor:
    if multilabel:
        return torch.as_tensor(np.asarray(label, dtype=np.float32).copy())
    return torch.tensor(int(label), dtype=torch.int64)


class ClipDataset(Dataset):
    """Clips sampled from a prepared cache; never decodes video.

    Returns `(streams, target)`: streams maps each StreamRequest name to a float32
    [C, T, size, size] tensor; target is an int64 scalar or a float32 multi-hot [K].
    Sampling is random (temporal position, crop) when `train`, centred otherwise, and
    depends only on (seed, epoch, item index). Call `set_epoch` before each epoch;
    with persistent DataLoader workers the epoch set in the main process does not
    reach the workers, so use non-persistent workers or the same epoch throughout.
    """

    def __init__(
        self,
        cache_or_source: ClipCache | str | Path,
        split: str = "train",
        streams: Sequence[StreamRequest] | None = None,
        train: bool | None = None,
        seed: int = 0,
        *,
        hflip_prob: float = 0.0,
        pad: PadMode = "repeat",
    ) -> None:
        _check_split(split)
        self.cache = cache_or_source if isinstance(cache_or_source, ClipCache) else load_cache(cache_or_source)
        self.split = split
        self.train = split == "train" if train is None else train
        self.seed = seed
        self.epoch = 0
        self.hflip_prob = hflip_prob
        self.pad = pad
        self.streams = list(streams) if streams else [StreamRequest("rgb", "rgb", self.cache.frames, 1, self.cache.size)]
        if any(s.modality == "flow" for s in self.streams) and not self.cache.has_flow:
            raise DataError(f"{self.cache.directory}: a flow stream was requested but the cache has no flow (prepare with --flow)")
        self.item_indices = self.cache.indices(split)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    @property
    def num_classes(self) -> int:
        return self.cache.num_classes

    @property
    def class_names(self) -> list[str]:
        return self.cache.class_names

    @property
    def multilabel(self) -> bool:
        return self.cache.multilabel

    def __len__(self) -> int:
        return len(self.item_indices)

    def __getitem__(self, index: int) -> Sample:
        if not 0 <= index < len(self.item_indices):
            raise IndexError(f"index {index} out of range for {len(self)} clips")
        item = int(self.item_indices[index])
        rng = item_rng(self.seed, self.epoch, item)
        flow = self.cache.flow[item] if self.cache.flow is not None else None
        clips = sample_streams(
            self.cache.rgb[item], flow, self.streams, train=self.train, rng=rng, hflip_prob=self.hflip_prob, pad=self.pad
        )
        return clips, _target(self.cache.labels[item], self.multilabel)


class FileClipDataset(Dataset):
    """Like ClipDataset but decodes the source files on every access.

    Only for benchmarking decode-from-file against the cache: each item decodes
    `frames` frames spread over the video at short side `size` (what prepare does),
    then samples the same streams. Bad files raise VideoDecodeError.
    """

    def __init__(
        self,
        source: str | Path,
        split: str = "train",
        streams: Sequence[StreamRequest] | None = None,
        train: bool | None = None,
        seed: int = 0,
        *,
        frames: int = 16,
        size: int = 64,
        val_fraction: float = 0.2,
        split_seed: int = 0,
        pad: PadMode = "repeat",
    ) -> None:
        _check_split(split)
        self.index = assign_splits(discover(source), val_fraction=val_fraction, seed=split_seed)
        self.split = split
        self.train = split == "train" if train is None else train
        self.seed = seed
        self.epoch = 0
        self.frames, self.size, self.pad = frames, size, pad
        self.streams = list(streams) if streams else [StreamRequest("rgb", "rgb", frames, 1, size)]
        wanted = {"val", "test"} if split == "val" and not any(e.split == "val" for e in self.index.entries) else {split}
        self.entries = [e for e in self.index.entries if split == "all" or e.split in wanted]

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    @property
    def num_classes(self) -> int:
        return self.index.num_classes

    @property
    def class_names(self) -> list[str]:
        return list(self.index.class_names)

    @property
    def multilabel(self) -> bool:
        return self.index.multilabel

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> Sample:
        entry = self.entries[index]
        frames = decode_square(entry.path, self.frames, self.size).frames
        flow = compute_flow(frames) if any(s.modality == "flow" for s in self.streams) else None
        clips = sample_streams(frames, flow, self.streams, train=self.train, rng=item_rng(self.seed, self.epoch, index), pad=self.pad)
        if self.multilabel:
            target = np.zeros(self.num_classes, np.float32)
            target[list(entry.labels)] = 1.0
            return clips, _target(target, True)
        return clips, _target(entry.labels[0], False)
