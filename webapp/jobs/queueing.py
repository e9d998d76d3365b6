"""Jobs go to the broker only once the transaction that wrote them commits (a worker must find the
row), with JSON arguments only: the kind's name and the row's id."""
from __future__ import annotations

from celery import current_app as app  # the project's app (webapp/__init__ loads it); importing webapp.celery would loop
from django.conf import settings
from django.db import transaction

RUN_TASK = "jobs.run"
WATCHDOG_TASK = "jobs.watchdog"


def heartbeat_timeout() -> float:
    """Seconds without a heartbeat after which a running job's worker counts as gone."""
    return float(settings.STUDIO_HEARTBEAT_TIMEOUT)


def dispatch(kind_name: str, job_id: int, queue: str) -> None:
    """Send one run of the job to the broker now."""
    app.send_task(RUN_TASK, args=[kind_name, job_id], queue=queue)


def enqueue(kind_name: str, job_id: int, queue: str) -> None:
    transaction.on_commit(lambda: dispatch(kind_name, job_id, queue))


def schedule_watchdog(kind_name: str, job_id: int) -> None:
    """A check a little after the heartbeat timeout that the job's worker still reports (on the default
    queue: a worker that serves only the train queue may be the one that died)."""
    delay = heartbeat_timeout() + 5
    transaction.on_commit(lambda: app.send_task(WATCHDOG_TASK, args=[kind_name, job_id], countdown=delay,
                                                queue=settings.CELERY_TASK_DEFAULT_QUEUE))
