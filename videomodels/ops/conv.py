"""Convolutions over [B, C, T, H, W] tensors."""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from videomodels.ops.activations import make_activation
from videomodels.ops.padding import pad_3d, triple

CONV_TYPES = ("conv3d", "conv2p1", "itgm")


def he_normal_(weight: torch.Tensor) -> torch.Tensor:
    # Variance scaling, factor 2, fan-in, as the seed code initialises convs.
    return nn.init.kaiming_normal_(weight, mode="fan_in", nonlinearity="relu")


class Conv3dSame(nn.Module):
    """A 3D conv with TF-style "same" (or AssembleNet "fixed") padding, no bias by default."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        dilation: int | Sequence[int] = 1,
        *,
        groups: int = 1,
        bias: bool = False,
        padding: str = "same",
    ):
        super().__init__()
        self.kernel, self.stride, self.dilation = triple(kernel), triple(stride), triple(dilation)
        self.padding = padding
        spans = [(k - 1) * d for k, d in zip(self.kernel, self.dilation)]
        # Stride-1 "same" padding does not depend on the input size; when it is also
        # symmetric the conv pads itself and no extra copy is made.
        self.static = self.stride == (1, 1, 1) and all(span % 2 == 0 for span in spans)
        self.conv = nn.Conv3d(
            in_channels,
            out_channels,
            self.kernel,
            self.stride,
            padding=tuple(span // 2 for span in spans) if self.static else 0,
            dilation=self.dilation,
            groups=groups,
            bias=bias,
        )
        he_normal_(self.conv.weight)
        if bias:
            nn.init.zeros_(self.conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.static:
            x = pad_3d(x, self.kernel, self.stride, self.dilation, mode=self.padding)
        return self.conv(x)


class FramewiseConv2d(nn.Module):
    """A spatial conv applied to every frame with conv2d.

    Grouped/depthwise conv3d takes a slow path on CPU; folding time into the batch
    lets the optimised 2D kernels run instead.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int = 1, *, groups: int = 1):
        super().__init__()
        self.kernel, self.stride = kernel, stride
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride, groups=groups, bias=False)
        he_normal_(self.conv.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = x.shape
        frames = x.transpose(1, 2).reshape(b * t, c, h, w)
        frames = pad_3d(frames[:, :, None], (1, self.kernel, self.kernel), (1, self.stride, self.stride))[:, :, 0]
        out = self.conv(frames)
        return out.reshape(b, t, *out.shape[1:]).transpose(1, 2)


class TemporalConv(Conv3dSame):
    """A 1D conv over time only: kernel [k, 1, 1], optionally dilated and strided."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, *, stride: int = 1, dilation: int = 1):
        super().__init__(in_channels, out_channels, (kernel, 1, 1), (stride, 1, 1), (dilation, 1, 1))


class Conv2Plus1d(nn.Module):
    """(2+1)D conv, temporal first, with ``out // 2`` middle channels as in EvaNet."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        temporal_kernel: int,
        spatial_kernel: int,
        stride: Sequence[int] = (1, 1, 1),
        *,
        bn_momentum: float = 0.1,
        bn_eps: float = 1e-5,
    ):
        super().__init__()
        t_stride, h_stride, w_stride = triple(stride)
        middle = max(out_channels // 2, 1)
        self.temporal = ConvBNAct(
            Conv3dSame(in_channels, middle, (temporal_kernel, 1, 1), (t_stride, 1, 1)),
            middle,
            "relu",
            bn_momentum=bn_momentum,
            bn_eps=bn_eps,
        )
        self.spatial = Conv3dSame(middle, out_channels, (1, spatial_kernel, spatial_kernel), (1, h_stride, w_stride))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.spatial(self.temporal(x))


class ITGMConv3d(nn.Module):
    """Inflated Temporal Gaussian Mixture conv (EvaNet's iTGM).

    A learned k x k spatial kernel per (in, out) pair is multiplied by a temporal
    kernel of length L, a softmax mixture of N Cauchy-shaped curves whose centres and
    widths are shared. Parameters: k*k*in*out + in*out*N + 2N.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        temporal_length: int,
        spatial_kernel: int,
        stride: Sequence[int] = (1, 1, 1),
        *,
        components: int = 4,
    ):
        super().__init__()
        self.length, self.spatial_kernel = temporal_length, spatial_kernel
        self.stride = triple(stride)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, spatial_kernel, spatial_kernel))
        self.centers = nn.Parameter(torch.empty(components))
        self.widths = nn.Parameter(torch.empty(components))
        self.mixing = nn.Parameter(torch.empty(out_channels * in_channels, components))
        he_normal_(self.weight)
        nn.init.normal_(self.centers, 0.0, 0.5)
        nn.init.normal_(self.widths, 0.0, 0.1)
        nn.init.trunc_normal_(self.mixing, 0.0, 1.0, -2.0, 2.0)

    def temporal_kernel(self) -> torch.Tensor:
        """[out, in, L]: each row sums to one."""
        length = self.length
        centers = (length - 1) * (torch.tanh(self.centers) + 1) / 2
        gammas = torch.exp(1.5 - 2 * torch.abs(torch.tanh(self.widths)))
        t = torch.arange(length, dtype=self.weight.dtype, device=self.weight.device)[None, :]
        z = (t - centers[:, None]) / gammas[:, None]
        curves = 1.0 / (math.pi * gammas[:, None] * (1 + z * z))
        curves = curves / curves.sum(dim=1, keepdim=True)  # [N, L]
        mixed = torch.softmax(self.mixing, dim=1) @ curves  # [out*in, L]
        return mixed.reshape(self.out_channels, self.in_channels, length)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel = self.weight[:, :, None, :, :] * self.temporal_kernel()[:, :, :, None, None]
        shape = (self.length, self.spatial_kernel, self.spatial_kernel)
        return F.conv3d(pad_3d(x, shape, self.stride), kernel, stride=self.stride)


def make_conv(
    conv_type: str,
    in_channels: int,
    out_channels: int,
    temporal_kernel: int,
    spatial_kernel: int,
    stride: Sequence[int] = (1, 1, 1),
    *,
    bn_momentum: float = 0.1,
    bn_eps: float = 1e-5,
) -> nn.Module:
    """One of EvaNet's space-time convs; the caller adds the final BN and activation."""
    if conv_type == "conv3d":
        return Conv3dSame(in_channels, out_channels, (temporal_kernel, spatial_kernel, spatial_kernel), stride)
    if conv_type == "conv2p1":
        return Conv2Plus1d(
            in_channels, out_channels, temporal_kernel, spatial_kernel, stride, bn_momentum=bn_momentum, bn_eps=bn_eps
        )
    if conv_type == "itgm":
        return ITGMConv3d(in_channels, out_channels, temporal_kernel, spatial_kernel, stride)
    raise ValueError(f"unknown conv type {conv_type!r}; expected one of {CONV_TYPES}")


class ConvBNAct(nn.Sequential):
    """conv -> BatchNorm3d -> activation (``act='none'`` keeps it linear)."""

    def __init__(
        self,
        conv: nn.Module,
        out_channels: int,
        act: str = "relu",
        *,
        bn_momentum: float = 0.1,
        bn_eps: float = 1e-5,
        zero_init: bool = False,
    ):
        bn = nn.BatchNorm3d(out_channels, eps=bn_eps, momentum=bn_momentum)
        if zero_init:
            # Residual branches start as identity (BN gamma = 0), as in AssembleNet.
            nn.init.zeros_(bn.weight)
        super().__init__(conv, bn, make_activation(act))
