"""The runtime's two Celery tasks (JSON arguments: the kind's name and the job's id)."""
from __future__ import annotations

import os

from celery import shared_task
from django.db import close_old_connections

from .queueing import RUN_TASK, WATCHDOG_TASK
from .recovery import watchdog
from .runner import run_job


@shared_task(name=RUN_TASK, bind=True)
def run_job_task(self, kind: str, job_id: int) -> str:
    close_old_connections()  # a worker's connection may have gone stale between two jobs
    return run_job(kind, job_id, worker=f"{self.request.hostname}:{os.getpid()}")


@shared_task(name=WATCHDOG_TASK)
def job_watchdog_task(kind: str, job_id: int) -> str:
    return watchdog(kind, job_id)
