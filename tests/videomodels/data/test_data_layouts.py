from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from videomodels.data import LayoutError, assign_splits, discover


def _touch(path: Path, data: bytes = b"x") -> Path:
    # Discovery looks at names only; decoding is checked later by prepare.
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_folder_per_class_sorted_nested_and_non_videos_counted(tmp_path: Path) -> None:
    _touch(tmp_path / "walk" / "a.mp4")
    _touch(tmp_path / "walk" / "deeper" / "more" / "b.AVI")
    _touch(tmp_path / "jump" / "c.webm")
    _touch(tmp_path / "jump" / "notes.txt")
    _touch(tmp_path / "jump" / "meta.json")
    _touch(tmp_path / "jump" / ".DS_Store")
    _touch(tmp_path / "jump" / "broken.mkv")  # a video extension is kept even if the content is junk
    _touch(tmp_path / "README.md")
    (tmp_path / "empty_class").mkdir()
    index = discover(tmp_path)
    assert index.layout == "folders" and not index.multilabel
    assert index.class_names == ["jump", "walk"]  # sorted; the empty folder is not a class
    by_name = {e.path.name: e.labels for e in index.entries}
    assert by_name == {"a.mp4": (1,), "b.AVI": (1,), "c.webm": (0,), "broken.mkv": (0,)}
    assert sorted(s.path.name for s in index.skipped) == [".DS_Store", "README.md", "meta.json", "notes.txt"]
    assert all(e.split is None for e in index.entries)


def test_split_folders_give_splits(tmp_path: Path) -> None:
    for split, count in (("train", 3), ("val", 1), ("test", 2)):
        for cls in ("a", "b"):
            for i in range(count):
                _touch(tmp_path / split / cls / f"{i}.mp4")
    _touch(tmp_path / "train" / "c" / "only_train.mp4")
    index = discover(tmp_path)
    assert index.class_names == ["a", "b", "c"]
    assert index.split_counts() == {"train": 7, "val": 2, "test": 4}
    # User-given splits are kept by assign_splits.
    assert assign_splits(index, val_fraction=0.5, seed=0).split_counts() == index.split_counts()


