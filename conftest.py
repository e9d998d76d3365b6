"""How many processes pytest-xdist starts for `-n auto` (pyproject's addopts).

Most of the suite waits on Celery workers, Daphne and Chromium rather than the CPU, so even a 2-core
machine runs two test processes; each has its own test database, Redis, Daphne, worker and data folder
(tests/webapp/conftest.py). One test file or named tests run in this process, as without xdist.
PYTEST_XDIST_AUTO_NUM_WORKERS (or an explicit `-n N` / `-n0`) overrides this.
"""
from __future__ import annotations

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
