"""Node types every family can use: the classifier head, pooling and representation flow."""
from __future__ import annotations

import math

import torch
from torch import nn

from videomodels.ops import Pool3dSame, RepresentationFlow
from videomodels.schema import Attr, NodeType, register

ALL_FAMILIES = ("evanet", "assemblenet", "tvn")


class Classifier(nn.Module):
    """Pool every input over space (and time), average the inputs, classify.

    ``temporal_pool='softmax'`` is the seed's max_pool_predictions: per-frame logits
    weighted by a softmax over time, for long clips where the action is short.
    ``temporal_window`` > 0 averages overlapping windows of that many frames first
    (EvaNet's VALID avg-pool of [min(T, 2), H, W] before its 1x1x1 conv).
    """

    def __init__(self, channels: int, num_classes: int, dropout: float, temporal_pool: str, temporal_window: int):
        super().__init__()
        self.temporal_pool, self.temporal_window = temporal_pool, temporal_window
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)
        nn.init.normal_(self.fc.weight, 0.0, 0.01)
        nn.init.zeros_(self.fc.bias)

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        frames = min(x.shape[2] for x in xs)
        features = [nn.functional.adaptive_avg_pool1d(x.mean(dim=(3, 4)), frames) for x in xs]
        feature = torch.stack(features).mean(dim=0)  # [B, C, T]
        if self.temporal_pool == "softmax":
            logits = self.fc(self.dropout(feature.transpose(1, 2)))  # [B, T, K]
            weights = torch.softmax(logits / math.sqrt(frames), dim=1)
            return (logits * weights).sum(dim=1)
        window = min(self.temporal_window, frames) if self.temporal_window else frames
        windows = nn.functional.avg_pool1d(feature, window, 1)
        return self.fc(self.dropout(windows.mean(dim=2)))


def _build_classifier(attrs, shapes, context):
    channels = {shape[0] for shape in shapes}
    if len(channels) != 1:
        raise ValueError(f"classifier inputs must have the same channel count, got {sorted(channels)}")
    return Classifier(channels.pop(), attrs["num_classes"], attrs["dropout"], attrs["temporal_pool"], attrs["temporal_window"])


CLASSIFIER = register(
    NodeType(
        name="classifier",
        family="common",
        doc="Global pooling, dropout and a dense layer; several inputs are averaged (AssembleNet's head).",
        attrs={
            "num_classes": Attr("int", 400, minimum=1, maximum=100_000),
            "dropout": Attr("float", 0.5, minimum=0.0, maximum=0.95),
            "temporal_pool": Attr("choice", "avg", choices=("avg", "softmax")),
            "temporal_window": Attr("int", 0, minimum=0, maximum=64, doc="0: the whole clip"),
        },
        build=_build_classifier,
        min_inputs=1,
        max_inputs=None,
        fuse="list",
        is_head=True,
    ),
    *ALL_FAMILIES,
)


def _build_pool(attrs, shape, context):
    kernel = (attrs["temporal_kernel"], attrs["spatial_kernel"], attrs["spatial_kernel"])
    stride = (attrs["temporal_stride"], attrs["spatial_stride"], attrs["spatial_stride"])
    return Pool3dSame(attrs["kind"], kernel, stride)


POOL = register(
    NodeType(
        name="pool3d",
        family="common",
        doc="Space-time max or average pooling with TF 'SAME' padding.",
        attrs={
            "kind": Attr("choice", "max", choices=("max", "avg")),
            "temporal_kernel": Attr("int", 1, minimum=1, maximum=64),
            "spatial_kernel": Attr("int", 3, minimum=1, maximum=64),
            "temporal_stride": Attr("int", 1, minimum=1, maximum=16),
            "spatial_stride": Attr("int", 2, minimum=1, maximum=16),
        },
        build=_build_pool,
    ),
    *ALL_FAMILIES,
)


def _build_flow(attrs, shape, context):
    if shape[0] != 3:
        raise ValueError(f"representation flow needs an RGB input with 3 channels, got {shape[0]}")
    return RepresentationFlow(attrs["iterations"])


REPRESENTATION_FLOW = register(
    NodeType(
        name="representation_flow",
        family="common",
        doc="TV-L1 representation flow computed inside the network from RGB (2 output channels).",
        attrs={"iterations": Attr("int", 40, minimum=1, maximum=200)},
        build=_build_flow,
    ),
    *ALL_FAMILIES,
)
