"""Channel gates computed from the whole clip (pooled over T, H and W)."""
from __future__ import annotations

import torch
from torch import nn


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int, ratio: float, *, min_width: int = 8):
        super().__init__()
        # int(), not round(): TVN-1's last block expects int(2048 * 0.7265...) = 1487.
        reduced = max(int(channels * ratio), min_width)
        self.reduce = nn.Linear(channels, reduced)
        self.expand = nn.Linear(reduced, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = x.mean(dim=(2, 3, 4))
        gate = torch.sigmoid(self.expand(torch.relu(self.reduce(pooled))))
        return x * gate[:, :, None, None, None]


class ContextGate(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.fc = nn.Linear(channels, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.fc(x.mean(dim=(2, 3, 4))))
        return x * gate[:, :, None, None, None]
