"""Fixtures for the training tests: real synthesized videos prepared into clip caches.

Everything is tiny (a few dozen 32x32 clips, 4-frame networks, one CPU thread) so
the whole folder runs in well under a minute on a shared 2-core machine.
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from videomodels.archspec import ArchSpec
from videomodels.data import prepare_cache, synthesize
from videomodels.train import TrainConfig

TINY_CLASSES = ("move_left", "move_right", "zoom_in", "still")

# Two TVN blocks with temporal 1-D convolutions, 4 frames of 16x16: a forward pass
# on a batch costs a few milliseconds.
MICRO_SPEC = {
    "format": "archspec/1",
    "family": "tvn",
    "name": "micro",
    "inputs": [{"id": "rgb", "modality": "rgb", "channels": 3, "frames": 4, "frame_stride": 1, "size": 16}],
    "nodes": [
        {"id": "b0", "type": "tvn_block", "attrs": {"spatial_type": "std", "spatial_kernel": 3, "spatial_stride": 2,
                                                     "temporal_type": "1d", "temporal_kernel": 3, "temporal_stride": 1,
                                                     "filters": 8, "expand": 2, "repeats": 1}},
        {"id": "b1", "type": "tvn_block", "attrs": {"spatial_type": "std", "spatial_kernel": 3, "spatial_stride": 2,
                                                     "temporal_type": "1d", "temporal_kernel": 3, "temporal_stride": 2,
                                                     "filters": 16, "expand": 2, "repeats": 1}},
        {"id": "head", "type": "classifier", "attrs": {"num_classes": 10, "dropout": 0.0}},
    ],
    "edges": [{"source": "rgb", "target": "b0"}, {"source": "b0", "target": "b1"}, {"source": "b1", "target": "head"}],
}


@pytest.fixture
def micro_spec_dict() -> dict:
    return copy.deepcopy(MICRO_SPEC)


@pytest.fixture
def micro_spec() -> ArchSpec:
    return ArchSpec.from_dict(copy.deepcopy(MICRO_SPEC))


@pytest.fixture(scope="session")
def tiny_videos(tmp_path_factory) -> Path:
    """4 motion classes x 5 real encoded clips (8 frames, 32x32)."""
    root = tmp_path_factory.mktemp("train-videos")
    synthesize(root / "videos", clips_per_class=5, frames=8, size=32, classes=TINY_CLASSES, seed=0)
    return root / "videos"


@pytest.fixture(scope="session")
def tiny_cache(tiny_videos: Path, tmp_path_factory) -> Path:
    """The tiny videos prepared into a clip cache (3 train + 2 val clips per class)."""
    out = tmp_path_factory.mktemp("train-cache") / "cache"
    report = prepare_cache(tiny_videos, out, frames=8, size=32, flow=False, val_fraction=0.4, seed=0, progress=False)
    assert report.split_counts == {"train": 12, "val": 8}
    return Path(report.cache_dir)


def fast_config(**overrides) -> TrainConfig:
    """Settings for quick test runs: one thread (no oversubscription on shared CPUs),
    CPU, no progress bar, few latency runs."""
    settings = dict(epochs=2, batch_size=4, lr=3e-3, seed=0, num_threads=1, device="cpu", progress=False,
                    latency_runs=2, latency_warmup=1)
    settings.update(overrides)
    return TrainConfig(**settings)


@pytest.fixture
def config_factory():
    return fast_config


@pytest.fixture(scope="session")
def tiny_flow_cache(tiny_videos: Path, tmp_path_factory) -> Path:
    """The tiny videos prepared with optical flow."""
    out = tmp_path_factory.mktemp("train-flow-cache") / "cache"
    return Path(prepare_cache(tiny_videos, out, frames=8, size=32, flow=True, val_fraction=0.4, seed=0, progress=False).cache_dir)
