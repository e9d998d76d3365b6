"""Decode a dataset once into memory-mapped numpy arrays (the clip cache).

Layout of a cache directory:
  rgb.npy     uint8   [N, T, S, S, 3]  T frames spread over each whole video, short
                                       side resized to S then centre-cropped
  flow.npy    float16 [N, T, S, S, 2]  optional; (u, v) / 20 px, see flow.py
  labels.npy  int64 [N] or float32 multi-hot [N, K]
  index.json  format/version, parameters, class names, per-item source/split/stride,
              bad and skipped files. Written last: its presence marks a complete cache.
The whole directory is built under a temporary name and renamed into place, so an
interrupted prepare never leaves something that looks like a finished cache.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import multiprocessing
import os
import shutil
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from .decode import decode_square
from .errors import CacheError, VideoDecodeError
from .flow import FLOW_CLIP_PX, FLOW_METHOD, compute_flow
from .layouts import VideoIndex, assign_splits, discover

CACHE_FORMAT = "videomodels-clip-cache"
FORMAT_VERSION = 1
INDEX_NAME = "index.json"
_PARTIAL_MARK = ".partial-"


@dataclass(frozen=True)
class BadFile:
    path: str
    reason: str


@dataclass
class PrepareReport:
    """What `prepare_cache` did; `to_dict()` is JSON-safe."""

    cache_dir: str
    source: str
    num_prepared: int
    split_counts: dict[str, int]
    class_names: list[str]
    multilabel: bool
    frames: int
    size: int
    has_flow: bool
    bad_files: list[BadFile] = field(default_factory=list)
    skipped_files: list[BadFile] = field(default_factory=list)
    reused: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class NothingPreparedError(CacheError):
    """Every video of the source was bad; `report` lists them."""

    def __init__(self, message: str, report: PrepareReport) -> None:
        super().__init__(message)
        self.report = report


# ---------------------------------------------------------------- reading


class ClipCache:
    """A prepared cache opened read-only: arrays are memory maps, nothing is loaded eagerly."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.index = read_index(self.directory)
        self._open_arrays()

    def _open_arrays(self) -> None:
        index = self.index
        n, t, s = index["num_items"], index["frames"], index["size"]
        self.rgb = _load_array(self.directory / "rgb.npy", (n, t, s, s, 3), np.uint8)
        self.flow = _load_array(self.directory / "flow.npy", (n, t, s, s, 2), np.float16) if index["has_flow"] else None
        label_shape = (n, len(index["class_names"])) if index["multilabel"] else (n,)
        label_dtype = np.float32 if index["multilabel"] else np.int64
        self.labels = _load_array(self.directory / "labels.npy", label_shape, label_dtype)

    # Memmaps would pickle as full in-memory copies; DataLoader workers started with
    # "spawn" reopen the files instead.
    def __getstate__(self) -> dict[str, Any]:
        return {"directory": self.directory, "index": self.index}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.directory, self.index = state["directory"], state["index"]
        self._open_arrays()

    @property
    def class_names(self) -> list[str]:
        return list(self.index["class_names"])

    @property
    def num_classes(self) -> int:
        return len(self.index["class_names"])

    @property
    def multilabel(self) -> bool:
        return bool(self.index["multilabel"])

    @property
    def frames(self) -> int:
        return int(self.index["frames"])

    @property
    def size(self) -> int:
        return int(self.index["size"])

    @property
    def has_flow(self) -> bool:
        return bool(self.index["has_flow"])

    @property
    def items(self) -> list[dict[str, Any]]:
        return self.index["items"]

    def __len__(self) -> int:
        return int(self.index["num_items"])

    def split_counts(self) -> dict[str, int]:
        return dict(Counter(item["split"] for item in self.items))

    def content_hash(self) -> str:
        """sha256 of what training reads: the arrays, class names and every item's split,
        labels and path inside the source (not where the cache or source lies, nor when it
        was made), so two caches that train identically have the same hash."""
        digest = hashlib.sha256()
        source = Path(self.index["params"]["source"])
        for item in self.items:
            path = Path(item["path"])
            relative = path.relative_to(source).as_posix() if path.is_relative_to(source) else path.name
            digest.update(f"{relative}\0{item['split']}\0{item['labels']}\n".encode())
        digest.update(json.dumps(self.class_names).encode())
        for array in (self.rgb, self.flow, self.labels):
            if array is not None:
                digest.update(str(array.shape).encode())
                digest.update(np.ascontiguousarray(array).data)
        return digest.hexdigest()

    def indices(self, split: str) -> np.ndarray:
        """Item indices of `split` ('train', 'val', 'test' or 'all').

        'val' falls back to 'test' when the cache has no val items (e.g. a dataset
        shipped as train/ + test/), since both mean "held out for evaluation".
        """
        if split == "all":
            return np.arange(len(self), dtype=np.int64)
        if split not in ("train", "val", "test"):
            raise ValueError(f"split must be 'train', 'val', 'test' or 'all', got {split!r}")
        splits = [item["split"] for item in self.items]
        if split == "val" and "val" not in splits:
            split = "test"
        return np.array([i for i, s in enumerate(splits) if s == split], dtype=np.int64)


