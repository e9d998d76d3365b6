"""Celery tasks of review: thin wrappers (JSON arguments, idempotent)."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="review.evaluate_ensemble")
def evaluate_ensemble_task(ensemble_id: int) -> str:
    from .ensembles import evaluate

    return evaluate(ensemble_id).status
