"""The worker side of one candidate: claim it, train it while a heartbeat watches, record it."""
from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from webapp.jobs.publisher import ExperimentWeights, send
from webapp.jobs.heartbeat import Beating
from webapp.jobs.reporting import worker_shutting_down

from ..models import Candidate, Experiment
from ..live import LiveWeights
from ..progress import record_event
from .datasets import data_dir
from .lifecycle import locked, set_status
from .scheduler import advance, advance_locked, build_engine, finish, queue_evaluations, release
from .workers import prepare_device, training

log = logging.getLogger("webapp.studio")

Status = Experiment.Status
CStatus = Candidate.Status

# A search stops (status failed, resumable) after this many candidates in a row raised errors.
FAILURES_IN_A_ROW = 3


class Interrupted(Exception):
    """Training of a candidate must stop now (stop, cancel, claim lost, worker shutting down)."""


@dataclasses.dataclass
class Job:
    candidate_id: int
    experiment_id: int
    name: str
    worker: str
    attempt: int
    spec: dict
    cache_dir: str
    budget: dict
    seed: int
    out_dir: str
    init_checkpoint: str | None
    promote_threshold: float | None
    curve_threshold: float | None = None
    team_id: int | None = None
    label: str = ""


def claim(candidate_id: int, worker: str) -> Job | None:
    """Mark the candidate as ours (running), or None when there is nothing for us to do."""
    from archsearch.evaluate import EvalBudget

    with transaction.atomic():
        try:
            candidate = Candidate.objects.select_related("parent").get(pk=candidate_id)
        except Candidate.DoesNotExist:
            return None
        experiment = locked(candidate.experiment_id)
        candidate.refresh_from_db()
        if candidate.status in Candidate.COMPLETED or experiment.status != Status.RUNNING:
            return None
        fresh = timezone.now() - timedelta(seconds=settings.STUDIO_HEARTBEAT_TIMEOUT)
        if candidate.status == CStatus.RUNNING and candidate.claimed_by != worker and candidate.heartbeat and candidate.heartbeat > fresh:
            return None  # another live worker has it (a duplicated message)
        engine = build_engine(experiment)
        config = engine.config
        parent = candidate.parent
        init = parent.checkpoint if parent and config.inherit_weights and parent.status == CStatus.EVALUATED else None
        candidate.status, candidate.claimed_by, candidate.attempt = CStatus.RUNNING, worker, candidate.attempt + 1
        candidate.heartbeat = candidate.started_at = timezone.now()
        candidate.save(update_fields=["status", "claimed_by", "attempt", "heartbeat", "started_at"])
        record_event(experiment, "candidate_started", {"candidate_id": candidate.name, "candidate": candidate.pk,
                                                       "attempt": candidate.attempt, "worker": worker.rsplit(":", 1)[0]})
        out_dir = data_dir() / "experiments" / str(experiment.pk) / candidate.name / f"attempt{candidate.attempt}"
        return Job(candidate.pk, experiment.pk, candidate.name, worker, candidate.attempt, candidate.spec,
                   experiment.dataset.cache_path, EvalBudget.from_config(config).to_dict(), config.seed, str(out_dir), init,
                   engine.promote_threshold(), engine.curve_threshold(), experiment.team_id,
                   f"{experiment.name} · {candidate.name}")


class Watch(Beating):
    """While a candidate trains: heartbeat every few seconds, and note when it must stop.

    It doubles as the training callback: ``on_step`` raises Interrupted once a reason is set,
    which aborts training (archsearch passes it as the ``stop`` callback).
    """

    def __init__(self, job: Job, interval: float = 2.0):
        super().__init__(f"watch-{job.name}", interval)
        self.job = job
        self.reason: str | None = None

    def beat(self) -> None:
        self.check()

    def check(self) -> None:
        job = self.job
        try:
            with transaction.atomic():
                alive = Candidate.objects.filter(pk=job.candidate_id, status=CStatus.RUNNING, claimed_by=job.worker,
                                                 attempt=job.attempt).update(heartbeat=timezone.now())
            status = Experiment.objects.filter(pk=job.experiment_id).values_list("status", flat=True).first()
        except Exception as error:  # noqa: BLE001 - a busy database now and then must not stop training
            log.warning("heartbeat of %s failed: %s", job.name, error)
            return
        if not alive:
            self.reason = "another worker took this candidate over"
        elif status != Status.RUNNING:
            self.reason = f"experiment {status}"

    def _maybe_stop(self, *args: Any) -> None:
        if worker_shutting_down.is_set():
            raise Interrupted("worker shutting down")
        if self.reason:
            raise Interrupted(self.reason)

    on_step = _maybe_stop
    on_epoch_start = _maybe_stop
    on_epoch_end = _maybe_stop


