"""How many processes pytest-xdist starts for `-n auto` (pyproject's addopts).

Most of the suite waits on Celery workers, Daphne and Chromium rather than the CPU, so even a 2-core
machine runs two test processes; each has its own test database, Redis, Daphne, worker and data folder
(tests/webapp/conftest.py). One test file or named tests run in this process, as without xdist.
PYTEST_XDIST_AUTO_NUM_WORKERS (or an explicit `-n N` / `-n0`) overrides this.
"""
from __future__ import annotations

import gc
import os
from pathlib import Path


def pytest_xdist_auto_num_workers(config):
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook reads it
    args = [arg for arg in config.args if not arg.startswith("-")]
    if args and all("::" in arg for arg in args):
        return 0
    if len(args) == 1 and Path(args[0]).is_file():
        return 0
    return max(2, len(os.sched_getaffinity(0)))


def pytest_collection_modifyitems(session, config, items):
    """Files with a slow test go first: `--dist loadfile` hands out files in collection order, so the
    long ones start while the other process works through the many short ones instead of one of them
    arriving last and running alone."""
    def module(item):
        return item.nodeid.split("::", 1)[0]

    slow_modules = {module(item) for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: module(item) not in slow_modules)  # stable: order within a file is kept


def pytest_collection_finish(session):
    """Everything collection imported (torch, Django, the test modules) lives to the end of the process:
    move it out of the collector's reach, so the full collections that run between tests (and Python's own)
    scan only what tests made since, not torch's million objects (0.25 s per collection before)."""
    gc.collect()
    gc.freeze()
