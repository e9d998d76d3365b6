"""Turn the ``data`` argument of a run into train and val datasets.

``data`` may be:
  * a prepared clip cache folder (it holds index.json) or a ``ClipCache``;
  * a raw video source (folder per class, CSV manifest, folder with manifest.csv):
    a cache sized for the spec is prepared first (see specs.cache_shape_for_spec);
  * ready datasets: a ``(train, val)`` pair, a ``{"train": ..., "val": ...}`` dict
    or a ``DataBundle``. Items must be ``(dict[input_id, FloatTensor[C,T,H,W]],
    target)`` and the train set must have ``num_classes`` (``class_names`` and
    ``multilabel`` are optional).
"""
from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch.utils.data import Dataset

from videomodels.archspec import ArchSpec
from videomodels.data import ClipCache, ClipDataset, StreamRequest, load_cache, prepare_cache
from videomodels.data.cache import INDEX_NAME

from .errors import TrainError
from .specs import cache_shape_for_spec


@dataclass
class DataBundle:
    train: Dataset
    val: Dataset
    num_classes: int
    class_names: list[str]
    multilabel: bool
    # JSON-able description of where the data came from, for metrics.json.
    info: dict[str, Any] = field(default_factory=dict)


def is_cache_dir(path: str | Path) -> bool:
    return (Path(path) / INDEX_NAME).is_file()


def prepare_for_spec(source: str | Path, cache_dir: str | Path, spec: ArchSpec, *, seed: int = 0, progress: bool = True):
    """Prepare (or reuse) a cache of ``source`` big enough for every input of ``spec``."""
    shape = cache_shape_for_spec(spec)
    return prepare_cache(source, cache_dir, frames=int(shape["frames"]), size=int(shape["size"]),
                         flow=bool(shape["flow"]), seed=seed, progress=progress)


def resolve_datasets(
    data: Any, spec: ArchSpec, streams: Sequence[StreamRequest], *, seed: int, prepare_dir: Path | None, progress: bool = True
) -> DataBundle:
    """See the module docstring. ``prepare_dir`` is where a raw source's cache goes."""
    if isinstance(data, DataBundle):
        return data
    if isinstance(data, Mapping):
        if "train" not in data or "val" not in data:
            raise TrainError("a datasets dict needs 'train' and 'val' entries")
        return _from_datasets(data["train"], data["val"])
    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise TrainError(f"datasets must be a (train, val) pair, got {len(data)} items")
        return _from_datasets(*data)
    if isinstance(data, ClipCache):
        return _from_cache(data, streams, seed, prepared=None)
    if isinstance(data, (str, Path)):
        path = Path(data).expanduser()
        if not path.exists():
            raise TrainError(f"{data}: data path does not exist")
        if is_cache_dir(path):
            return _from_cache(load_cache(path), streams, seed, prepared=None)
        if prepare_dir is None:
            raise TrainError(f"{data}: is a raw video source; give an output folder to prepare its cache in")
        report = prepare_for_spec(path, prepare_dir, spec, seed=seed, progress=progress)
        return _from_cache(load_cache(report.cache_dir), streams, seed, prepared=report.to_dict())
    raise TrainError(f"unsupported data argument of type {type(data).__name__}")


def _from_cache(cache: ClipCache, streams: Sequence[StreamRequest], seed: int, prepared: dict | None) -> DataBundle:
    longest = max(s.span for s in streams)
    if longest > cache.frames:
        # Sampling would repeat edge frames: the model sees frozen motion at the ends.
        warnings.warn(f"{cache.directory}: streams span {longest} frames but the cache stores {cache.frames}; "
                      "edge frames will be repeated (prepare the cache with more frames)", stacklevel=3)
    train = ClipDataset(cache, "train", list(streams), train=True, seed=seed)
    val = ClipDataset(cache, "val", list(streams), train=False, seed=seed)
    for name, dataset in (("train", train), ("val", val)):
        if len(dataset) == 0:
            raise TrainError(f"{cache.directory}: the cache has no {name} clips (prepare it with a val fraction > 0 "
                             "and enough videos per class)")
    info = {"kind": "cache", "cache_dir": str(cache.directory), "cache_frames": cache.frames, "cache_size": cache.size,
            "has_flow": cache.has_flow, "num_train": len(train), "num_val": len(val)}
    if prepared is not None:
        info["prepared"] = prepared
    return DataBundle(train, val, cache.num_classes, cache.class_names, cache.multilabel, info)


def _from_datasets(train: Dataset, val: Dataset) -> DataBundle:
    num_classes = getattr(train, "num_classes", None)
    if not isinstance(num_classes, int) or num_classes < 1:
        raise TrainError("the train dataset must have a positive int attribute num_classes")
    names = list(getattr(train, "class_names", None) or [str(i) for i in range(num_classes)])
    if len(names) != num_classes:
        raise TrainError(f"class_names has {len(names)} entries but num_classes is {num_classes}")
    if len(train) == 0 or len(val) == 0:
        raise TrainError(f"empty dataset: {len(train)} train and {len(val)} val items")
    info = {"kind": "datasets", "num_train": len(train), "num_val": len(val)}
    return DataBundle(train, val, num_classes, names, bool(getattr(train, "multilabel", False)), info)
