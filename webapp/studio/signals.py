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


@signals.worker_ready.connect
def report_for_duty(sender=None, **kwargs) -> None:
    """Start the record the workers page reads (device, busy or idle, what it trains)."""
    from .services import workers

    name = getattr(sender, "hostname", None) or "worker"
    try:
        workers.start_beacon(name, _queues(sender))
    except Exception:  # noqa: BLE001 - a worker nobody lists still trains
        log.exception("worker %s: its record for the workers page is not written", name)


def _queues(consumer) -> list[str]:
    try:
        return [queue.name for queue in consumer.task_consumer.queues]
    except Exception:  # noqa: BLE001
        return sorted(getattr(getattr(getattr(consumer, "app", None), "amqp", None), "queues", {}) or [])


@signals.worker_shutting_down.connect
def note_shutdown(**kwargs) -> None:
    worker_shutting_down.set()


@signals.worker_shutdown.connect
def leave_the_list(**kwargs) -> None:
    from .services import workers

    workers.stop_beacon()
