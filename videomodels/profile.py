"""Profiler: parameters, multiply-adds, output shape and measured CPU latency."""
from __future__ import annotations

import os
import statistics
import time
from dataclasses import asdict, dataclass

import torch

from videomodels.archspec import ArchSpec
from videomodels.graph import analyze, build_model
from videomodels.inference import fold_batchnorm


@dataclass
class Profile:
    name: str
    family: str
    params: int
    macs: int
    output_shape: list[int]
    inputs: dict[str, list[int]]
    latency_ms: float | None = None
    latency_runs: int = 0
    threads: int | None = None
    device: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def example_inputs(spec: ArchSpec, *, batch: int = 1, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return {
        stream.id: torch.randn((batch, stream.channels, stream.frames, stream.size, stream.size), generator=generator).to(device)
        for stream in spec.inputs
    }


def measure_latency(
    model: torch.nn.Module,
    inputs: dict[str, torch.Tensor],
    *,
    warmup: int = 3,
    runs: int = 10,
    threads: int | None = None,
    give_up_ms: float | None = None,
) -> list[float]:
    """Per-run wall times in ms for one forward pass (eval mode, no autograd).

    Latency only means something at a fixed thread count, after warm-up, as a median.
    It is measured as deployed: on a copy with BatchNorm folded into the convs.
    ``give_up_ms``: a run (warm-up included) slower than this ends the measurement at once and
    its time is the only one returned; a search rejecting models far over its budget needs no median.
    """
    model = fold_batchnorm(model)
    previous = torch.get_num_threads()
    if threads is not None:
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
                elapsed = (time.perf_counter() - start) * 1000.0
                if give_up_ms is not None and elapsed > give_up_ms:
                    return [elapsed]
                if index >= warmup:
                    timings.append(elapsed)
    finally:
        torch.set_num_threads(previous)
    return timings


def default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def profile_spec(
    spec: ArchSpec,
    *,
    latency: bool = False,
    runs: int = 10,
    warmup: int = 3,
    threads: int | None = None,
    device: str = "cpu",
    num_classes: int | None = None,
) -> Profile:
    analysis = analyze(spec, num_classes=num_classes)
    result = Profile(
        name=spec.name,
        family=spec.family,
        params=analysis.params,
        macs=analysis.macs,
        output_shape=[1, *analysis.output_shape],
        inputs={s.id: [1, s.channels, s.frames, s.size, s.size] for s in spec.inputs},
    )
    if latency:
        torch.manual_seed(0)
        threads = threads or default_threads()
        model = build_model(spec, num_classes=num_classes, device=device, analysis=analysis)
        timings = measure_latency(model, example_inputs(spec, device=device), warmup=warmup, runs=runs, threads=threads)
        result.latency_ms = statistics.median(timings)
        result.latency_runs = runs
        result.threads = threads
        result.device = device
    return result
