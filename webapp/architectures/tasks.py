"""Celery tasks of the library (thin; JSON arguments only)."""
from __future__ import annotations

import os

from celery import shared_task

from .jobs import run_evaluation, watchdog


@shared_task(name="architectures.evaluate_version", bind=True)
def evaluate_version_task(self, evaluation_id: int) -> str:
    """One version's evaluation, on the `train` queue (see CELERY_TASK_ROUTES)."""
    return run_evaluation(evaluation_id, worker=f"{self.request.hostname}:{os.getpid()}")


@shared_task(name="architectures.evaluation_watchdog")
def evaluation_watchdog_task(evaluation_id: int) -> str:
    return watchdog(evaluation_id)
