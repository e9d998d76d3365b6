"""TensorFlow-compatible padding.

TF "SAME" pads asymmetrically (more at the end) for even kernels or strides; the
published TVN/EvaNet configs rely on it, so the output sizes must match exactly.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F


def same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    out = math.ceil(size / stride)
    effective = (kernel - 1) * dilation + 1
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def fixed_pads(kernel: int, dilation: int = 1) -> tuple[int, int]:
    """AssembleNet's input-size-independent padding for strided convs."""
    total = (kernel - 1) * dilation
    return total // 2, total - total // 2


def pad_3d(
    x: torch.Tensor,
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int] = (1, 1, 1),
    *,
    mode: str = "same",
    value: float = 0.0,
) -> torch.Tensor:
    """Pad the last three dims (T, H, W) of ``x``; returns ``x`` itself when nothing is needed."""
    pads: list[int] = []
    sizes = x.shape[-3:]
    # F.pad takes the last dimension first.
    for axis in (2, 1, 0):
        if mode == "same":
            before, after = same_pads(sizes[axis], kernel[axis], stride[axis], dilation[axis])
        else:
            before, after = fixed_pads(kernel[axis], dilation[axis])
        pads += [before, after]
    if not any(pads):
        return x
    return F.pad(x, pads, value=value)


def triple(value: int | Sequence[int]) -> tuple[int, int, int]:
    if isinstance(value, int):
        return (value, value, value)
    t, h, w = value
    return (int(t), int(h), int(w))
