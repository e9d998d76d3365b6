"""The editor's CPU latency estimate, calibrated on this machine (videomodels.latency_model).

Two sources of measured networks: specs measured here and now (``measure_specs``: videomodels'
latency measurement, the search's own rounds and warm-up), and the studio's candidates whose
latency a search already measured on the CPU (``candidate_samples``). ``calibrate`` fits, stores a
LatencyCalibration row saying when, where and on what, and the editor reads the newest
(``estimate_for``), falling back to an uncalibrated figure that says so.
"""
from __future__ import annotations

import os
import platform
import random
from collections.abc import Iterable, Sequence

import torch
from archsearch.evaluate import measure_candidate_latency
from archsearch.spaces import SpaceConfig, make_space
from videomodels.archspec import ArchSpec
from videomodels.graph import analyze
from videomodels.latency_model import Calibration, calibrate, features_of
from videomodels.presets import get_preset

from ..models import Candidate, LatencyCalibration

# Uncalibrated: multiply-adds at the throughput measured for the published presets on the project's
# 2-core benchmark machine (docs/BENCHMARKS.md: ~30 GMAC/s); blind to per-operator overhead.
UNCALIBRATED_GMACS_PER_S = 30.0
# Not baseline-2d: its 2D blocks share the EvaNet node types but not their cost, and would skew the fit.
SMALL_PRESETS = ("tvn-small", "assemblenet-small")


def machine_words(threads: int) -> str:
    """'vm: Intel Xeon ... (2 cores), 1 thread, torch 2.x': where a measurement was made."""
    processor = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            processor = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), processor)
    except OSError:
        pass
    return (f"{platform.node()}: {processor} ({os.cpu_count()} cores), {threads} thread{'s' if threads != 1 else ''}, "
            f"torch {torch.__version__}")


def sample_specs(count: int, seed: int = 0) -> list[ArchSpec]:
    """Small presets plus networks drawn from the TVN and EvaNet search spaces (what a search trains)."""
    rng = random.Random(seed)
    specs = [get_preset(name) for name in SMALL_PRESETS]
    spaces = [make_space(family, SpaceConfig(num_classes=10)) for family in ("tvn", "evanet")]
    while len(specs) < count:
        specs.append(spaces[len(specs) % len(spaces)].sample(rng))
    return specs[:count]


def measure_specs(specs: Iterable[ArchSpec], *, threads: int = 1, runs: int = 5) -> list[tuple[ArchSpec, float]]:
    """Each spec's latency measured here as a search measures it, over three rounds whatever the
    figure (a budget of 0 ms asks for every round): a calibration should not rest on one disturbed round."""
    return [(spec, measure_candidate_latency(spec, threads=threads, runs=runs, budget_ms=0.0).ms) for spec in specs]


def candidate_samples(limit: int = 500) -> list[tuple[ArchSpec, float]]:
    """The newest CPU-measured candidates of every search, with the latency their search recorded."""
    rows = (Candidate.objects.filter(latency_ms__isnull=False, latency_device="cpu").order_by("-pk")
            .values_list("spec", "latency_ms")[:limit])
    samples = []
    for spec, latency in rows:
        try:
            samples.append((ArchSpec.from_dict(spec), latency))
        except Exception:  # noqa: BLE001 - an old or hand-made spec that no longer parses is no sample
            continue
    return samples


def fit(samples: Sequence[tuple[ArchSpec, float]]) -> Calibration:
    return calibrate([(features_of(analyze(spec)), latency) for spec, latency in samples])


def store(calibration: Calibration, *, source: str, threads: int) -> LatencyCalibration:
    return LatencyCalibration.objects.create(device="cpu", machine=machine_words(threads), threads=threads, source=source,
                                             fit=calibration.to_dict())


def current() -> LatencyCalibration | None:
    return LatencyCalibration.objects.filter(device="cpu").first()


def uncalibrated_ms(macs: int) -> float:
    return macs / (UNCALIBRATED_GMACS_PER_S * 1e9) * 1000.0
