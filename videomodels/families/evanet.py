"""EvaNet: modules of parallel space-time branches inside a fixed ResNet-like network."""
from __future__ import annotations

import torch
from torch import nn

from videomodels.ops import ConvBNAct, Conv3dSame, Pool3dSame, make_conv
from videomodels.ops.conv import CONV_TYPES
from videomodels.schema import Attr, NodeType, register

BN = {"bn_momentum": 0.1, "bn_eps": 1e-5}  # TF decay 0.9
TEMPORAL_SIZES = (1, 3, 5, 7, 9, 11)
BRANCH_KINDS = ("1x1", "conv", "conv2", "maxpool_conv")

BRANCH_ATTRS = {
    "kind": Attr("choice", choices=BRANCH_KINDS),
    "conv_type": Attr("choice", "conv3d", choices=CONV_TYPES),
    "temporal_kernel": Attr("int", 1, minimum=1, maximum=11, odd=True),
    "conv_type2": Attr("choice", "conv3d", choices=CONV_TYPES),
    "temporal_kernel2": Attr("int", 1, minimum=1, maximum=11, odd=True),
}


def branch_width(total: int, branches: int) -> int:
    # Floor division, so widths such as 5 x 51 = 255 match the released networks.
    return total // branches


def make_branch(branch: dict, in_channels: int, width: int, use_time: bool) -> nn.Module:
    """One parallel branch; conv temporal sizes collapse to 1 when ``use_time`` is off."""
    kind = branch["kind"]
    t1 = branch["temporal_kernel"] if use_time else 1
    t2 = branch["temporal_kernel2"] if use_time else 1
    if kind == "1x1":
        return ConvBNAct(Conv3dSame(in_channels, width, 1), width, "none", **BN)
    if kind == "conv":
        half = max(width // 2, 1)
        return nn.Sequential(
            ConvBNAct(Conv3dSame(in_channels, half, 1), half, "relu", **BN),
            ConvBNAct(make_conv(branch["conv_type"], half, width, t1, 3, **BN), width, "none", **BN),
        )
    if kind == "conv2":
        quarter, half = max(width // 4, 1), max(width // 2, 1)
        return nn.Sequential(
            ConvBNAct(Conv3dSame(in_channels, quarter, 1), quarter, "relu", **BN),
            ConvBNAct(make_conv(branch["conv_type"], quarter, half, t1, 3, **BN), half, "relu", **BN),
            ConvBNAct(make_conv(branch["conv_type2"], half, width, t2, 3, **BN), width, "none", **BN),
        )
    # maxpool_conv keeps its temporal size in every repeat, as in the released code.
    return nn.Sequential(
        Pool3dSame("max", (branch["temporal_kernel"], 3, 3), 1),
        ConvBNAct(Conv3dSame(in_channels, width, 1), width, "none", **BN),
    )


class EvaNetModule(nn.Module):
    """ReLU(concat(branches) + shortcut); projection shortcut in the first repeat."""

    def __init__(self, branches: list[dict], total: int, in_channels: int, *, use_time: bool, projection: bool):
        super().__init__()
        width = branch_width(total, len(branches))
        self.out_channels = width * len(branches)
        self.branches = nn.ModuleList(make_branch(b, in_channels, width, use_time) for b in branches)
        self.shortcut = (
            ConvBNAct(Conv3dSame(in_channels, self.out_channels, 1), self.out_channels, "none", **BN)
            if projection
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(torch.cat([branch(x) for branch in self.branches], dim=1) + self.shortcut(x))


class EvaNetBlock(nn.Sequential):
    def __init__(self, attrs, in_channels: int):
        modules = []
        channels = in_channels
        for repeat in range(attrs["repeats"]):
            use_time = repeat == 0 or repeat % 2 == 0
            module = EvaNetModule(attrs["branches"], attrs["filters"], channels, use_time=use_time, projection=repeat == 0)
            modules.append(module)
            channels = module.out_channels
        super().__init__(*modules)


def _check_block(attrs, where):
    problems = []
    if attrs["filters"] // len(attrs["branches"] or [0]) < 4:
        problems.append((f"{where}.filters", f"{attrs['filters']} filters over {len(attrs['branches'])} branches leaves fewer than 4 per branch"))
    return problems


def _build_stem(attrs, shape, context):
    stride = (attrs["temporal_stride"], attrs["spatial_stride"], attrs["spatial_stride"])
    conv = make_conv(attrs["conv_type"], shape[0], attrs["filters"], attrs["temporal_kernel"], attrs["spatial_kernel"], stride, **BN)
    return ConvBNAct(conv, attrs["filters"], "relu", **BN)


register(
    NodeType(
        name="evanet_stem",
        family="evanet",
        doc="The first space-time conv (EvaNet's convop1/time1), BN and ReLU.",
        attrs={
            "conv_type": Attr("choice", "conv2p1", choices=CONV_TYPES),
            "temporal_kernel": Attr("int", 3, minimum=1, maximum=11, odd=True),
            "spatial_kernel": Attr("int", 7, minimum=1, maximum=11),
            "temporal_stride": Attr("int", 2, minimum=1, maximum=4),
            "spatial_stride": Attr("int", 2, minimum=1, maximum=4),
            "filters": Attr("int", 64, minimum=1, maximum=8192),
        },
        build=_build_stem,
    )
)

register(
    NodeType(
        name="evanet_block",
        family="evanet",
        doc="Repeated modules of parallel branches (1x1, conv, conv2, maxpool_conv) with a residual.",
        attrs={
            "filters": Attr("int", minimum=4, maximum=8192, doc="total width, split evenly over branches"),
            "repeats": Attr("int", 1, minimum=1, maximum=32),
            "branches": Attr("list", item=BRANCH_ATTRS, min_items=1, max_items=8),
        },
        build=lambda attrs, shape, context: EvaNetBlock(attrs, shape[0]),
        check=_check_block,
        max_inputs=None,
    )
)
