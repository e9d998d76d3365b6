"""Tiny Video Networks: blocks of cheap spatial and temporal layers, repeated."""
from __future__ import annotations

import math

import torch
from torch import nn

from videomodels.ops import (
    ContextGate,
    ConvBNAct,
    Conv3dSame,
    FramewiseConv2d,
    Pool3dSame,
    SqueezeExcite,
    TemporalConv,
    make_activation,
)
from videomodels.schema import Attr, NodeType, register

BN = {"bn_momentum": 0.1, "bn_eps": 1e-5}  # TF decay 0.9
ACTS = ("relu", "hswish")

TVN_BLOCK_ATTRS = {
    "spatial_type": Attr("choice", "std", choices=("std", "depth", "maxpool", "avgpool")),
    "spatial_kernel": Attr("int", 3, minimum=1, maximum=11, doc="1 skips the spatial layer"),
    "spatial_stride": Attr("int", 1, minimum=1, maximum=8),
    "temporal_type": Attr("choice", "1d", choices=("1d", "maxpool", "avgpool")),
    "temporal_kernel": Attr("int", 1, minimum=1, maximum=11, doc="1 skips the temporal layer"),
    "temporal_stride": Attr("int", 1, minimum=1, maximum=8),
    "filters": Attr("int", minimum=1, maximum=8192),
    "expand": Attr("int", 1, minimum=0, maximum=16),
    "squeeze": Attr("float", 0.0, minimum=0.0, maximum=1.0, doc="squeeze-excitation ratio, 0 disables"),
    "context_gate": Attr("bool", False),
    "skip": Attr("bool", False, doc="residual when the frame count is unchanged"),
    "repeats": Attr("int", 1, minimum=1, maximum=16),
    "inv_bottleneck": Attr("bool", False),
    "non_local": Attr("int", 0, minimum=0, maximum=4096),
    "act": Attr("choice", "relu", choices=ACTS),
    "spatial_act": Attr("choice", "relu", choices=ACTS),
    "temporal_act": Attr("choice", "relu", choices=ACTS),
}


def _check_block(attrs, where):
    if attrs["non_local"]:
        return [(f"{where}.non_local", "non-local layers are not supported (every released TVN uses 0); set it to 0")]
    return []


def expanded_width(attrs) -> int:
    return max(attrs["filters"] * attrs["expand"], attrs["filters"])


class TVNUnit(nn.Module):
    """One application of a TVN block, in the seed's order:
    [expand (inv-bottle)] -> spatial -> temporal -> [expand] -> SE -> CG -> [project] -> +res -> act.
    """

    def __init__(self, attrs, in_channels: int, frames: int, spatial_stride: int, temporal_stride: int, use_temporal: bool):
        super().__init__()
        expanded = expanded_width(attrs)
        inverted = attrs["inv_bottleneck"] and attrs["expand"] > 0
        width = expanded if inverted else attrs["filters"]
        layers: list[nn.Module] = []
        channels = in_channels
        if inverted:
            layers.append(ConvBNAct(Conv3dSame(channels, expanded, 1), expanded, "relu", **BN))
            channels = expanded
        layers += self._spatial(attrs, channels, width, spatial_stride)
        if attrs["spatial_kernel"] > 1 and attrs["spatial_type"] in ("std", "depth"):
            channels = width
        self.frames_out = frames
        kernel = attrs["temporal_kernel"]
        if use_temporal and frames > 1 and kernel > 1:
            if attrs["temporal_type"] == "1d":
                conv = TemporalConv(channels, width, kernel, stride=temporal_stride)
                layers.append(ConvBNAct(conv, width, attrs["temporal_act"], **BN))
                channels = width
            else:
                kind = "max" if attrs["temporal_type"] == "maxpool" else "avg"
                layers.append(Pool3dSame(kind, (kernel, 1, 1), (temporal_stride, 1, 1)))
            self.frames_out = math.ceil(frames / temporal_stride)
        if not inverted and attrs["expand"] > 0:
            layers.append(ConvBNAct(Conv3dSame(channels, expanded, 1), expanded, "none", **BN))
            channels = expanded
        if attrs["squeeze"] > 0:
            layers.append(SqueezeExcite(channels, attrs["squeeze"]))
        if attrs["context_gate"]:
            layers.append(ContextGate(channels))
        if inverted:
            layers.append(ConvBNAct(Conv3dSame(channels, attrs["filters"], 1), attrs["filters"], "none", **BN))
            channels = attrs["filters"]
        self.body = nn.Sequential(*layers)
        self.out_channels = channels
        self.residual = None
        if attrs["skip"] and self.frames_out == frames:
            # The shortcut is strided only when the spatial layer changed the size.
            stride = spatial_stride if attrs["spatial_kernel"] > 1 else 1
            self.residual = ConvBNAct(Conv3dSame(in_channels, channels, 1, (1, stride, stride)), channels, "none", **BN)
        self.act = make_activation(attrs["act"])

    @staticmethod
    def _spatial(attrs, channels: int, width: int, stride: int) -> list[nn.Module]:
        kernel, kind, act = attrs["spatial_kernel"], attrs["spatial_type"], attrs["spatial_act"]
        if kernel == 1:
            return []
        if kind in ("maxpool", "avgpool"):
            return [Pool3dSame("max" if kind == "maxpool" else "avg", (1, kernel, kernel), (1, stride, stride))]
        layers = [ConvBNAct(Conv3dSame(channels, width, 1), width, act, **BN)]
        if kind == "std":
            conv = Conv3dSame(width, width, (1, kernel, kernel), (1, stride, stride))
        else:
            conv = FramewiseConv2d(width, width, kernel, stride, groups=width)
        layers.append(ConvBNAct(conv, width, act, **BN))
        return layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        if self.residual is not None:
            residual = self.residual(x)
            if residual.shape[-2:] != out.shape[-2:]:
                raise RuntimeError(f"skip connection size {tuple(residual.shape[-2:])} differs from {tuple(out.shape[-2:])}")
            out = out + residual
        return self.act(out)


class TVNBlock(nn.Sequential):
    """``repeats`` units: the first with the block's strides, the rest with stride 1
    and the temporal layer alternately off and on (off, on, off, ...)."""

    def __init__(self, attrs, in_channels: int, frames: int):
        units = [TVNUnit(attrs, in_channels, frames, attrs["spatial_stride"], attrs["temporal_stride"], True)]
        use_temporal = False
        for _ in range(attrs["repeats"] - 1):
            previous = units[-1]
            units.append(TVNUnit(attrs, previous.out_channels, previous.frames_out, 1, 1, use_temporal))
            use_temporal = not use_temporal
        super().__init__(*units)


def _build_block(attrs, shape, context):
    channels, frames = shape[0], shape[1]
    return TVNBlock(attrs, channels, frames)


TVN_BLOCK = register(
    NodeType(
        name="tvn_block",
        family="tvn",
        doc="A Tiny Video Network block (spatial op, temporal op, expansion, SE, context gating, skip, repeats).",
        attrs=TVN_BLOCK_ATTRS,
        build=_build_block,
        check=_check_block,
        max_inputs=None,
    )
)
