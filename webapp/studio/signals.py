"""Worker life cycle: resume work after a (re)start, stop training quickly on shutdown."""
from __future__ import annotations

import logging
import threading

from celery import signals

log = logging.getLogger("webapp.studio")

# Set when this worker is asked to shut down: a candidate in training is handed back
# (status proposed, queued again) instead of holding the shutdown for minutes.
worker_shutting_down = threading.Event()


@signals.worker_ready.connect
def resume_after_start(sender=None, **kwargs) -> None:
    from . import services

    name = getattr(sender, "hostname", None)
    try:
        ids = services.recover(name)
    except Exception:  # noqa: BLE001 - a worker without recovery still serves its queues
        log.exception("recovery at worker start failed")
        return
    if ids:
        log.info("worker %s: resuming experiments %s", name, ids)


@signals.worker_shutting_down.connect
def note_shutdown(**kwargs) -> None:
    worker_shutting_down.set()
