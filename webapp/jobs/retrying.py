"""A failed job run again on purpose: queued once more as its next attempt, the reason saying who asked."""
from __future__ import annotations

from django.db import transaction

from .claims import queue
from .kinds import JobKind
from .models import FAILED


def retry(kind: JobKind, job_id: int, why: str) -> bool:
    """Queue the failed job again; False when it is not failed (any more): two clicks queue it once."""
    with transaction.atomic():
        if not kind.model.objects.filter(pk=job_id, status=FAILED).update(
                status=kind.queued, claimed_by="", reason=why, stage="queued", progress=0.0, finished_at=None):
            return False
        kind.changed(kind.model.objects.get(pk=job_id))  # its page hears "queued" at once
        queue(kind, job_id)
    return True
