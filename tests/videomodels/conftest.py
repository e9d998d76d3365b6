import copy

import pytest

TINY_TVN = {
    "format": "archspec/1",
    "family": "tvn",
    "name": "tiny",
    "inputs": [{"id": "rgb", "modality": "rgb", "channels": 3, "frames": 4, "frame_stride": 1, "size": 32}],
    "nodes": [
        {"id": "b0", "type": "tvn_block", "attrs": {"spatial_type": "std", "spatial_kernel": 3, "spatial_stride": 2,
                                                     "temporal_type": "1d", "temporal_kernel": 3, "filters": 8, "expand": 2}},
        {"id": "b1", "type": "tvn_block", "attrs": {"spatial_type": "depth", "spatial_kernel": 3, "spatial_stride": 2,
                                                     "temporal_type": "maxpool", "temporal_kernel": 2, "temporal_stride": 2,
                                                     "filters": 16, "squeeze": 0.5, "context_gate": True, "repeats": 2}},
        {"id": "head", "type": "classifier", "attrs": {"num_classes": 5}},
    ],
    "edges": [
        {"source": "rgb", "target": "b0"},
        {"source": "b0", "target": "b1"},
        {"source": "b1", "target": "head"},
    ],
}


@pytest.fixture
def tiny_tvn() -> dict:
    return copy.deepcopy(TINY_TVN)
