"""At a worker's (re)start, exports it (or a dead worker) left running are queued again."""
from __future__ import annotations

import logging

from celery import signals

log = logging.getLogger("webapp.review")


@signals.worker_ready.connect
def recover_exports_at_start(sender=None, **kwargs) -> None:
    from .export_jobs import recover_exports

    try:
        ids = recover_exports(getattr(sender, "hostname", None))
    except Exception:  # noqa: BLE001 - a worker without recovery still serves its queues
        log.exception("export recovery at worker start failed")
        return
    if ids:
        log.info("exports queued again: %s", ids)
