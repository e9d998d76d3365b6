"""Shared pieces: machine description, the motion benchmark data, table formatting."""
from __future__ import annotations

import os
import platform
import statistics
from pathlib import Path

import torch

from videomodels.data import load_cache, prepare_cache, synthesize

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
# Training threads: one per run, so a second core stays free for loading and the
# figures do not swing with oversubscription on small machines.
TRAIN_THREADS = int(os.environ.get("BENCH_TRAIN_THREADS", "1"))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    cpu = cpu_model()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, GPU: {gpu}, load average at start {load:.1f}"


# Content hash (sha256, first 16 hex digits) of every clip cache a section measured on: its stamp
# in docs/BENCHMARKS.md names them, so a figure can be traced to the exact data.
CACHES_USED: dict[str, str] = {}


def record_cache(cache: Path) -> Path:
    CACHES_USED[cache.name] = load_cache(cache).content_hash()[:16]
    return cache


def motion_cache(*, clips_per_class: int = 24, frames: int = 8, size: int = 32, flow: bool = True, seed: int = 0) -> Path:
    """The motion benchmark (10 classes), synthesized once and prepared into a clip cache."""
    videos = WORK / f"motion-{clips_per_class}-s{seed}"
    if not (videos / ".complete").exists():
        synthesize(videos, clips_per_class=clips_per_class, seed=seed, frames=max(16, frames * 2), size=max(48, size))
        (videos / ".complete").write_text("ok")
    cache = WORK / f"cache-{clips_per_class}-s{seed}-{frames}x{size}{'-flow' if flow else ''}"
    prepare_cache(videos, cache, frames=frames, size=size, flow=flow, val_fraction=0.25, seed=0, progress=False)
    return record_cache(cache)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def table(headers: list[str], rows: list[list]) -> str:
    def fmt(value):
        if value is None:
            return "–"
        if isinstance(value, float):
            return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def spread(values, *, digits: int = 3) -> str:
    """``median [min-max]`` of the values that exist, for one cell of a table."""
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    fmt = (lambda v: f"{v:.{digits}g}") if digits else (lambda v: f"{v:.0f}")
    return f"{fmt(statistics.median(values))} [{fmt(min(values))}-{fmt(max(values))}]"
