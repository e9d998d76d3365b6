from __future__ import annotations

from torch import nn

ACTIVATIONS = ("relu", "hswish", "none")


def make_activation(name: str) -> nn.Module:
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "hswish":
        # x * relu6(x + 3) / 6, as TVN-Mobile's hard_swish.
        return nn.Hardswish()
    if name == "none":
        return nn.Identity()
    raise ValueError(f"unknown activation {name!r}; expected one of {ACTIVATIONS}")
