"""Training-free screening: score a random architecture before spending any training on it.

SynFlow (Tanaka et al. 2020, used as a zero-cost NAS proxy by Abdelfattah et al. 2021):
with every weight replaced by its absolute value and a positive input, the score is
sum |theta * dR/dtheta| for R the sum of the logits. The input is a fixed positive
random clip rather than all ones: a constant clip has no motion, so frame differences
and optical-flow layers would zero every gradient. It needs no data and no labels, and it is a pure function of the spec (fixed initialisation seed), so a search
that screens with it stays replayable from its history.
"""
from __future__ import annotations

import math

import torch

from videomodels import ArchSpec, build_model


@torch.no_grad()
def _make_positive(model: torch.nn.Module) -> None:
    for tensor in model.state_dict().values():
        if tensor.is_floating_point():
            tensor.abs_()


def synflow(spec: ArchSpec) -> float:
    """log of the SynFlow score (higher: more trainable signal flow); -inf when it vanishes."""
    torch.manual_seed(0)
    model = build_model(spec, device="cpu").double().eval()  # eval: batch norm as an affine map
    _make_positive(model)
    generator = torch.Generator().manual_seed(0)
    inputs = {stream.id: torch.rand((1, stream.channels, stream.frames, stream.size, stream.size), generator=generator,
                                    dtype=torch.float64) for stream in spec.inputs}
    model.zero_grad(set_to_none=True)
    model(inputs).sum().backward()
    with torch.no_grad():
        total = sum(float((p * p.grad).abs().sum()) for p in model.parameters() if p.grad is not None)
    return math.log(total) if total > 0 and math.isfinite(total) else float("-inf")


PROXIES = {"synflow": synflow}
