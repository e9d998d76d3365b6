"""The conditional updates that make a job run once and be recorded once.

Every change of a running job is an UPDATE whose WHERE names the claim (status running, this
worker, this attempt): two deliveries of one job cannot both claim it, a worker that lost its
claim cannot beat, hand back or record, and a duplicate result finds nothing to update."""
from __future__ import annotations

import dataclasses
import logging
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from .kinds import JobKind, failure
from .models import FAILED, RUNNING, Job
from .queueing import enqueue, schedule_watchdog

log = logging.getLogger("webapp.jobs")


@dataclasses.dataclass(frozen=True)
class Claim:
    kind: str
    job_id: int
    worker: str  # "<worker name>:<pid>"
    attempt: int


def held(kind: JobKind, claim: Claim) -> QuerySet:
    """The job, while this claim still holds it (empty otherwise)."""
    return kind.model.objects.filter(pk=claim.job_id, status=RUNNING, claimed_by=claim.worker, attempt=claim.attempt)


def queue(kind: JobKind, job_id: int) -> None:
    """Run the job (a new row, or one handed back) once the transaction commits."""
    enqueue(kind.name, job_id, kind.queue)


def claim(kind: JobKind, job_id: int, worker: str) -> Claim | None:
    """Take a queued job for ``worker`` (running, attempt + 1); None when it is not queued (done, or
    another delivery holds it) or its kind says it must not run now (it stays queued). A silent worker's
    job comes back to queued by the watchdog, not here."""
    now = timezone.now()
    with transaction.atomic():
        kind.lock(job_id)
        waiting = kind.model.objects.filter(pk=job_id, status=kind.queued).first()
        if waiting is None:
            return None
        why = kind.should_stop(waiting)
        if why:
            log.info("%s %s not claimed: %s", kind.name, job_id, why)
            return None
        taken = kind.model.objects.filter(pk=job_id, status=kind.queued).update(
            status=RUNNING, claimed_by=worker, attempt=F("attempt") + 1, heartbeat_at=now, started_at=now, finished_at=None,
            stage="starting", progress=0.0)
        if not taken:
            return None
        job = kind.model.objects.get(pk=job_id)
        kind.claimed(job)
        kind.changed(job)
        schedule_watchdog(kind.name, job_id)
        return Claim(kind.name, job_id, worker, job.attempt)


def beat(kind: JobKind, claim: Claim, fields: dict[str, Any]) -> bool:
    """The heartbeat, with what the job reported since the last one; False when the claim is lost."""
    with transaction.atomic():
        if not held(kind, claim).update(heartbeat_at=timezone.now(), **fields):
            return False
        if fields:
            kind.changed(kind.model.objects.get(pk=claim.job_id))
    return True


def release(kind: JobKind, claim: Claim, why: str) -> bool:
    """The worker stops early (shutting down, or told to stop): the job is queued again, and sent to another
    worker unless its kind keeps it back."""
    with transaction.atomic():
        kind.lock(claim.job_id)
        return _hand_back(kind, claim, why)


def _hand_back(kind: JobKind, claim: Claim, why: str) -> bool:
    """Queued again (its kind decides whether it is sent now, or ends it instead); False when the claim is lost."""
    if not held(kind, claim).update(status=kind.queued, claimed_by="", reason=why, stage="queued"):
        return False
    job = kind.model.objects.get(pk=claim.job_id)
    again = kind.released(job, why)
    kind.changed(job)
    if again:
        queue(kind, claim.job_id)
    return True


def record(kind: JobKind, claim: Claim, result: dict[str, Any], reported: dict[str, Any] | None = None) -> bool:
    """The result on the job, once: only the claim's holder may, and only the first time (the UPDATE
    that ends the claim is what decides). ``reported`` is what the job last reported. False: discarded."""
    with transaction.atomic():
        kind.lock(claim.job_id)
        if not held(kind, claim).update(claimed_by="", finished_at=timezone.now()):
            log.info("%s %s: result of attempt %s discarded (claim lost)", kind.name, claim.job_id, claim.attempt)
            return False
        job = kind.model.objects.select_for_update().get(pk=claim.job_id)
        for field, value in (reported or {}).items():
            setattr(job, field, value)
        kind.record(job, result)
        job.save()
        kind.changed(job)
    return True


def lose(kind: JobKind, job: Job, why: str) -> str:
    """The worker holding ``job`` is gone: run it again ("requeued": handed back, see ``release``), or, once
    it has been tried ``max_attempts`` times, fail it with the reason ("failed"). "done" when it is not that
    claim's any more."""
    claim = Claim(kind.name, job.pk, job.claimed_by, job.attempt)
    if job.attempt < kind.max_attempts:
        with transaction.atomic():
            kind.lock(job.pk)
            return "requeued" if _hand_back(kind, claim, f"{why}; run again") else "done"
    tried = f"{why}; tried {job.attempt} times, not run again"
    return FAILED if record(kind, claim, failure(tried)) else "done"
