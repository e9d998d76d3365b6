from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from videomodels.data import CacheError, NothingPreparedError, load_cache, prepare_cache


def _add_bad_files(root: Path) -> dict[str, str]:
    """Broken files with video extensions inside class folders; returns name -> expected reason text."""
    good = sorted((root / "red").glob("*.mp4"))[0].read_bytes()
    (root / "red" / "empty.mp4").write_bytes(b"")
    (root / "red" / "truncated.mp4").write_bytes(good[:200])
    (root / "green" / "noise.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    (root / "blue" / "text.avi").write_text("definitely not a video\n" * 20)
    (root / "blue" / "notes.txt").write_text("ignored, not a video extension")
    return {"empty.mp4": "empty", "truncated.mp4": "", "noise.mp4": "", "text.avi": ""}


def test_prepare_skips_and_reports_bad_files(colour_tree_copy: Path, tmp_path: Path) -> None:
    expected = _add_bad_files(colour_tree_copy)
    out = tmp_path / "cache"
    report = prepare_cache(colour_tree_copy, out, frames=6, size=16, flow=True, val_fraction=0.25, seed=0, progress=False)
    assert report.num_prepared == 12 and not report.reused
    bad = {Path(b.path).name: b.reason for b in report.bad_files}
    assert set(bad) == set(expected)
    for name, text in expected.items():
        assert bad[name] and text in bad[name]
    assert [Path(s.path).name for s in report.skipped_files] == ["notes.txt"]
    assert report.split_counts == {"train": 9, "val": 3}  # 4 per class, one val each

    index = json.loads((out / "index.json").read_text())
    assert index["num_items"] == 12 and index["has_flow"] and index["frames"] == 6 and index["size"] == 16
    assert index["class_names"] == ["blue", "green", "red"] and index["multilabel"] is False
    assert {Path(b["path"]).name for b in index["bad_files"]} == set(expected)
    assert all({"path", "split", "labels", "stride", "source_frames", "fps"} <= set(item) for item in index["items"])
    assert index["items"][0]["stride"] == pytest.approx(10 / 6)

    cache = load_cache(out)
    assert cache.rgb.shape == (12, 6, 16, 16, 3) and cache.rgb.dtype == np.uint8
    assert cache.flow.shape == (12, 6, 16, 16, 2) and cache.flow.dtype == np.float16
    assert cache.labels.shape == (12,) and cache.labels.dtype == np.int64
    # Row i really holds item i's video: the solid class colour is dominant.
    channel_of = {"red": 0, "green": 1, "blue": 2}
    for row, item in enumerate(cache.items):
        assert int(cache.labels[row]) == item["labels"][0]
        class_name = cache.class_names[item["labels"][0]]
        assert class_name in Path(item["path"]).parts
        assert np.argmax(np.median(cache.rgb[row].reshape(-1, 3), axis=0)) == channel_of[class_name]
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temp dirs left behind


def test_cache_is_read_only_memmap(synth_cache: Path) -> None:
    cache = load_cache(synth_cache)
    assert isinstance(cache.rgb, np.memmap) and cache.rgb.mode == "r"
    with pytest.raises(ValueError):
        cache.rgb[0, 0, 0, 0, 0] = 1


def test_reuse_force_and_parameter_change(colour_tree_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "cache"
    first = prepare_cache(colour_tree_copy, out, frames=4, size=16, flow=False, progress=False)
    stamp = (out / "rgb.npy").stat().st_mtime_ns
    again = prepare_cache(colour_tree_copy, out, frames=4, size=16, flow=False, progress=False)
    assert again.reused and not first.reused and again.num_prepared == first.num_prepared
    assert (out / "rgb.npy").stat().st_mtime_ns == stamp
    forced = prepare_cache(colour_tree_copy, out, frames=4, size=16, flow=False, progress=False, force=True)
    assert not forced.reused
    changed = prepare_cache(colour_tree_copy, out, frames=5, size=16, flow=False, progress=False)
    assert not changed.reused and load_cache(out).frames == 5
    # A new source video invalidates the cache too.
    (colour_tree_copy / "red" / "copy.mp4").write_bytes(sorted((colour_tree_copy / "red").glob("*.mp4"))[0].read_bytes())
    grown = prepare_cache(colour_tree_copy, out, frames=5, size=16, flow=False, progress=False)
    assert not grown.reused and grown.num_prepared == first.num_prepared + 1


def test_refuses_to_overwrite_a_foreign_folder(colour_tree: Path, tmp_path: Path) -> None:
    foreign = tmp_path / "important"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("do not delete")
    with pytest.raises(CacheError, match="refusing to overwrite"):
        prepare_cache(colour_tree, foreign, frames=4, size=16, flow=False, progress=False)
    assert (foreign / "thesis.tex").exists()


def test_all_bad_raises_with_report_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "src" / "cls").mkdir(parents=True)
    (tmp_path / "src" / "cls" / "a.mp4").write_bytes(b"")
    (tmp_path / "src" / "cls" / "b.mp4").write_text("nope")
    with pytest.raises(NothingPreparedError) as caught:
        prepare_cache(tmp_path / "src", tmp_path / "out", frames=4, size=16, flow=False, progress=False)
    assert len(caught.value.report.bad_files) == 2
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["src"]


def test_incomplete_or_foreign_cache_is_rejected_on_load(synth_cache: Path, tmp_path: Path) -> None:
    with pytest.raises(CacheError, match="no index.json"):
        load_cache(tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("index.json", "labels.npy"):
        (broken / name).write_bytes((synth_cache / name).read_bytes())
    with pytest.raises(CacheError, match="rgb.npy"):
        load_cache(broken)
    index = json.loads((synth_cache / "index.json").read_text())
    index["complete"] = False
    (broken / "index.json").write_text(json.dumps(index))
    with pytest.raises(CacheError, match="incomplete"):
        load_cache(broken)


def test_stale_partial_dirs_are_cleaned_and_never_loaded(colour_tree: Path, tmp_path: Path) -> None:
    # What a prepare killed mid-way leaves: a hidden temp dir from a dead process.
    stale = tmp_path / ".cache.partial-999999999-deadbeef"
    stale.mkdir()
    (stale / "rgb.npy").write_bytes(b"half")
    with pytest.raises(CacheError):
        load_cache(tmp_path / "cache")
    prepare_cache(colour_tree, tmp_path / "cache", frames=4, size=16, flow=False, progress=False)
    assert not stale.exists()


def test_process_pool_matches_in_process(colour_tree: Path, tmp_path: Path) -> None:
    serial = prepare_cache(colour_tree, tmp_path / "a", frames=4, size=16, flow=True, progress=False)
    pooled = prepare_cache(colour_tree, tmp_path / "b", frames=4, size=16, flow=True, progress=False, workers=2)
    assert serial.num_prepared == pooled.num_prepared == 12
    a, b = load_cache(tmp_path / "a"), load_cache(tmp_path / "b")
    np.testing.assert_array_equal(a.rgb, b.rgb)
    np.testing.assert_array_equal(a.flow, b.flow)
    assert os.path.getsize(tmp_path / "a" / "rgb.npy") == os.path.getsize(tmp_path / "b" / "rgb.npy")
