"""Hand-designed baselines: the presets, plus a two-stream (RGB + flow, late fusion) network.

The two-stream model is what the seed papers compared against: one tower per modality,
no connection between them until the very end, where the two pooled feature vectors are
averaged with fixed equal weights and classified. Built from AssembleNet's blocks so it
runs through the same builder, trainer and profiler as everything else.
"""
from __future__ import annotations

from videomodels import ArchSpec

PRESET_BASELINES = ("baseline-2d", "baseline-r2plus1d", "baseline-r3d", "tvn-small", "assemblenet-small")
TWO_STREAM = "two-stream-late-fusion"
HAND_DESIGNED = PRESET_BASELINES + (TWO_STREAM,)

_TOWER = ((0, 8, 1), (1, 16, 2), (2, 32, 2), (3, 32, 2))  # (level, filters, spatial stride), as in assemblenet-small's sizes


def two_stream_spec(*, num_classes: int = 10, frames: int = 8, size: int = 32) -> ArchSpec:
    inputs = [{"id": "rgb", "modality": "rgb", "channels": 3, "frames": frames, "frame_stride": 1, "size": size},
              {"id": "flow", "modality": "flow", "channels": 2, "frames": frames, "frame_stride": 1, "size": size}]
    nodes, edges = [], []
    for stream in ("rgb", "flow"):
        previous = f"{stream}_stem"
        nodes.append({"id": previous, "type": "asn_stem", "attrs": {"modality": stream, "temporal_dilation": 1, "filters": 32}})
        edges.append({"source": stream, "target": previous, "weight": None, "learnable": True})
        for level, filters, stride in _TOWER:
            node = f"{stream}_l{level}"
            nodes.append({"id": node, "type": "asn_block", "attrs": {"level": level, "filters": filters, "temporal_dilation": 1,
                                                                     "spatial_stride": stride, "num_modules": 1, "attention": "none"}})
            edges.append({"source": previous, "target": node, "weight": None, "learnable": True})
            previous = node
        # Late fusion: equal, frozen weights on the two towers' outputs.
        edges.append({"source": previous, "target": "head", "weight": 0.5, "learnable": False})
    nodes.append({"id": "head", "type": "classifier", "attrs": {"num_classes": num_classes}})
    return ArchSpec.from_dict({"format": "archspec/1", "family": "assemblenet", "name": TWO_STREAM, "inputs": inputs,
                               "nodes": nodes, "edges": edges,
                               "meta": {"doc": "Two-stream RGB + flow towers, late fusion by a fixed average before the classifier."}})


def hand_designed_spec(name: str) -> ArchSpec:
    from videomodels.presets import get_preset

    return two_stream_spec() if name == TWO_STREAM else get_preset(name)
