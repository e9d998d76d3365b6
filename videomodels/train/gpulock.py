"""Whose turn it is on a GPU: training steps share it, a latency measurement has it alone.

Several training workers share one GPU (issue 17: small candidates are launch-bound, so 8
side by side train 6.7x faster than one). A latency measurement timed while the others'
kernels run would measure them too, so a measurement takes the GPU alone: every training
step and val batch holds a shared lock on the GPU for its duration, and a measurement an
exclusive one. Locks are ``flock`` on two files per physical GPU, so they work between any
processes of one machine (and die with their holder: a killed worker releases them).

The gate keeps a measurement from waiting forever behind a stream of overlapping steps:
the measurer closes the gate first (no new step starts), then waits for the steps in flight.
Kernels a step queued but the GPU has not finished yet are absorbed by the measurement's
warm-up runs.

Lock files live in ``VIDEOMODELS_LOCK_DIR`` (default: the system temp folder), named by the
physical GPU: the first entry of ``CUDA_VISIBLE_DEVICES`` that the device index points at,
so workers pinned to different GPUs never wait for each other.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import torch

_locks: dict[str, "DeviceLock"] = {}


def physical_gpu(index: int | None = None, env: dict | None = None) -> str:
    """The id of the GPU behind this process's ``cuda:index`` (an index or a UUID, as given)."""
    env = os.environ if env is None else env
    visible = [v.strip() for v in env.get("CUDA_VISIBLE_DEVICES", "").split(",") if v.strip()]
    index = index or 0
    return visible[index] if index < len(visible) else str(index)


def lock_dir() -> Path:
    return Path(os.environ.get("VIDEOMODELS_LOCK_DIR") or tempfile.gettempdir())


class DeviceLock:
    """The shared/exclusive turn on one device, between processes."""

    def __init__(self, name: str, directory: Path | None = None):
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        directory = directory or lock_dir()
        directory.mkdir(parents=True, exist_ok=True)
        self.paths = (directory / f"videomodels-{safe}.gate", directory / f"videomodels-{safe}.lock")
        self._fds: tuple[int, int] | None = None

    def _open(self) -> tuple[int, int]:
        if self._fds is None:
            self._fds = tuple(os.open(path, os.O_RDWR | os.O_CREAT, 0o666) for path in self.paths)  # type: ignore[assignment]
        return self._fds

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        """A training step's turn: any number at once, none while a measurement runs."""
        gate, lock = self._open()
        fcntl.flock(gate, fcntl.LOCK_SH)  # waits while a measurement holds the gate
        fcntl.flock(gate, fcntl.LOCK_UN)
        fcntl.flock(lock, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def exclusive(self, timeout: float | None = None) -> Iterator[float]:
        """The device alone: close the gate, wait for the steps in flight. Yields the seconds waited."""
        gate, lock = self._open()
        started = time.perf_counter()
        deadline = None if timeout is None else started + timeout
        for fd in (gate, lock):
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | (fcntl.LOCK_NB if deadline is not None else 0))
                    break
                except BlockingIOError:
                    if time.perf_counter() > deadline:
                        if fd == lock:
                            fcntl.flock(gate, fcntl.LOCK_UN)
                        raise TimeoutError(f"{self.paths[1]}: the device stayed busy for {timeout:g} s") from None
                    time.sleep(0.005)
        try:
            yield time.perf_counter() - started
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            fcntl.flock(gate, fcntl.LOCK_UN)


def device_lock(device: torch.device | str) -> DeviceLock:
    """This process's lock object for ``device`` (one per physical GPU; 'cpu' has its own)."""
    device = torch.device(device)
    name = f"gpu-{physical_gpu(device.index)}" if device.type == "cuda" else device.type
    if name not in _locks:
        _locks[name] = DeviceLock(name)
    return _locks[name]


def gpu_turn(device: torch.device):
    """The shared turn for one step on a CUDA device; nothing to wait for elsewhere."""
    if device.type != "cuda":
        return contextlib.nullcontext()
    return device_lock(device).shared()
