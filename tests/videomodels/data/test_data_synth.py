from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from synth_hashes import synth_and_cache_hashes, tree_sha256
from videomodels.data import MOTION_CLASSES, DataError, compute_flow, decode_video, discover, probe_video, synthesize

ROOT = Path(__file__).resolve().parents[3]


def test_balanced_decodable_folder_per_class(synth_small: Path) -> None:
    index = discover(synth_small)
    assert index.class_names == sorted(MOTION_CLASSES) and len(MOTION_CLASSES) >= 8
    assert Counter(e.labels[0] for e in index.entries) == {k: 3 for k in range(len(MOTION_CLASSES))}
    for entry in index.entries[::7]:
        frames = decode_video(entry.path)
        assert frames.shape == (12, 32, 32, 3)
        info = probe_video(entry.path)
        assert info.fps == pytest.approx(12) and info.codec in ("h264", "mpeg4")


def test_deterministic_given_seed(tmp_path: Path) -> None:
    kwargs = dict(clips_per_class=1, frames=6, size=32, classes=("move_left", "zoom_in"))
    synthesize(tmp_path / "a", seed=5, **kwargs)
    synthesize(tmp_path / "b", seed=5, **kwargs)
    synthesize(tmp_path / "c", seed=6, **kwargs)
    clip = "move_left/move_left_0000.mp4"
    a, b, c = (decode_video(tmp_path / name / clip) for name in "abc")
    np.testing.assert_array_equal(a, b)
    assert np.abs(a.astype(int) - c).mean() > 5


@pytest.mark.parametrize("container", ["avi", "webm", "mkv", "mov"])
def test_other_containers(tmp_path: Path, container: str) -> None:
    result = synthesize(tmp_path / "s", clips_per_class=1, frames=6, size=32, classes=("still",), container=container)
    assert result.files[0].suffix == f".{container}"
    assert decode_video(result.files[0]).shape == (6, 32, 32, 3)


