"""Fixtures for the export and predict tests: real encoded videos, real training runs.

Tiny on purpose (16x16 networks, 8-frame 32 px clips, one thread) so the folder runs
in well under a minute on a shared 2-core machine.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from videomodels.data import prepare_cache, synthesize
from videomodels.train import train_and_evaluate

from review_helpers import CLASSES, fast_config, micro_spec

@pytest.fixture(scope="session")
def videos(tmp_path_factory) -> Path:
    """3 motion classes x 4 real encoded mp4 clips (8 frames, 32x32)."""
    root = tmp_path_factory.mktemp("review-videos") / "videos"
    synthesize(root, clips_per_class=4, frames=8, size=32, classes=CLASSES, seed=0)
    return root


@pytest.fixture(scope="session")
def video_files(videos: Path) -> list[Path]:
    return sorted(videos.rglob("*.mp4"))


@pytest.fixture(scope="session")
def trained_run(videos: Path, tmp_path_factory) -> Path:
    """`train` on the raw video folder (prepared into RUN/cache): RUN/checkpoint.pt."""
    out = tmp_path_factory.mktemp("review-run") / "run"
    torch.set_num_threads(1)
    train_and_evaluate(micro_spec(), videos, fast_config(), out_dir=out)
    return out


@pytest.fixture(scope="session")
def flow_cache(videos: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("review-flow-cache") / "cache"
    return Path(prepare_cache(videos, out, frames=8, size=32, flow=True, val_fraction=0.34, seed=0, progress=False).cache_dir)


@pytest.fixture(scope="session")
def trained_flow_run(flow_cache: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("review-flow-run") / "run"
    train_and_evaluate(micro_spec(flow=True), flow_cache, fast_config(epochs=1), out_dir=out)
    return out


@pytest.fixture
def broken_files(tmp_path: Path, video_files: list[Path]) -> dict[str, Path]:
    """Files a user might pass by mistake: truncated video, empty file, text named .mp4, missing path."""
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(video_files[0].read_bytes()[:200])
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 20)
    return {"truncated": truncated, "empty": empty, "text": text, "missing": tmp_path / "missing.mp4"}
