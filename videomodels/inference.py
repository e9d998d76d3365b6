"""Inference-time rewrites that change speed, never results: BatchNorm folded into convs."""
from __future__ import annotations

import copy

import torch
from torch import nn

from videomodels.ops.conv import Conv2Plus1d, Conv3dSame, FramewiseConv2d


def _fold_into(conv: nn.Conv3d | nn.Conv2d, bn: nn.BatchNorm3d) -> None:
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    shape = (-1,) + (1,) * (conv.weight.dim() - 1)
    conv.weight = nn.Parameter(conv.weight * scale.reshape(shape))
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    conv.bias = nn.Parameter(bn.bias + (bias - bn.running_mean) * scale)


@torch.no_grad()
def fold_batchnorm(model: nn.Module) -> nn.Module:
    """A copy of ``model`` (eval mode) where every conv directly followed by its BatchNorm
    in a Sequential carries the BN's affine transform instead; the BN becomes Identity."""
    folded = copy.deepcopy(model).eval()
    for module in folded.modules():
        if not isinstance(module, nn.Sequential):
            continue
        children = list(module.named_children())
        for (_, first), (name, second) in zip(children, children[1:]):
            if not (isinstance(second, nn.BatchNorm3d) and second.track_running_stats):
                continue
            if isinstance(first, Conv2Plus1d):
                first = first.spatial  # the BN follows the (2+1)D block's last, spatial conv
            if isinstance(first, (Conv3dSame, FramewiseConv2d)):
                _fold_into(first.conv, second)
                setattr(module, name, nn.Identity())
    return folded
