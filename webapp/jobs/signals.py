"""Worker life cycle for every kind of job: recover at start, hand back on shutdown."""
from __future__ import annotations

import logging

from celery import signals

from .recovery import recover_at_start
from .reporting import worker_shutting_down

log = logging.getLogger("webapp.jobs")


@signals.worker_ready.connect
def recover_jobs_at_start(sender=None, **kwargs) -> None:
    name = getattr(sender, "hostname", None)
    try:
        queued = recover_at_start(name)
    except Exception:  # a worker without recovery still serves its queues
        log.exception("job recovery at worker start failed")
        return
    for kind, ids in queued.items():
        if ids:
            log.info("worker %s: %s jobs queued again: %s", name, kind, ids)


@signals.worker_shutting_down.connect
def note_shutdown(**kwargs) -> None:
    worker_shutting_down.set()
