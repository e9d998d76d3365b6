"""AssembleNet's multi-input fusion and AssembleNet++ peer-attention."""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from videomodels.ops.padding import pad_3d


def logit(weight: float) -> float:
    weight = min(max(weight, 1e-6), 1 - 1e-6)
    return -math.log(1.0 / weight - 1.0)


def max_pool_to(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Max-pool ``x`` down to ``size`` (T, H, W) with an integer ratio where one fits."""
    if tuple(x.shape[-3:]) == tuple(size):
        return x
    ratios = [(have + 1) // want for have, want in zip(x.shape[-3:], size)]
    ratios = [max(ratio, 1) for ratio in ratios]
    pooled = F.max_pool3d(pad_3d(x, ratios, ratios, value=float("-inf")), ratios, ratios)
    if tuple(pooled.shape[-3:]) != tuple(size):
        pooled = F.adaptive_max_pool3d(x, tuple(size))
    return pooled


class PeerAttention(nn.Module):
    """Per-frame channel attention on a node's connections, driven by lower-level peers.

    The peers' pooled features are projected to a common width once per node; each
    connection mixes them with its own learned softmax weights (the one-shot search of
    attention connectivity), projects to its channels and squashes with a sigmoid.
    """

    def __init__(self, peer_channels: Sequence[int], connection_channels: Sequence[int]):
        super().__init__()
        self.width = max(peer_channels)
        self.project = nn.ModuleList(nn.Linear(channels, self.width) for channels in peer_channels)
        self.mix = nn.ParameterList(nn.Parameter(torch.empty(len(peer_channels))) for _ in connection_channels)
        for weights in self.mix:
            nn.init.trunc_normal_(weights, 0.0, 0.01, -0.02, 0.02)
        self.gates = nn.ModuleList(nn.Linear(self.width, channels) for channels in connection_channels)

    def peer_context(self, peers: Sequence[torch.Tensor], frames: int) -> torch.Tensor:
        """[P, B, T, width]: every peer pooled per frame and projected."""
        projected = []
        for project, peer in zip(self.project, peers):
            pooled = peer.mean(dim=(3, 4))  # [B, C, T]
            if pooled.shape[2] != frames:
                pooled = F.adaptive_avg_pool1d(pooled, frames)
            projected.append(project(pooled.transpose(1, 2)))
        return torch.stack(projected)

    def forward(self, index: int, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        weights = torch.softmax(self.mix[index], dim=0)
        mixed = torch.einsum("p,pbtc->btc", weights, context)
        gate = torch.sigmoid(self.gates[index](mixed))  # [B, T, C]
        return x * gate.transpose(1, 2)[:, :, :, None, None]


class WeightedFusion(nn.Module):
    """Fuse several inputs: pool to the smallest size, weight, match channels, sum.

    Each edge has one scalar whose sigmoid scales its input. Inputs with the same
    channel count are summed; each other group is brought to the widest
    (non-excluded) width by a 1x1x1 conv without bias.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        weights: Sequence[float | None],
        learnable: Sequence[bool],
        *,
        excluded_from_width: Sequence[bool] | None = None,
        attention: PeerAttention | None = None,
    ):
        super().__init__()
        count = len(in_channels)
        excluded = list(excluded_from_width or [False] * count)
        candidates = [c for c, skip in zip(in_channels, excluded) if not skip] or list(in_channels)
        self.out_channels = max(candidates)
        self.in_channels = list(in_channels)
        initial = [logit(0.5 if weight is None else weight) for weight in weights]
        self.learnable_index = [i for i in range(count) if learnable[i]]
        self.frozen_index = [i for i in range(count) if not learnable[i]]
        self.learned_logits = nn.Parameter(torch.tensor([initial[i] for i in self.learnable_index]))
        self.register_buffer("frozen_logits", torch.tensor([initial[i] for i in self.frozen_index]))
        self.match = nn.ModuleDict()
        for channels in sorted(set(in_channels)):
            if channels != self.out_channels:
                conv = nn.Conv3d(channels, self.out_channels, 1, bias=False)
                nn.init.kaiming_normal_(conv.weight, mode="fan_in", nonlinearity="relu")
                self.match[str(channels)] = conv
        self.attention = attention

    def logits(self) -> torch.Tensor:
        values = [None] * len(self.in_channels)
        for slot, index in enumerate(self.learnable_index):
            values[index] = self.learned_logits[slot]
        for slot, index in enumerate(self.frozen_index):
            values[index] = self.frozen_logits[slot]
        return torch.stack(values)

    def edge_weights(self) -> list[float]:
        """Post-sigmoid weights in input order, as stored in specs."""
        return torch.sigmoid(self.logits().detach().float()).cpu().tolist()

    def forward(self, xs: Sequence[torch.Tensor], peers: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
        size = [min(x.shape[axis] for x in xs) for axis in (2, 3, 4)]
        scales = torch.sigmoid(self.logits())
        context = self.attention.peer_context(peers or [], size[0]) if self.attention is not None else None
        groups: dict[int, torch.Tensor] = {}
        for index, x in enumerate(xs):
            x = max_pool_to(x, size) * scales[index].to(x.dtype)
            if context is not None:
                x = self.attention(index, x, context)
            channels = x.shape[1]
            groups[channels] = groups[channels] + x if channels in groups else x
        fused = 0
        for channels, x in groups.items():
            fused = fused + (x if channels == self.out_channels else self.match[str(channels)](x))
        return fused
