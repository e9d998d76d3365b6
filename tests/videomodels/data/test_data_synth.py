from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from videomodels.data import MOTION_CLASSES, DataError, compute_flow, decode_video, discover, probe_video, synthesize


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
