"""Independent benchmark runs spread over the cores, one training thread each.

Every search run and every training of a table is independent of the others and is
budgeted in CPU seconds of its own process, so running them side by side on a 2-core
machine halves the wall-clock time without changing who wins. Jobs are module-level
functions with picklable arguments and results (processes start with ``spawn``: a
forked PyTorch is not safe).
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Sequence

from benchmarks.common import TRAIN_THREADS


def worker_count() -> int:
    """``BENCH_WORKERS``, else one process per ``TRAIN_THREADS`` cores."""
    configured = os.environ.get("BENCH_WORKERS")
    if configured:
        return max(1, int(configured))
    return max(1, (os.cpu_count() or 1) // max(1, TRAIN_THREADS))


def _start_worker() -> None:
    import optuna
    import torch

    torch.set_num_threads(TRAIN_THREADS)
    optuna.logging.set_verbosity(optuna.logging.WARNING)


Job = tuple[Callable[..., Any], tuple, dict]


def job(function: Callable[..., Any], *args, **kwargs) -> Job:
    return function, args, kwargs


def run_jobs(jobs: Sequence[Job]) -> list[Any]:
    """The jobs' results in the order given; in this process when there is one worker or one job."""
    workers = min(worker_count(), len(jobs))
    if workers <= 1:
        return [function(*args, **kwargs) for function, args, kwargs in jobs]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker) as pool:
        futures = [pool.submit(function, *args, **kwargs) for function, args, kwargs in jobs]
        try:
            return [future.result() for future in futures]
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)  # a broken job: do not sit through the rest
            raise