def test_refuses_bad_arguments(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(DataError, match="not empty"):
        synthesize(tmp_path / "full", clips_per_class=1)
    with pytest.raises(DataError, match="even"):
        synthesize(tmp_path / "odd", clips_per_class=1, size=33)
    with pytest.raises(DataError, match="unknown synth classes"):
        synthesize(tmp_path / "k", clips_per_class=1, classes=("teleport",))


def _nearest_mean_accuracy(features: np.ndarray, labels: np.ndarray) -> float:
    """Leave-one-out nearest-class-mean accuracy on standardised features."""
    features = (features - features.mean(0)) / (features.std(0) + 1e-9)
    classes = np.unique(labels)
    correct = 0
    for i in range(len(labels)):
        keep = np.arange(len(labels)) != i
        means = np.stack([features[keep & (labels == k)].mean(0) for k in classes])
        correct += classes[np.argmin(((means - features[i]) ** 2).sum(1))] == labels[i]
    return correct / len(labels)


def test_single_frames_carry_no_class_but_motion_does(tmp_path: Path) -> None:
    synthesize(tmp_path / "s", clips_per_class=12, frames=12, size=32, seed=11)
    index = discover(tmp_path / "s")
    appearance, motion, labels = [], [], []
    for entry in index.entries:
        frames = decode_video(entry.path)
        middle = frames[6].astype(np.float32)
        appearance.append(np.concatenate([middle.mean((0, 1)), middle.std((0, 1)), cv2.resize(middle.mean(-1), (4, 4), interpolation=cv2.INTER_AREA).ravel()]))
        flow = compute_flow(frames)[:-1]
        motion.append([flow[..., 0].mean(), flow[..., 1].mean(), np.abs(flow).mean()])
        labels.append(entry.labels[0])
    labels_arr = np.array(labels)
    chance = 1 / len(MOTION_CLASSES)
    single_frame = _nearest_mean_accuracy(np.array(appearance), labels_arr)
    from_motion = _nearest_mean_accuracy(np.array(motion), labels_arr)
    assert single_frame < chance + 0.12, single_frame
    assert from_motion > 0.3, from_motion
    # Direction classes: mean horizontal/vertical flow has the right sign in every clip.
    u = {name: [m[0] for m, y in zip(motion, labels) if index.class_names[y] == name] for name in index.class_names}
    v = {name: [m[1] for m, y in zip(motion, labels) if index.class_names[y] == name] for name in index.class_names}
    assert max(u["move_left"]) < 0 < min(u["move_right"])
    assert max(v["move_up"]) < 0 < min(v["move_down"])


def test_rotation_direction_is_on_screen_clockwise() -> None:
    from videomodels.data.synth import _render

    def spin(name: str, seed: int) -> float:
        frames, (track,) = _render([name], np.random.default_rng(seed), frames=8, size=64)
        flow = compute_flow(frames)[:-1]
        # Angular momentum of the flow about the object's centre, on the wrap-around
        # frame; y points down, so > 0 means clockwise on screen.
        ys, xs = np.mgrid[0:64, 0:64].astype(np.float32)
        dx = (xs - track.x[0] + 32) % 64 - 32
        dy = (ys - track.y[0] + 32) % 64 - 32
        inside = dx**2 + dy**2 < (0.8 * track.radius[0]) ** 2
        return float(((dx * flow[..., 1] - dy * flow[..., 0]) * inside).sum())

    assert all(spin("rotate_cw", s) > 0 for s in range(5))
    assert all(spin("rotate_ccw", s) < 0 for s in range(5))


def test_multilabel_manifest(multilabel_synth: Path) -> None:
    with (multilabel_synth / "manifest.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(MOTION_CLASSES)
    assert all(1 <= len(r["labels"].split(";")) <= 3 for r in rows)
    assert any(len(r["labels"].split(";")) > 1 for r in rows)
    index = discover(multilabel_synth)
    assert index.multilabel and index.layout == "csv"
    assert set(index.class_names) == set(MOTION_CLASSES)  # every class is some clip's first object
    assert all(e.path.exists() for e in index.entries)


# The files of `synthesize(clips_per_class=2, seed=0, frames=8, size=32)`. The motion benchmark
# is measured against (the search benchmark's table records its hash): it must come out the
# same on every run and machine, so a change here is a new benchmark, never a test to update.
SMALL_SYNTH_SHA256 = "5f33cd782c6723ccc2c497d571058aa76ad5f72aad2514d58a5b347354e8d827"


def test_synthesis_is_byte_identical_across_runs_and_machines(tmp_path: Path) -> None:
    hashes = []
    for name in ("first", "second"):
        synthesize(tmp_path / name, clips_per_class=2, seed=0, frames=8, size=32)
        hashes.append(tree_sha256(tmp_path / name))
    assert hashes[0] == hashes[1]
    assert hashes[0] == SMALL_SYNTH_SHA256


def test_synthesis_and_cache_do_not_depend_on_the_cpus_vector_units(tmp_path: Path) -> None:
    """Another machine has other SIMD extensions: the same data must come out with numpy's
    dispatched kernels, OpenCV's optimised paths and FFmpeg's (x264's) assembly all turned off."""
    here = synth_and_cache_hashes(tmp_path / "here")
    dispatch = [name for name in np._core._multiarray_umath.__cpu_dispatch__
                if np._core._multiarray_umath.__cpu_features__.get(name)]
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": ",".join(dispatch), "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, str(Path(__file__).with_name("scalar_cpu_synth.py")), str(tmp_path / "scalar")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == here


def test_colour_conversion_is_exact_integer_bt601() -> None:
    from videomodels.data.encode import rgb_to_yuv420p

    image = np.zeros((4, 6, 3), np.uint8)
    image[:, :3] = (255, 255, 255)  # white left half, black right half
    planes = rgb_to_yuv420p(image)
    assert planes.shape == (6, 6)
    luma = planes[:4]
    assert (luma[:, :3] == 235).all() and (luma[:, 3:] == 16).all()  # limited range
    chroma = planes[4:].ravel()
    assert (chroma == 128).all()  # grey has no colour
    red = rgb_to_yuv420p(np.full((2, 2, 3), (255, 0, 0), np.uint8))
    assert red[0, 0] == 82 and red[2, 0] == 90 and red[2, 1] == 240  # BT.601 red: Y 82, Cb 90, Cr 240
