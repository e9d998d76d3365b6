"""Waiting on a condition instead of sleeping a fixed time: tests poll what they wait for, with a
timeout and a message that says what never happened (and the tail of the processes' logs)."""
from __future__ import annotations

import time


def wait_until(predicate, timeout: float, what: str, processes=(), interval: float = 0.2):
    """Poll ``predicate`` until it is truthy (returns its value); after ``timeout`` s fail, naming ``what`` and
    showing the tail of each process's log."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = "\n".join(f"----- {p.name} -----\n{p.output()[-3000:]}" for p in processes)
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{logs}")
        time.sleep(interval)


def training_now(kind: str, pk: int):
    """The record of the worker that is busy with this candidate or evaluation now (its beacon in Redis:
    set once the task has claimed it and entered the training), or None."""
    from webapp.studio.services import workers

    for record in workers.list_workers():
        task = record.get("task") or {}
        if record.get("busy") and task.get("kind") == kind and task.get("id") == pk:
            return record
    return None
