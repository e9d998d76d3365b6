"""Jobs whose worker vanished: the watchdog (a delayed check per running job) and the recovery a
worker runs when it starts (its own jobs, left running when it was killed, and any silent ones)."""
from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from .claims import lose, queue
from .kinds import JobKind, kind_named, registered_kinds
from .models import RUNNING
from .queueing import heartbeat_timeout, schedule_watchdog

log = logging.getLogger("webapp.jobs")


def _stale_since():
    return timezone.now() - timedelta(seconds=heartbeat_timeout())


def watchdog(kind_name: str, job_id: int) -> str:
    """done (not running), alive (checked again later), requeued, or failed (tried too often)."""
    kind = kind_named(kind_name)
    job = kind.model.objects.filter(pk=job_id, status=RUNNING).first()
    if job is None:
        return "done"
    if job.heartbeat_at and job.heartbeat_at >= _stale_since():
        schedule_watchdog(kind.name, job_id)
        return "alive"
    return lose(kind, job, f"its worker {job.claimed_by.rsplit(':', 1)[0] or '?'} stopped reporting")


def recover_kind(kind: JobKind, worker_name: str | None) -> list[int]:
    """Running jobs of this (restarted) worker and of silent ones are lost; every queued one is queued
    again (its message may be gone with the broker). Returns the ids queued."""
    stale = _stale_since()
    requeued = set()
    for job in kind.model.objects.filter(status=RUNNING):
        mine = bool(worker_name) and job.claimed_by.startswith(f"{worker_name}:")
        if mine or job.heartbeat_at is None or job.heartbeat_at < stale:
            if lose(kind, job, f"worker {job.claimed_by.rsplit(':', 1)[0] or '?'} stopped") == "requeued":
                requeued.add(job.pk)  # lose() has sent it already, or its kind keeps it back
    ids = list(kind.model.objects.filter(status=kind.queued).values_list("pk", flat=True))
    for pk in ids:
        if pk not in requeued:
            queue(kind, pk)
    return ids


def recover_at_start(worker_name: str | None) -> dict[str, list[int]]:
    return {kind.name: recover_kind(kind, worker_name) for kind in registered_kinds()}
