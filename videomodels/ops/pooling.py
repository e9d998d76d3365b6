from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from videomodels.ops.padding import pad_3d, triple


class Pool3dSame(nn.Module):
    """Max or average pooling with TF "SAME" padding.

    Max pooling pads with -inf and average pooling divides by the number of real
    (unpadded) elements, as TF does, so border outputs are not diluted.
    """

    def __init__(self, kind: str, kernel: int | Sequence[int], stride: int | Sequence[int]):
        super().__init__()
        if kind not in ("max", "avg"):
            raise ValueError(f"pool kind must be 'max' or 'avg', got {kind!r}")
        self.kind = kind
        self.kernel = triple(kernel)
        self.stride = triple(stride)

    def extra_repr(self) -> str:
        return f"{self.kind}, kernel={self.kernel}, stride={self.stride}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kernel == (1, 1, 1) and self.stride == (1, 1, 1):
            return x
        if self.kind == "max":
            padded = pad_3d(x, self.kernel, self.stride, value=float("-inf"))
            return F.max_pool3d(padded, self.kernel, self.stride)
        padded = pad_3d(x, self.kernel, self.stride)
        summed = F.avg_pool3d(padded, self.kernel, self.stride)
        if padded is x:
            return summed
        ones = torch.ones((1, 1) + tuple(x.shape[-3:]), dtype=x.dtype, device=x.device)
        coverage = F.avg_pool3d(pad_3d(ones, self.kernel, self.stride), self.kernel, self.stride)
        return summed / coverage
