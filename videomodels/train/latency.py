"""Latency of a trained model: one function, so the measuring method can be swapped.

Measured at batch 1 in eval mode without autograd, at a fixed thread count, after
warm-up runs, as the median of several runs (see ``videomodels.profile``). By default
on CPU whatever device trained the model, so numbers are comparable across runs
and reflect the small-device deployment the search optimises for.
"""
from __future__ import annotations

import copy
import statistics
from typing import Any

import torch

from videomodels.archspec import ArchSpec
from videomodels.profile import example_inputs, measure_latency


def measure_model_latency(
    model: torch.nn.Module, spec: ArchSpec, *, device: str = "cpu", threads: int, warmup: int = 3, runs: int = 10
) -> dict[str, Any]:
    """Median forward time in ms of ``model`` at batch 1 on ``device``; the model is not changed."""
    target = torch.device(device)
    # Measure a copy: moving the caller's model or switching it to eval would change it.
    subject = copy.deepcopy(model).to(target)
    subject.eval()
    timings = measure_latency(subject, example_inputs(spec, device=target), warmup=warmup, runs=runs, threads=threads)
    return {
        "ms": statistics.median(timings),
        "min_ms": min(timings),
        "batch": 1,
        "device": str(target),
        "threads": threads,
        "warmup": warmup,
        "runs": runs,
        "inputs": {s.id: [1, s.channels, s.frames, s.size, s.size] for s in spec.inputs},
    }
