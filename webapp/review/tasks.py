"""Celery tasks of review: thin wrappers (JSON arguments, idempotent)."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="review.evaluate_ensemble")
def evaluate_ensemble_task(ensemble_id: int) -> str:
    from .ensembles import evaluate

    return evaluate(ensemble_id).status


@shared_task(name="review.export_model", bind=True)
def export_model_task(self, export_id: int) -> str:
    """One ONNX export, in a process of its own (see export_jobs)."""
    import os

    from django.db import close_old_connections

    from .export_jobs import run_export

    close_old_connections()
    return run_export(export_id, worker=f"{self.request.hostname}:{os.getpid()}")
