"""Run-time environment of a training run: device choice, CPU threads and seeding."""
from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator

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


def deterministic_cuda() -> None:
    """cuDNN picks algorithms by timing unless told not to, which changes the numbers."""
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def loader_generator(seed: int) -> torch.Generator:
    """Generator for a DataLoader's shuffling and worker base seeds."""
    return torch.Generator().manual_seed(seed)


def seed_worker(worker_id: int) -> None:
    """DataLoader worker_init_fn: derive numpy/python seeds from the worker's torch seed
    (which the loader derives from its seeded generator), so workers are reproducible."""
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)
