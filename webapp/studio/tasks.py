"""Celery tasks: thin wrappers around services (JSON arguments only, idempotent). A candidate's evaluation
is the job runtime's task (webapp.jobs.tasks, kind "candidate")."""
from __future__ import annotations

from celery import shared_task

from . import services
from .services.task_names import ADVANCE_EXPERIMENT


@shared_task(name=ADVANCE_EXPERIMENT)
def advance_experiment_task(experiment_id: int, requeue: bool = False) -> None:
    services.advance(experiment_id, requeue=requeue)

