"""Run-time environment of a training run: device choice and settings, CPU threads, seeding,
and a GPU shared by several workers."""
from __future__ import annotations

import contextlib
import dataclasses
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from .errors import TrainError

DEVICES = ("auto", "cpu", "cuda")


def default_threads() -> int:
    """min(4, cores): more threads rarely help small video models and hurt neighbours."""
    return max(1, min(4, os.cpu_count() or 1))


def resolve_device(name: str) -> torch.device:
    """'auto' -> cuda when available, else cpu; asking for missing cuda is an error."""
    if name not in DEVICES:
        raise TrainError(f"device must be one of {', '.join(DEVICES)}, got {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainError("device 'cuda' was requested but no CUDA GPU is available (use --device cpu or auto)")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


@contextlib.contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Use ``count`` intra-op CPU threads inside the block and restore the old count after,
    so a long-lived process (web worker, search engine) is left as it was."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and every GPU) global generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def loader_generator(seed: int) -> torch.Generator:
    """Generator for a DataLoader's shuffling and worker base seeds."""
    return torch.Generator().manual_seed(seed)


def seed_worker(worker_id: int) -> None:
    """DataLoader worker_init_fn: derive numpy/python seeds from the worker's torch seed
    (which the loader derives from its seeded generator), so workers are reproducible."""
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


# ---------------------------------------------------------------- CUDA settings of a run

PRECISIONS = ("fp32", "bf16", "fp16")

# cuDNN autotuning times every algorithm for each new layer shape on its first step and
# keeps the fastest. A run shorter than this many optimizer steps leaves it off: with few
# steps of a network full of new shapes (a search candidate), timing the algorithms can cost
# more than it saves. benchmarks/gpu.py measures the break-even (first-step cost against
# the steady-state saving per step) on a GPU; revise this from its table.
AUTOTUNE_MIN_STEPS = 20


@dataclass(frozen=True)
class DeviceSettings:
    """How one run uses its device; ``to_dict()`` is recorded with the run.

    deterministic: cuDNN restricted to deterministic algorithms, no autotuning (bit-for-bit
        repeatable on one machine, 1.5-9x slower on a GPU: issue 17's H200 table).
    cudnn_benchmark: cuDNN autotuning (times the algorithms once per new shape).
    tf32: TensorFloat-32 matrix multiplies on cards that have it (cuDNN convolutions use it
        by default in PyTorch whatever this says).
    precision: 'fp32', or autocast to 'bf16' / 'fp16' (fp16 with a gradient scaler).
    """

    device: str
    deterministic: bool
    cudnn_benchmark: bool
    tf32: bool
    precision: str
    note: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def choose_settings(device_type: str, *, deterministic: bool = False, precision: str = "fp32",
                    autotune: bool | None = None, total_steps: int | None = None) -> DeviceSettings:
    """The settings of a run: on CUDA, autotuning and TF32 unless ``deterministic``;
    ``autotune`` None chooses per run (off below AUTOTUNE_MIN_STEPS steps)."""
    if precision not in PRECISIONS:
        raise TrainError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if device_type != "cuda":
        note = "cuDNN and TF32 do not apply off CUDA"
        return DeviceSettings(device_type, deterministic, False, False, precision, note)
    if deterministic:
        return DeviceSettings(device_type, True, False, False, precision,
                              "deterministic: cuDNN's deterministic algorithms, no autotuning (slower)")
    if autotune is not None:
        benchmark, note = autotune, f"autotuning {'on' if autotune else 'off'} as asked"
    elif total_steps is not None and total_steps < AUTOTUNE_MIN_STEPS:
        benchmark = False
        note = f"autotuning off: {total_steps} steps are fewer than the {AUTOTUNE_MIN_STEPS} it takes to pay for itself"
    else:
        benchmark, note = True, "autotuning and TF32 on"
    return DeviceSettings(device_type, False, benchmark, True, precision, note)


@contextlib.contextmanager
def applied(settings: DeviceSettings) -> Iterator[DeviceSettings]:
    """Set torch's process-wide cuDNN and matmul flags for the block, restored afterwards
    (a worker trains many runs, each with its own settings)."""
    cudnn = torch.backends.cudnn
    before = (cudnn.benchmark, cudnn.deterministic, torch.get_float32_matmul_precision())
    cudnn.benchmark = settings.cudnn_benchmark
    cudnn.deterministic = settings.deterministic
    if settings.device == "cuda":
        torch.set_float32_matmul_precision("high" if settings.tf32 else "highest")
    try:
        yield settings
    finally:
        cudnn.benchmark, cudnn.deterministic = before[0], before[1]
        torch.set_float32_matmul_precision(before[2])


def autocast(device: torch.device, precision: str):
    """Autocast to the run's precision (a no-op context for fp32)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16 if precision == "bf16" else torch.float16)


def grad_scaler(device: torch.device, precision: str) -> torch.amp.GradScaler:
    """fp16 needs loss scaling (its range underflows small gradients); otherwise a disabled scaler."""
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16")


# ---------------------------------------------------------------- one GPU shared by several workers

_memory_share: float | None = None


def limit_gpu_memory(fraction: float | None) -> float | None:
    """Cap this process's CUDA caching allocator at ``fraction`` of its GPU (several training
    workers share one card). Touches CUDA, so call it in the worker, before its first run;
    once per process. Returns the share in force (None: no GPU, or no limit asked)."""
    global _memory_share
    if fraction is None or not torch.cuda.is_available():
        return None
    if not 0 < fraction <= 1:
        raise TrainError(f"GPU memory fraction must be in (0, 1], got {fraction!r}")
    if _memory_share is None:
        torch.cuda.set_per_process_memory_fraction(fraction, 0)
        _memory_share = fraction
    return _memory_share


def is_out_of_memory(error: BaseException) -> bool:
    """A CUDA allocation failure (torch.cuda.OutOfMemoryError, or an older RuntimeError wording)."""
    return isinstance(error, torch.cuda.OutOfMemoryError) or (
        isinstance(error, RuntimeError) and "CUDA out of memory" in str(error))


def free_gpu_memory() -> None:
    """After an out-of-memory error: drop what the failed run held, hand cached blocks back."""
    import gc

    gc.collect()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()
