"""Fixtures for the data pipeline tests: tiny real videos encoded here with PyAV.

The encoder below is deliberately independent of videomodels.data.encode so the
decoder is not only tested against its own writer.
"""

from __future__ import annotations

import os
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from videomodels.data import prepare_cache, synthesize

def encode(path: Path, frames: np.ndarray, *, codec: str, fps: Fraction | int = 10, pix_fmt: str = "yuv420p", options: dict[str, str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(os.fspath(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = pix_fmt
        if options:
            stream.options = options
        if codec == "mpeg4":
            stream.bit_rate = 2_000_000
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def solid_frames(count: int, height: int, width: int, rgb: tuple[int, int, int]) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, np.uint8), (count, height, width, 3)).copy()


def textured_pattern(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Smooth random texture (good for optical flow), uint8 [H, W, 3]."""
    import cv2

    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (max(2, height // 6), max(2, width // 6), 3), dtype=np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def translating_frames(count: int, size: int, dx: int, dy: int, seed: int = 0) -> np.ndarray:
    """A texture moving by (dx, dy) pixels per frame (content moves right for dx > 0)."""
    big = textured_pattern(size * 3, size * 3, seed)
    origin = size
    return np.stack([big[origin - dy * t : origin - dy * t + size, origin - dx * t : origin - dx * t + size] for t in range(count)])


class VideoTools:
    """Helpers handed to tests as the `vt` fixture (tests never import conftest,
    so they work under any pytest import mode)."""

    encode = staticmethod(encode)
    solid_frames = staticmethod(solid_frames)
    textured_pattern = staticmethod(textured_pattern)
    translating_frames = staticmethod(translating_frames)


@pytest.fixture(scope="session")
def vt() -> type[VideoTools]:
    return VideoTools


@pytest.fixture(scope="session")
def colour_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder-per-class dataset: red/ green/ blue/, 4 short mp4s each (some nested)."""
    root = tmp_path_factory.mktemp("colours")
    colours = {"red": (220, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 220)}
    for name, rgb in colours.items():
        for i in range(4):
            sub = root / name / ("nested" if i == 3 else "")
            frames = solid_frames(10, 36, 48, rgb)
            frames[:, :, (i * 5) % 48 : (i * 5) % 48 + 4] = 255  # a white bar, so clips differ
            encode(sub / f"{name}_{i}.mp4", frames, codec="libx264")
    return root


@pytest.fixture
def colour_tree_copy(colour_tree: Path, tmp_path: Path) -> Path:
    """A private copy of colour_tree that a test may add broken files to."""
    return Path(shutil.copytree(colour_tree, tmp_path / "dataset"))


@pytest.fixture(scope="session")
def synth_small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Motion benchmark: 10 classes x 3 clips of 12 frames at 32 px."""
    out = tmp_path_factory.mktemp("synth") / "motion"
    synthesize(out, clips_per_class=3, frames=12, size=32, seed=0)
    return out


@pytest.fixture(scope="session")
def synth_cache(synth_small: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """synth_small prepared with flow: 12 frames at 32 px."""
    out = tmp_path_factory.mktemp("caches") / "motion-cache"
    prepare_cache(synth_small, out, frames=12, size=32, flow=True, val_fraction=0.34, seed=0, progress=False)
    return out


@pytest.fixture(scope="session")
def multilabel_synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth-ml") / "motion-ml"
    synthesize(out, clips_per_class=1, frames=10, size=32, seed=0, multilabel=True)
    return out
