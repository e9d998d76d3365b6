"""What a worker is busy with, for whoever lists the workers. The runtime cannot know the studio's
workers page (an app to its right), so the studio plugs its recorder in at start."""
from __future__ import annotations

import contextlib
from typing import Callable, ContextManager

from .kinds import Shown

Showing = Callable[[str, int, Shown], ContextManager]
_showing: Showing = lambda kind, job_id, shown: contextlib.nullcontext()  # noqa: E731 - nobody lists the workers


def show_running_with(showing: Showing) -> None:
    global _showing
    _showing = showing


def showing(kind: str, job_id: int, shown: Shown) -> ContextManager:
    """Around a job's run: the worker says it is busy with it."""
    return _showing(kind, job_id, shown)