def run_candidate(candidate_id: int, worker: str) -> str:
    """The evaluate task's body: claim, train, record, advance. Returns what happened."""
    from archsearch.evaluate import evaluate_candidate

    close_old_connections()
    job = claim(candidate_id, worker)
    if job is None:
        experiment_id = Candidate.objects.filter(pk=candidate_id).values_list("experiment_id", flat=True).first()
        if experiment_id is not None:
            advance(experiment_id)
        return "skipped"
    watch = Watch(job)
    watch.start()
    try:
        prepare_device()
        with training("candidate", job.candidate_id, team=job.team_id, label=job.label,
                      url=reverse("candidate-detail", args=[job.candidate_id])):
            result = evaluate_candidate(job.spec, job.cache_dir, job.budget, job.seed, out_dir=job.out_dir,
                                        init_checkpoint=job.init_checkpoint, promote_threshold=job.promote_threshold,
                                        curve_threshold=job.curve_threshold, stop=watch,
                                        watchers=[live_weights(job)])
    except Interrupted as why:
        interrupt(job, str(why))
        return "interrupted"
    except Exception as error:  # a broken candidate must not break the search
        log.exception("candidate %s failed", job.name)
        record_result(job, {"status": "failed", "reason": f"{type(error).__name__}: {error}"})
        return "failed"
    finally:
        watch.close()
    record_result(job, result)
    return result["status"]


def live_weights(job: Job) -> LiveWeights:
    """The candidate's learned edge weights, pushed to its experiment's viewers while it trains."""
    def push(vector: list, step: int) -> None:
        send(ExperimentWeights(job.experiment_id, job.candidate_id, step, vector))

    return LiveWeights(job.spec, push, interval=settings.STUDIO_LIVE_WEIGHTS_INTERVAL)


def _holds(candidate: Candidate, job: Job) -> bool:
    return candidate.status == CStatus.RUNNING and candidate.claimed_by == job.worker and candidate.attempt == job.attempt


def interrupt(job: Job, why: str) -> None:
    """Training stopped early: the candidate goes back to proposed (or failed when cancelled)."""
    finish_now = False
    with transaction.atomic():
        experiment = locked(job.experiment_id)
        candidate = Candidate.objects.get(pk=job.candidate_id)
        if _holds(candidate, job):
            release(experiment, candidate, why)
            if worker_shutting_down.is_set() and experiment.status == Status.RUNNING:
                queue_evaluations([candidate.pk])  # another worker (or this one, restarted) takes it
        finish_now = advance_locked(experiment)
    if finish_now:
        finish(job.experiment_id)


def record_result(job: Job, result: dict[str, Any]) -> bool:
    """Add a finished evaluation to the search and advance it; False if the claim was lost."""
    finish_now = False
    with transaction.atomic():
        experiment = locked(job.experiment_id)
        candidate = Candidate.objects.select_related("parent").get(pk=job.candidate_id)
        if not _holds(candidate, job):
            log.info("candidate %s: result of attempt %s discarded (claim lost)", job.name, job.attempt)
            return False
        engine = build_engine(experiment)
        status = result["status"]
        events = engine.record(candidate.proposal(), {**result, "status": status}, in_order=False)
        top = experiment.candidates.aggregate(top=Max("completion_order"))["top"] or 0
        candidate.status = status
        candidate.completion_order = top + 1
        candidate.finished_at = timezone.now()
        candidate.claimed_by = ""
        for field in ("accuracy", "low_accuracy", "latency_ms", "latency_device", "latency_hardware", "params", "macs", "fidelity",
                      "seconds", "checkpoint"):
            if result.get(field) is not None:
                setattr(candidate, field, result[field])
        candidate.latency_spread = result.get("latency_spread") or {}
        candidate.metrics = result.get("metrics") or {}
        candidate.edge_weights = result.get("edge_weights") or []
        candidate.reason = result.get("reason", "")
        candidate.save()
        evaluated = sum(1 for c in engine.candidates if c["status"] == "evaluated")
        progress = experiment.progress(evaluated)
        for event in events:
            payload = event.to_dict()
            kind = payload.pop("type")
            if status == "failed" and kind == "candidate_rejected":
                kind = "candidate_failed"
            if payload.get("candidate_id") == candidate.name:
                payload["candidate"] = candidate.pk
            if kind in ("candidate_evaluated", "candidate_rejected", "candidate_failed"):
                payload.update(progress=progress, mutation=candidate.mutation or None, parent_id=candidate.parent.name if candidate.parent else None)
            if kind == "new_best":
                experiment.best_candidate = candidate
                experiment.save(update_fields=["best_candidate"])
            record_event(experiment, kind, payload)
        if status == "failed" and _failing(experiment):
            experiment.error = f"{FAILURES_IN_A_ROW} candidates in a row failed; the last: {candidate.reason}"
            experiment.save(update_fields=["error"])
            set_status(experiment, Status.FAILED, error=experiment.error)
            return True
        finish_now = advance_locked(experiment)
    if finish_now:
        finish(job.experiment_id)
    return True


def _failing(experiment: Experiment) -> bool:
    """The last few results were all errors (not rejections): something is wrong beyond one candidate."""
    last = list(experiment.candidates.filter(completion_order__isnull=False).order_by("-completion_order")
                .values_list("status", flat=True)[:FAILURES_IN_A_ROW])
    return len(last) == FAILURES_IN_A_ROW and all(status == CStatus.FAILED for status in last)


