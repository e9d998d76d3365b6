"""Celery tasks: thin wrappers around services (JSON arguments only, idempotent)."""
from __future__ import annotations

import os

from celery import shared_task

from . import services
from .services.task_names import ADVANCE_EXPERIMENT, EVALUATE_CANDIDATE, WATCHDOG


@shared_task(name=ADVANCE_EXPERIMENT)
def advance_experiment_task(experiment_id: int, requeue: bool = False) -> None:
    services.advance(experiment_id, requeue=requeue)


@shared_task(name=WATCHDOG)
def watchdog_task(experiment_id: int) -> None:
    services.watchdog(experiment_id)


@shared_task(name=EVALUATE_CANDIDATE, bind=True)
def evaluate_candidate_task(self, candidate_id: int) -> str:
    """One candidate's evaluation, on the `train` queue (see CELERY_TASK_ROUTES)."""
    return services.run_candidate(candidate_id, worker=f"{self.request.hostname}:{os.getpid()}")
