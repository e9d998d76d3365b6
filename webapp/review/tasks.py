"""Celery tasks of review: thin wrappers (JSON arguments, idempotent)."""
from __future__ import annotations

import os

from celery import shared_task
from django.db import close_old_connections

from .ensembles import evaluate
from .export_jobs import run_export


@shared_task(name="review.evaluate_ensemble")
def evaluate_ensemble_task(ensemble_id: int) -> str:
    return evaluate(ensemble_id).status


@shared_task(name="review.export_model", bind=True)
def export_model_task(self, export_id: int) -> str:
    """One ONNX export, in a process of its own (see export_jobs)."""
    close_old_connections()
    return run_export(export_id, worker=f"{self.request.hostname}:{os.getpid()}")
