"""Celery tasks of the library (thin; JSON arguments only)."""
from __future__ import annotations

import os

from celery import shared_task


@shared_task(name="architectures.evaluate_version", bind=True)
def evaluate_version_task(self, evaluation_id: int) -> str:
    """One version's evaluation, on the `train` queue (see CELERY_TASK_ROUTES)."""
    from .jobs import run_evaluation

    return run_evaluation(evaluation_id, worker=f"{self.request.hostname}:{os.getpid()}")
