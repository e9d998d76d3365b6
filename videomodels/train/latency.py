"""Latency of a trained model: one function, so the measuring method can be swapped.

Measured at batch 1 in eval mode without autograd, at a fixed thread count, after
warm-up runs, as the median of several runs (see ``videomodels.profile``). By default
on CPU whatever device trained the model, so numbers are comparable across runs
and reflect the small-device deployment the search optimises for. On a GPU (the
deployment target of some searches), each run is synchronised, and the measurement has
the GPU alone: it waits for the training steps of the other workers sharing the card
and holds theirs back while it runs (``gpulock``).
"""
from __future__ import annotations

import contextlib
import copy
import statistics
from typing import Any

import torch

from videomodels.archspec import ArchSpec
from videomodels.profile import example_inputs, measure_latency

from .errors import TrainError
from .gpulock import device_lock

LATENCY_DEVICES = ("cpu", "cuda")


def check_latency_device(name: str) -> torch.device:
    """'cpu' or 'cuda' as a device; asking for CUDA where there is none is a TrainError."""
    if name not in LATENCY_DEVICES:
        raise TrainError(f"latency device must be one of {', '.join(LATENCY_DEVICES)}, got {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainError("latency on 'cuda' was asked for but this machine has no CUDA GPU (measure on 'cpu')")
    return torch.device(name)


def device_name(device: torch.device | str) -> str:
    """What a latency was measured on, in words: the GPU's name, or 'cpu'."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return "cpu"


def alone_on(device: torch.device | str):
    """The GPU to itself while timing (CPU timing takes no lock, as before)."""
    device = torch.device(device)
    return device_lock(device).exclusive() if device.type == "cuda" else contextlib.nullcontext()


def measure_model_latency(
    model: torch.nn.Module, spec: ArchSpec, *, device: str = "cpu", threads: int, warmup: int = 3, runs: int = 10
) -> dict[str, Any]:
    """Median forward time in ms of ``model`` at batch 1 on ``device``; the model is not changed."""
    target = check_latency_device(torch.device(device).type)
    # Measure a copy: moving the caller's model or switching it to eval would change it.
    subject = copy.deepcopy(model).to(target)
    subject.eval()
    with alone_on(target):
        timings = measure_latency(subject, example_inputs(spec, device=target), warmup=warmup, runs=runs, threads=threads)
    return {
        "ms": statistics.median(timings),
        "min_ms": min(timings),
        "batch": 1,
        "device": str(target),
        "hardware": device_name(target),
        "threads": threads,
        "warmup": warmup,
        "runs": runs,
        "inputs": {s.id: [1, s.channels, s.frames, s.size, s.size] for s in spec.inputs},
    }