def test_missing_or_empty_source_errors_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="does not exist") as caught:
        discover(tmp_path / "nope")
    assert str(tmp_path / "nope") in str(caught.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(LayoutError, match="no videos found"):
        discover(tmp_path / "empty")
    _touch(tmp_path / "file.mp4")
    with pytest.raises(LayoutError, match="expected a folder"):
        discover(tmp_path / "file.mp4")


@pytest.mark.parametrize("separator", [";", "|", " "])
def test_csv_multilabel_manifest(tmp_path: Path, separator: str) -> None:
    absolute = _touch(tmp_path / "elsewhere" / "abs.mp4")
    rows = [
        "path,labels,split",
        f"clips/one.mp4,open{separator}close,train",
        "clips/two.mp4,close,val",
        f"{absolute},sit{separator}open{separator}sit,",
        "clips/readme.txt,open,",
    ]
    (tmp_path / "data").mkdir()
    csv_path = tmp_path / "data" / "list.csv"
    csv_path.write_text("\n".join(rows) + "\n")
    index = discover(csv_path)
    assert index.layout == "csv" and index.multilabel
    assert index.class_names == ["close", "open", "sit"]
    assert [e.path for e in index.entries] == [tmp_path / "data" / "clips" / "one.mp4", tmp_path / "data" / "clips" / "two.mp4", absolute]
    assert [e.labels for e in index.entries] == [(0, 1), (0,), (1, 2)]
    assert [e.split for e in index.entries] == ["train", "val", None]
    assert [s.path.name for s in index.skipped] == ["readme.txt"]


def test_folder_with_manifest_and_single_label_csv(tmp_path: Path) -> None:
    (tmp_path / "manifest.csv").write_text("Path,Labels\na.mp4,x\nb.mp4,y\nc.mp4,big jump\n")
    index = discover(tmp_path)
    assert index.class_names == ["big", "jump", "x", "y"] and index.multilabel  # whitespace separates
    (tmp_path / "manifest.csv").write_text('path,labels\na.mp4,x\nb.mp4,"y; big jump"\n')
    index = discover(tmp_path)
    assert index.class_names == ["big jump", "x", "y"] and index.multilabel
    (tmp_path / "manifest.csv").write_text("path,labels\na.mp4,x\nb.mp4,y\n")
    assert not discover(tmp_path).multilabel


@pytest.mark.parametrize(
    "content,message",
    [
        ("file,label\na.mp4,x\n", "must have 'path' and 'labels'"),
        ("path,labels,split\na.mp4,x,holdout\n", "split must be one of"),
        ("path,labels\n", "no rows"),
        ("path,labels\n,x\n", "empty 'path'"),
    ],
)
def test_bad_manifests_are_explained(tmp_path: Path, content: str, message: str) -> None:
    csv_path = tmp_path / "m.csv"
    csv_path.write_text(content)
    with pytest.raises(LayoutError, match=message) as caught:
        discover(csv_path)
    assert str(csv_path) in str(caught.value)


def _unsplit_dataset(tmp_path: Path) -> Path:
    sizes = {"a": 10, "b": 5, "c": 20, "d": 2}
    for cls, count in sizes.items():
        for i in range(count):
            _touch(tmp_path / cls / f"{cls}{i}.mp4")
    return tmp_path


def test_stratified_split_is_deterministic_and_stratified(tmp_path: Path) -> None:
    index = discover(_unsplit_dataset(tmp_path))
    first = assign_splits(index, val_fraction=0.2, seed=3)
    again = assign_splits(discover(tmp_path), val_fraction=0.2, seed=3)
    assert [(e.path, e.split) for e in first.entries] == [(e.path, e.split) for e in again.entries]
    val_per_class = Counter(index.class_names[e.labels[0]] for e in first.entries if e.split == "val")
    assert val_per_class == {"a": 2, "b": 1, "c": 4, "d": 1}
    other = assign_splits(index, val_fraction=0.2, seed=4)
    assert {e.path for e in other.entries if e.split == "val"} != {e.path for e in first.entries if e.split == "val"}
    assert all(e.split == "train" for e in assign_splits(index, val_fraction=0.0, seed=0).entries)
    with pytest.raises(ValueError, match="val_fraction"):
        assign_splits(index, val_fraction=1.0, seed=0)


def test_multilabel_split_stratifies_by_first_label(tmp_path: Path) -> None:
    lines = ["path,labels"] + [f"v{i}.mp4,{'a;b' if i < 10 else 'b;c'}" for i in range(20)]
    (tmp_path / "manifest.csv").write_text("\n".join(lines))
    split = assign_splits(discover(tmp_path), val_fraction=0.3, seed=0)
    val_first_labels = Counter(e.labels[0] for e in split.entries if e.split == "val")
    assert val_first_labels == {0: 3, 1: 3}


def test_three_way_split_is_stratified_and_keeps_the_two_way_split_stable(tmp_path: Path) -> None:
    index = discover(_unsplit_dataset(tmp_path))
    three = assign_splits(index, val_fraction=0.25, test_fraction=0.25, seed=0)
    per_class = Counter((index.class_names[e.labels[0]], e.split) for e in three.entries)
    assert per_class[("c", "val")] == 5 and per_class[("c", "test")] == 5 and per_class[("c", "train")] == 10
    for cls in "abcd":  # every class keeps a video in every split when it has three or more
        assert per_class[(cls, "train")] >= 1
        if cls != "d":
            assert per_class[(cls, "val")] >= 1 and per_class[(cls, "test")] >= 1
    two = assign_splits(index, val_fraction=0.2, seed=3)
    assert [e.split for e in two.entries] == [e.split for e in assign_splits(index, val_fraction=0.2, test_fraction=0.0, seed=3).entries]
    with pytest.raises(ValueError, match="test_fraction"):
        assign_splits(index, val_fraction=0.5, test_fraction=0.5, seed=0)
