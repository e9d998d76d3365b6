"""Between a running job and the runtime: the job reports progress, the runtime says when to stop.

The job reports as often as it likes (every training step); only the latest values are kept, in
memory, and the heartbeat writes them once per beat, so the database sees one small update per
interval however fast the job reports."""
from __future__ import annotations

import threading
from typing import Any

# Set when this worker process is asked to shut down: a running job is handed back at once
# (queued again for another worker) instead of holding the shutdown for minutes.
worker_shutting_down = threading.Event()


class Interrupted(Exception):
    """The job must stop now: its claim was lost, its worker is shutting down, or its kind said so."""


class Reporter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[str, Any] = {}
        self._dirty = False
        self.lost = False  # set by the heartbeat when another worker holds the job now
        self.stop_reason: str | None = None  # set by the heartbeat when the job's kind says it must stop

    def report(self, **fields: Any) -> None:
        """The job's own fields (``stage``, ``progress``, or a kind's, like ``step``) as they are now."""
        with self._lock:
            self._latest.update(fields)
            self._dirty = True

    def append(self, field: str, item: Any) -> None:
        """One more item of a list field (a loss per step) without copying the list each time."""
        with self._lock:
            self._latest.setdefault(field, []).append(item)
            self._dirty = True

    def latest(self) -> dict[str, Any]:
        """Every reported field's latest value (lists copied: the job goes on appending)."""
        with self._lock:
            return {k: list(v) if isinstance(v, list) else v for k, v in self._latest.items()}

    def take_changes(self) -> dict[str, Any]:
        """``latest()`` if anything was reported since the last call, else {}."""
        with self._lock:
            dirty, self._dirty = self._dirty, False
        return self.latest() if dirty else {}

    def check(self) -> None:
        if self.lost:
            raise Interrupted("another worker took this job over")
        if worker_shutting_down.is_set():
            raise Interrupted("worker shutting down")
        if self.stop_reason:
            raise Interrupted(self.stop_reason)
