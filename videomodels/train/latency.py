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


def _example_inputs(spec: ArchSpec, device: torch.device) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return {
        stream.id: torch.randn((1, stream.channels, stream.frames, stream.size, stream.size), generator=generator).to(device)
        for stream in spec.inputs
    }


def _time_runs(model: torch.nn.Module, inputs: dict[str, torch.Tensor], *, warmup: int, runs: int, threads: int) -> list[float]:
    try:  # the shared profiler, when present, so `describe --latency` and training agree
        from videomodels.profile import measure_latency
    except ImportError:
        measure_latency = None
    if measure_latency is not None:
        return list(measure_latency(model, inputs, warmup=warmup, runs=runs, threads=threads))
    import time

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    cuda = any(t.is_cuda for t in inputs.values())
    timings: list[float] = []
    try:
        with torch.inference_mode():
            for index in range(warmup + runs):
                if cuda:
                    torch.cuda.synchronize()
                start = time.perf_counter()
                model(inputs)
                if cuda:
                    torch.cuda.synchronize()
                if index >= warmup:
                    timings.append((time.perf_counter() - start) * 1000.0)
    finally:
        torch.set_num_threads(previous)
    return timings


def measure_model_latency(
    model: torch.nn.Module, spec: ArchSpec, *, device: str = "cpu", threads: int, warmup: int = 3, runs: int = 10
) -> dict[str, Any]:
    """Median forward time in ms of ``model`` at batch 1 on ``device``; the model is not changed."""
    target = torch.device(device)
    # Measure a copy: moving the caller's model or switching it to eval would change it.
    subject = copy.deepcopy(model).to(target)
    subject.eval()
    timings = _time_runs(subject, _example_inputs(spec, target), warmup=warmup, runs=runs, threads=threads)
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