def read_index(directory: Path) -> dict[str, Any]:
    path = directory / INDEX_NAME
    if not directory.is_dir():
        raise CacheError(f"{directory}: clip cache folder does not exist (create it with `data prepare`)")
    if not path.is_file():
        raise CacheError(f"{directory}: not a clip cache (no {INDEX_NAME}); create one with `data prepare`")
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CacheError(f"{path}: unreadable cache index ({exc})") from None
    if not isinstance(index, dict) or index.get("format") != CACHE_FORMAT:
        raise CacheError(f"{path}: not a {CACHE_FORMAT} index")
    if index.get("format_version") != FORMAT_VERSION:
        raise CacheError(
            f"{path}: cache format version {index.get('format_version')} is not supported "
            f"(expected {FORMAT_VERSION}); re-run `data prepare --force`"
        )
    if not index.get("complete"):
        raise CacheError(f"{path}: cache is incomplete; re-run `data prepare --force`")
    return index


def _load_array(path: Path, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    if not path.is_file():
        raise CacheError(f"{path}: missing cache array; re-run `data prepare --force`")
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise CacheError(f"{path}: unreadable cache array ({exc})") from None
    if array.shape != shape or array.dtype != np.dtype(dtype):
        raise CacheError(f"{path}: expected {np.dtype(dtype)} {shape}, found {array.dtype} {array.shape}")
    return array


def load_cache(directory: str | Path) -> ClipCache:
    """Open a prepared cache read-only (numpy memmaps with mmap_mode='r')."""
    return ClipCache(directory)


# ---------------------------------------------------------------- preparing


def _fingerprint(index: VideoIndex) -> str:
    """Changes whenever a source video is added, removed, relabelled, resplit or modified."""
    digest = hashlib.sha256()
    digest.update(json.dumps(index.class_names).encode())
    for entry in index.entries:
        try:
            stat = entry.path.stat()
            size, mtime = stat.st_size, stat.st_mtime_ns
        except OSError:
            size, mtime = -1, -1
        digest.update(f"{entry.path}\0{entry.labels}\0{entry.split}\0{size}\0{mtime}\n".encode())
    return digest.hexdigest()


def _load_video(path: str, *, frames: int, size: int, flow: bool) -> tuple[str, Any]:
    """Worker: decode + crop (+ flow) one video, or return the reason it is bad.

    Never raises for a bad file, so one broken video cannot stop a pool.
    """
    try:
        picked = decode_square(path, frames, size)
    except VideoDecodeError as exc:
        return "bad", exc.reason
    except Exception as exc:  # noqa: BLE001 - anything FFmpeg/numpy throws at odd files is still "a bad file"
        return "bad", f"unexpected decoding error: {type(exc).__name__}: {exc}"
    clip = picked.frames
    flow_clip = compute_flow(clip).astype(np.float16) if flow else None
    meta = {"source_frames": picked.source_frames, "fps": picked.fps, "stride": picked.stride}
    return "ok", (clip, flow_clip, meta)


def _results(paths: list[str], worker: Any, workers: int) -> Iterator[tuple[str, Any]]:
    if workers <= 0 or len(paths) < 2:
        yield from map(worker, paths)
        return
    # spawn, not fork: the parent may hold torch/OpenMP threads that fork would break.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(worker, paths, chunksize=1)


def _existing_cache_state(out_dir: Path) -> str:
    """'missing', 'empty', 'cache' or 'other' (a folder we must not overwrite)."""
    if not out_dir.exists():
        return "missing"
    if not out_dir.is_dir():
        return "other"
    if (out_dir / INDEX_NAME).is_file():
        return "cache"
    return "empty" if not any(out_dir.iterdir()) else "other"


def _report_from_index(out_dir: Path, index: dict[str, Any], reused: bool, seconds: float) -> PrepareReport:
    return PrepareReport(
        cache_dir=str(out_dir),
        source=index["params"]["source"],
        num_prepared=index["num_items"],
        split_counts=dict(Counter(item["split"] for item in index["items"])),
        class_names=list(index["class_names"]),
        multilabel=index["multilabel"],
        frames=index["frames"],
        size=index["size"],
        has_flow=index["has_flow"],
        bad_files=[BadFile(**b) for b in index["bad_files"]],
        skipped_files=[BadFile(**b) for b in index["skipped_files"]],
        reused=reused,
        seconds=seconds,
    )


def _remove_stale_partials(out_dir: Path) -> None:
    """Delete temp dirs left by prepares that were killed (their process is gone)."""
    for candidate in out_dir.parent.glob(f".{out_dir.name}{_PARTIAL_MARK}*"):
        try:
            pid = int(candidate.name.split(_PARTIAL_MARK, 1)[1].split("-", 1)[0])
            os.kill(pid, 0)
        except (ValueError, IndexError, OverflowError, ProcessLookupError):
            shutil.rmtree(candidate, ignore_errors=True)
        except PermissionError:
            pass  # owned by another live process


def _shrink_rows(path: Path, rows: int) -> None:
    """Rewrite a .npy keeping only its first `rows` rows (after bad files were skipped)."""
    old = np.load(path, mmap_mode="r", allow_pickle=False)
    tmp = path.with_name(path.name + ".shrink")
    new = np.lib.format.open_memmap(tmp, mode="w+", dtype=old.dtype, shape=(rows, *old.shape[1:]))
    chunk = 64
    for start in range(0, rows, chunk):
        stop = min(start + chunk, rows)
        new[start:stop] = old[start:stop]
    new.flush()
    del new, old
    os.replace(tmp, path)


def prepare_cache(
    source: str | Path,
    out_dir: str | Path,
    *,
    frames: int,
    size: int,
    flow: bool,
    val_fraction: float = 0.2,
    test_fraction: float = 0.0,
    seed: int = 0,
    progress: bool = True,
    force: bool = False,
    workers: int = 0,
    refuse: Callable[[Path], str | None] | None = None,
    on_video: Callable[[int, int], None] | None = None,
) -> PrepareReport:
    """Decode every video of `source` once into a clip cache at `out_dir`.

    `source` is a folder-per-class tree, a CSV manifest or a folder holding
    manifest.csv (see layouts.discover). Entries without a user-given split get a
    seeded stratified train/val split (train/val/test with `test_fraction`). Bad videos are skipped and reported; raises
    NothingPreparedError if none is usable. An existing complete cache made from
    the same source files with the same parameters is reused unless `force`.
    `workers` > 0 decodes in that many processes. `refuse(path)` may name a reason to leave a
    file out (for example: it links outside the folders a user may read); such files are
    reported as bad and never opened. `on_video(done, total)` is called after each video is decoded
    (or found bad); an exception it raises stops the preparation and leaves no partial cache.
    """
    started = time.monotonic()
    if frames < 1 or size < 1:
        raise CacheError(f"frames and size must be >= 1 (got frames={frames}, size={size})")
    if not 0.0 <= val_fraction < 1.0:
        raise CacheError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if not 0.0 <= test_fraction < 1.0 or val_fraction + test_fraction >= 1.0:
        raise CacheError(f"test_fraction must be in [0, 1) with val_fraction + test_fraction < 1, got {test_fraction}")
    if seed < 0:
        raise CacheError(f"seed must be >= 0, got {seed}")
    out_dir = Path(out_dir).expanduser().absolute()
    source_path = Path(source).expanduser().absolute()
    index = discover(source_path)
    refused: list[BadFile] = []
    if refuse is not None:
        kept = []
        for entry in index.entries:
            reason = refuse(entry.path)
            if reason:
                refused.append(BadFile(str(entry.path), reason))
            else:
                kept.append(entry)
        index = dataclasses.replace(index, entries=kept)
        if refused and not kept:
            report = PrepareReport(str(out_dir), str(source_path), 0, {}, list(index.class_names), index.multilabel, frames,
                                   size, flow, bad_files=refused)
            raise NothingPreparedError(f"{source_path}: none of the {len(refused)} videos may be read; nothing was prepared",
                                       report)
    index = assign_splits(index, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed)
    params = {
        "source": str(source_path),
        "frames": frames,
        "size": size,
        "flow": flow,
        "val_fraction": val_fraction,
        **({"test_fraction": test_fraction} if test_fraction else {}),  # older caches stay reusable
        "seed": seed,
        "source_fingerprint": _fingerprint(index),
    }

    state = _existing_cache_state(out_dir)
    if state == "other":
        raise CacheError(f"{out_dir}: exists and is not a clip cache; refusing to overwrite it (choose another --out)")
    if state == "cache" and not force:
        try:
            existing = ClipCache(out_dir)
        except CacheError:
            existing = None  # damaged: rebuild
        if existing is not None and existing.index.get("params") == params:
            return _report_from_index(out_dir, existing.index, True, time.monotonic() - started)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(out_dir)
    tmp_dir = out_dir.parent / f".{out_dir.name}{_PARTIAL_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp_dir.mkdir()
    try:
        report = _build(index, tmp_dir, out_dir, params, progress=progress, workers=workers, refused=refused, on_video=on_video)
        trash = None
        if out_dir.exists():
            # Named like a partial dir so a prepare killed right here gets cleaned up later.
            trash = out_dir.parent / f".{out_dir.name}{_PARTIAL_MARK}{os.getpid()}-old-{uuid.uuid4().hex[:8]}"
            os.rename(out_dir, trash)
        try:
            os.rename(tmp_dir, out_dir)
        except OSError:
            if trash is not None:
                os.rename(trash, out_dir)  # put the previous cache back
            raise
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    report.seconds = time.monotonic() - started
    return report


def _build(
    index: VideoIndex, tmp_dir: Path, out_dir: Path, params: dict[str, Any], *, progress: bool, workers: int,
    refused: list[BadFile] = (), on_video: Callable[[int, int], None] | None = None,
) -> PrepareReport:
    frames, size, want_flow = params["frames"], params["size"], params["flow"]
    capacity = len(index.entries)
    rgb = np.lib.format.open_memmap(tmp_dir / "rgb.npy", mode="w+", dtype=np.uint8, shape=(capacity, frames, size, size, 3))
    flow = (
        np.lib.format.open_memmap(tmp_dir / "flow.npy", mode="w+", dtype=np.float16, shape=(capacity, frames, size, size, 2))
        if want_flow
        else None
    )
    items: list[dict[str, Any]] = []
    kept_labels: list[tuple[int, ...]] = []
    bad: list[BadFile] = list(refused)
    worker = functools.partial(_load_video, frames=frames, size=size, flow=want_flow)
    paths = [str(entry.path) for entry in index.entries]
    show = progress and sys.stderr.isatty()
    with tqdm(total=capacity, desc="preparing videos", unit="video", disable=not show) as bar:
        for done, (entry, (status, payload)) in enumerate(zip(index.entries, _results(paths, worker, workers)), start=1):
            bar.update(1)
            if on_video is not None:
                on_video(done, capacity)
            if status == "bad":
                bad.append(BadFile(str(entry.path), payload))
                continue
            clip, flow_clip, meta = payload
            row = len(items)
            rgb[row] = clip
            if flow is not None:
                flow[row] = flow_clip
            items.append({"path": str(entry.path), "split": entry.split, "labels": list(entry.labels), **meta})
            kept_labels.append(entry.labels)
    rgb.flush()
    del rgb
    if flow is not None:
        flow.flush()
        del flow

    report = PrepareReport(
        cache_dir=str(out_dir),
        source=params["source"],
        num_prepared=len(items),
        split_counts=dict(Counter(item["split"] for item in items)),
        class_names=list(index.class_names),
        multilabel=index.multilabel,
        frames=frames,
        size=size,
        has_flow=want_flow,
        bad_files=bad,
        skipped_files=[BadFile(str(s.path), s.reason) for s in index.skipped],
    )
    if not items:
        raise NothingPreparedError(
            f"{params['source']}: none of the {capacity} videos could be decoded; nothing was prepared", report
        )
    if len(items) < capacity:
        _shrink_rows(tmp_dir / "rgb.npy", len(items))
        if want_flow:
            _shrink_rows(tmp_dir / "flow.npy", len(items))

    if index.multilabel:
        labels = np.zeros((len(items), index.num_classes), np.float32)
        for row, label_set in enumerate(kept_labels):
            labels[row, list(label_set)] = 1.0
    else:
        labels = np.array([label_set[0] for label_set in kept_labels], dtype=np.int64)
    np.save(tmp_dir / "labels.npy", labels, allow_pickle=False)

    document = {
        "format": CACHE_FORMAT,
        "format_version": FORMAT_VERSION,
        "complete": True,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "params": params,
        "layout": index.layout,
        "class_names": index.class_names,
        "multilabel": index.multilabel,
        "num_items": len(items),
        "frames": frames,
        "size": size,
        "has_flow": want_flow,
        "flow_method": FLOW_METHOD if want_flow else None,
        "flow_clip_px": FLOW_CLIP_PX if want_flow else None,
        "items": items,
        "bad_files": [asdict(b) for b in report.bad_files],
        "skipped_files": [asdict(s) for s in report.skipped_files],
    }
    # index.json goes last: until it exists the folder is not a cache.
    (tmp_dir / INDEX_NAME).write_text(json.dumps(document, indent=1), encoding="utf-8")
    return report
