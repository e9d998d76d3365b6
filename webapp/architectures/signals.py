"""At a worker's (re)start, evaluations it (or a dead worker) left in training are queued again."""
from __future__ import annotations

import logging

from celery import signals

from .jobs import recover_evaluations

log = logging.getLogger("webapp.architectures")


@signals.worker_ready.connect
def recover_evaluations_at_start(sender=None, **kwargs) -> None:
    try:
        ids = recover_evaluations(getattr(sender, "hostname", None))
    except Exception:  # noqa: BLE001 - a worker without recovery still serves its queues
        log.exception("evaluation recovery at worker start failed")
        return
    if ids:
        log.info("evaluations queued again: %s", ids)
