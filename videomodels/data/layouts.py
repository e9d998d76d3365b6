"""Find the videos and labels of a dataset on disk.

Two layouts are understood:
  * folder-per-class (UCF-101/HMDB): ROOT/<class>/**/<video>, optionally split as
    ROOT/train/<class>/..., ROOT/val/<class>/... (or test/);
  * a CSV manifest (Charades-style multi-label): columns `path`, `labels`, optional `split`.
Videos are recognised by extension only; whether they really decode is checked later
so that broken files get reported by name instead of silently disappearing.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .decode import VIDEO_EXTENSIONS
from .errors import LayoutError

MANIFEST_NAME = "manifest.csv"
SPLITS = ("train", "val", "test")
_SPLIT_ALIASES = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}


@dataclass(frozen=True)
class VideoEntry:
    path: Path
    labels: tuple[int, ...]  # class indices; exactly one unless the index is multilabel
    split: str | None = None  # None until a split is assigned


@dataclass(frozen=True)
class SkippedFile:
    path: Path
    reason: str


@dataclass
class VideoIndex:
    """The videos of a dataset with their labels, class names and (maybe) splits."""

    root: Path
    layout: str  # "folders" or "csv"
    class_names: list[str]
    multilabel: bool
    entries: list[VideoEntry]
    skipped: list[SkippedFile] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def split_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for entry in self.entries:
            counts[entry.split or "unassigned"] += 1
        return dict(counts)


def _is_hidden(path: Path) -> bool:
    return path.name.startswith(".")


def _is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS


def discover(path: str | Path) -> VideoIndex:
    """Index a folder-per-class tree, a CSV manifest, or a folder holding `manifest.csv`."""
    path = Path(path).expanduser()
    if not path.exists():
        raise LayoutError(f"{path}: dataset source does not exist")
    if path.is_file():
        if path.suffix.lower() != ".csv":
            raise LayoutError(f"{path}: expected a folder (one subfolder per class) or a .csv manifest")
        return read_manifest(path)
    if (path / MANIFEST_NAME).is_file():
        return read_manifest(path / MANIFEST_NAME)
    return scan_class_folders(path)


# ---------------------------------------------------------------- folder-per-class


def _subdirs(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir() and not _is_hidden(p))


def _scan_class_tree(root: Path) -> tuple[dict[str, list[Path]], list[SkippedFile]]:
    """Videos per class folder under `root`, plus files that were not taken and why."""
    videos: dict[str, list[Path]] = {}
    skipped: list[SkippedFile] = []
    for item in sorted(root.iterdir()):
        if item.is_file():
            skipped.append(SkippedFile(item, "not inside a class folder"))
    for class_dir in _subdirs(root):
        found: list[Path] = []
        for file in sorted(class_dir.rglob("*")):
            if not file.is_file():
                continue
            relative_parts = file.relative_to(class_dir).parts
            if any(part.startswith(".") for part in relative_parts):
                skipped.append(SkippedFile(file, "hidden file"))
            elif not _is_video(file):
                skipped.append(SkippedFile(file, f"not a video extension ({file.suffix or 'none'})"))
            else:
                found.append(file)
        videos[class_dir.name] = found
    return videos, skipped


def scan_class_folders(root: Path) -> VideoIndex:
    """Folder-per-class layout; top-level train/ and val/ (or test/) folders give the split."""
    if not root.is_dir():
        raise LayoutError(f"{root}: not a folder")
    top = {p.name.lower(): p for p in _subdirs(root)}
    split_dirs = {name: p for name, p in top.items() if name in _SPLIT_ALIASES}
    is_split_layout = bool(top) and set(top) == set(split_dirs) and "train" in {_SPLIT_ALIASES[n] for n in split_dirs}

    per_split: dict[str | None, dict[str, list[Path]]] = {}
    skipped: list[SkippedFile] = []
    if is_split_layout:
        for name, split_root in sorted(split_dirs.items()):
            classes, extra = _scan_class_tree(split_root)
            merged = per_split.setdefault(_SPLIT_ALIASES[name], {})  # val/ and validation/ merge
            for class_name, files in classes.items():
                merged.setdefault(class_name, []).extend(files)
            skipped += extra
        skipped += [SkippedFile(p, "not inside a split/class folder") for p in sorted(root.iterdir()) if p.is_file()]
    else:
        per_split[None], skipped = _scan_class_tree(root)

    class_names = sorted({name for classes in per_split.values() for name, files in classes.items() if files})
    if not class_names:
        raise LayoutError(
            f"{root}: no videos found; expected {root}/<class>/<video> "
            f"(or {root}/train/<class>/<video>) with extensions {', '.join(sorted(VIDEO_EXTENSIONS))}"
        )
    label_of = {name: i for i, name in enumerate(class_names)}
    entries = [
        VideoEntry(file, (label_of[name],), split)
        for split, classes in per_split.items()
        for name, files in sorted(classes.items())
        for file in files
    ]
    return VideoIndex(root, "folders", class_names, False, entries, skipped)


# ---------------------------------------------------------------- CSV manifest


def _label_separator(cells: list[str]) -> str:
    # One separator per file so a label can contain spaces when ';' or '|' is used.
    if any(";" in c for c in cells):
        return ";"
    if any("|" in c for c in cells):
        return r"\|"  # a regex, like the whitespace case below
    return r"\s+"


def read_manifest(csv_path: Path) -> VideoIndex:
    """CSV with a header naming `path` and `labels` (and optionally `split`) columns.

    Relative paths are relative to the CSV's folder. Labels are separated by ';', '|'
    or whitespace. Classes are the sorted union of all labels; the index is multilabel
    unless every row has exactly one label.
    """
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip().lower() for h in (reader.fieldnames or [])]
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LayoutError(f"{csv_path}: cannot read manifest ({exc})") from None
    missing = [name for name in ("path", "labels") if name not in header]
    if missing:
        raise LayoutError(
            f"{csv_path}: manifest header must have 'path' and 'labels' columns; missing {missing} (found {header})"
        )
    if not rows:
        raise LayoutError(f"{csv_path}: manifest has no rows")
    keys = dict(zip(header, reader.fieldnames or []))

    def cell(row: dict[str, str | None], name: str) -> str:
        return (row.get(keys[name]) or "").strip() if name in keys else ""

    separator = _label_separator([cell(r, "labels") for r in rows])
    parsed: list[tuple[Path, list[str], str | None]] = []
    skipped: list[SkippedFile] = []
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        raw_path = cell(row, "path")
        if not raw_path:
            raise LayoutError(f"{csv_path}:{line}: empty 'path' cell")
        video = Path(raw_path).expanduser()
        if not video.is_absolute():
            video = csv_path.parent / video
        if not _is_video(video):
            skipped.append(SkippedFile(video, f"not a video extension ({video.suffix or 'none'})"))
            continue
        labels = [label.strip() for label in re.split(separator, cell(row, "labels")) if label.strip()]
        split_text = cell(row, "split").lower()
        if split_text and split_text not in _SPLIT_ALIASES:
            raise LayoutError(f"{csv_path}:{line}: split must be one of train/val/test, got {split_text!r}")
        parsed.append((video, labels, _SPLIT_ALIASES.get(split_text)))
    if not parsed:
        raise LayoutError(f"{csv_path}: manifest lists no video files")

    class_names = sorted({label for _, labels, _ in parsed for label in labels})
    if not class_names:
        raise LayoutError(f"{csv_path}: no labels found in the 'labels' column")
    multilabel = any(len(set(labels)) != 1 for _, labels, _ in parsed)
    label_of = {name: i for i, name in enumerate(class_names)}
    entries = [
        VideoEntry(video, tuple(sorted({label_of[x] for x in labels})), split) for video, labels, split in parsed
    ]
    return VideoIndex(csv_path.parent, "csv", class_names, multilabel, entries, skipped)


# ---------------------------------------------------------------- splits


def assign_splits(index: VideoIndex, *, val_fraction: float, seed: int, test_fraction: float = 0.0) -> VideoIndex:
    """Give every entry without a user-given split 'train', 'val' or (with ``test_fraction``)
    'test', stratified by class.

    Multilabel entries are stratified by their first (lowest-index) label. Each class with
    enough unsplit videos keeps at least one in every split asked for. The result depends
    only on the entries' paths, labels and `seed`, not on file order; with no test fraction
    it is the same train/val split as before test splits existed.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if not 0.0 <= test_fraction < 1.0 or val_fraction + test_fraction >= 1.0:
        raise ValueError(f"test_fraction must be in [0, 1) and leave some training videos beside val_fraction, "
                         f"got val {val_fraction} and test {test_fraction}")
    groups: dict[int, list[int]] = defaultdict(list)
    for i, entry in enumerate(index.entries):
        if entry.split is None:
            groups[entry.labels[0] if entry.labels else -1].append(i)
    splits = [entry.split for entry in index.entries]
    rng = np.random.default_rng(seed)
    for key in sorted(groups):
        members = sorted(groups[key], key=lambda i: str(index.entries[i].path))
        order = rng.permutation(len(members))
        num_val = _held_out(len(members), val_fraction, reserve=1 + (test_fraction > 0))
        num_test = _held_out(len(members) - num_val, test_fraction / (1.0 - val_fraction) if test_fraction else 0.0, reserve=1)
        for rank, position in enumerate(order):
            splits[members[position]] = "val" if rank < num_val else "test" if rank < num_val + num_test else "train"
    entries = [replace(entry, split=split) for entry, split in zip(index.entries, splits)]
    return replace(index, entries=entries)


def _held_out(count: int, fraction: float, *, reserve: int) -> int:
    """How many of ``count`` videos go to a held-out split: the rounded share, at least one
    when the fraction is positive, and never so many that fewer than ``reserve`` remain."""
    held = int(round(count * fraction))
    if fraction > 0 and count > reserve:
        held = min(max(held, 1), count - reserve)
    return max(0, min(held, count - reserve)) if fraction > 0 else 0
