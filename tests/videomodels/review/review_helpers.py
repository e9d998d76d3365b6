"""Shared pieces of the export/predict tests (a uniquely named module, not conftest, so
test files can import it under any pytest import mode)."""
from __future__ import annotations

import copy

from videomodels.archspec import ArchSpec
from videomodels.train import TrainConfig

CLASSES = ("move_left", "move_right", "zoom_in")

MICRO = {
    "format": "archspec/1",
    "family": "tvn",
    "name": "micro",
    "inputs": [{"id": "rgb", "modality": "rgb", "channels": 3, "frames": 4, "frame_stride": 2, "size": 16}],
    "nodes": [
        {"id": "b0", "type": "tvn_block", "attrs": {"spatial_type": "std", "spatial_kernel": 3, "spatial_stride": 2,
                                                     "temporal_type": "1d", "temporal_kernel": 3, "filters": 8, "expand": 2}},
        {"id": "b1", "type": "tvn_block", "attrs": {"spatial_type": "std", "spatial_kernel": 3, "spatial_stride": 2,
                                                     "temporal_type": "1d", "temporal_kernel": 3, "filters": 16, "expand": 2}},
        {"id": "head", "type": "classifier", "attrs": {"num_classes": 10, "dropout": 0.0}},
    ],
    "edges": [{"source": "rgb", "target": "b0"}, {"source": "b0", "target": "b1"}, {"source": "b1", "target": "head"}],
}


def micro_spec(*, flow: bool = False) -> ArchSpec:
    data = copy.deepcopy(MICRO)
    if flow:  # the same network on an optical-flow stream
        data["name"] = "micro-flow"
        data["inputs"] = [{"id": "flow", "modality": "flow", "channels": 2, "frames": 4, "frame_stride": 1, "size": 16}]
        data["edges"][0]["source"] = "flow"
    return ArchSpec.from_dict(data)


def fast_config(**overrides) -> TrainConfig:
    settings = dict(epochs=2, batch_size=4, lr=3e-3, seed=0, num_threads=1, device="cpu", progress=False,
                    latency_runs=1, latency_warmup=0)
    settings.update(overrides)
    return TrainConfig(**settings)
