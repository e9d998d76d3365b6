"""A search's candidate as a job of webapp.jobs: train and score the proposed network, then add the
result to the search and advance it. Claiming, heartbeats, hand-back, recording once, the watchdog
and recovery are the runtime's; here is only what is particular to a candidate:

- it belongs to a search: every claim, hand-back and record takes the experiment's row lock first
  (the engine's state and the event sequence live there), and a candidate is neither claimed nor
  trained on while its search is not running (stop, cancel: the heartbeat notices within a beat);
- recording it is the engine's record, the search's events and the next ``advance``, in the
  runtime's recording transaction, so a result is added to the search exactly once;
- a candidate handed back (stop, shutdown, a dead worker) is proposed again, and sent to a worker
  again only while its search runs; a cancelled search's fails ("cancelled").
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from webapp.jobs.kinds import JobKind, Shown
from webapp.jobs.publisher import ExperimentWeights, send
from webapp.jobs.reporting import Reporter

from .live import LiveWeights
from .models import Candidate, Experiment
from .progress import record_event
from .services.datasets import data_dir
from .services.lifecycle import locked, set_status
from .services.scheduler import CANDIDATE_KIND, advance_locked, build_engine, finish
from .services.workers import prepare_device

Status = Experiment.Status
CStatus = Candidate.Status
RESULT_FIELDS = ("accuracy", "low_accuracy", "latency_ms", "latency_device", "latency_hardware", "params", "macs", "fidelity",
                 "seconds", "checkpoint")
# A search stops (status failed, resumable) after this many candidates in a row raised errors.
FAILURES_IN_A_ROW = 3


class TrainingSteps:
    """Training callback: the candidate's stage says "training" from its first step on (written with the next
    heartbeat), and training stops as soon as the runtime says so (shutdown, claim lost, search not running)."""

    def __init__(self, reporter: Reporter):
        self.reporter = reporter
        self.training = False

    def on_step(self, *args: Any) -> None:
        if not self.training:
            self.training = True
            self.reporter.report(stage="training")
        self.reporter.check()

    def _check(self, *args: Any) -> None:
        self.reporter.check()

    on_epoch_start = on_epoch_end = _check


def live_weights(candidate: Candidate) -> LiveWeights:
    """The candidate's learned edge weights, pushed to its experiment's viewers while it trains."""
    def push(vector: list, step: int) -> None:
        send(ExperimentWeights(candidate.experiment_id, candidate.pk, step, vector))

    return LiveWeights(candidate.spec, push, interval=settings.STUDIO_LIVE_WEIGHTS_INTERVAL)


def _finish_after_commit(experiment: Experiment, finish_now: bool) -> None:
    """A done search is closed after the transaction (its ensemble trains outside it), in this worker."""
    if finish_now:
        transaction.on_commit(lambda: finish(experiment.pk))


class CandidateKind(JobKind):
    name = CANDIDATE_KIND
    model = Candidate
    queued = CStatus.PROPOSED

    def lock(self, job_id: int) -> None:
        experiment_id = Candidate.objects.filter(pk=job_id).values_list("experiment_id", flat=True).first()
        if experiment_id is not None:
            locked(experiment_id)

    def should_stop(self, job: Candidate) -> str | None:
        status = Experiment.objects.filter(pk=job.experiment_id).values_list("status", flat=True).first()
        return None if status == Status.RUNNING else f"experiment {status}"

    def shown(self, job: Candidate) -> Shown:
        experiment = job.experiment
        return Shown(f"{experiment.name} · {job.name}", reverse("candidate-detail", args=[job.pk]), experiment.team_id)

    def claimed(self, job: Candidate) -> None:
        record_event(locked(job.experiment_id), "candidate_started", {
            "candidate_id": job.name, "candidate": job.pk, "attempt": job.attempt, "worker": job.claimed_by.rsplit(":", 1)[0]})

    def run(self, job: Candidate, reporter: Reporter) -> dict[str, Any]:
        from archsearch.evaluate import EvalBudget, evaluate_candidate  # torch loads with it: only in workers

        experiment = Experiment.objects.select_related("dataset").get(pk=job.experiment_id)
        engine = build_engine(experiment)
        config = engine.config
        parent = job.parent
        init = parent.checkpoint if parent and config.inherit_weights and parent.status == CStatus.EVALUATED else None
        out_dir = data_dir() / "experiments" / str(experiment.pk) / job.name / f"attempt{job.attempt}"
        prepare_device()
        return evaluate_candidate(job.spec, experiment.dataset.cache_path, EvalBudget.from_config(config).to_dict(), config.seed,
                                  out_dir=str(out_dir), init_checkpoint=init, promote_threshold=engine.promote_threshold(),
                                  curve_threshold=engine.curve_threshold(), stop=TrainingSteps(reporter),
                                  watchers=[live_weights(job)])

    def record(self, job: Candidate, result: dict[str, Any]) -> None:
        """The result goes to the engine and the candidate, its events are stored, and the search advances."""
        experiment = locked(job.experiment_id)
        engine = build_engine(experiment)
        status = result["status"]
        events = engine.record(job.proposal(), result, in_order=False)
        job.status, job.stage = status, status
        job.completion_order = (experiment.candidates.aggregate(top=Max("completion_order"))["top"] or 0) + 1
        for field in RESULT_FIELDS:
            if result.get(field) is not None:
                setattr(job, field, result[field])
        job.metrics = result.get("metrics") or {}
        job.edge_weights = result.get("edge_weights") or []
        job.latency_spread = result.get("latency_spread") or {}
        job.reason = result.get("reason", "")
        job.save()  # now, not after this hook: the search below counts it done
        self._record_events(experiment, job, engine, events)
        if status == CStatus.FAILED and _failing(experiment):
            error = f"{FAILURES_IN_A_ROW} candidates in a row failed; the last: {job.reason}"
            experiment.error = error
            experiment.save(update_fields=["error"])
            set_status(experiment, Status.FAILED, error=error)
            return
        _finish_after_commit(experiment, advance_locked(experiment))

    @staticmethod
    def _record_events(experiment: Experiment, job: Candidate, engine, events: list) -> None:
        evaluated = sum(1 for c in engine.candidates if c["status"] == "evaluated")
        progress = experiment.progress(evaluated)
        for event in events:
            payload = event.to_dict()
            kind = payload.pop("type")
            if job.status == CStatus.FAILED and kind == "candidate_rejected":
                kind = "candidate_failed"
            if payload.get("candidate_id") == job.name:
                payload["candidate"] = job.pk
            if kind in ("candidate_evaluated", "candidate_rejected", "candidate_failed"):
                payload.update(progress=progress, mutation=job.mutation or None, parent_id=job.parent.name if job.parent else None)
            if kind == "new_best":
                experiment.best_candidate = job
                experiment.save(update_fields=["best_candidate"])
            record_event(experiment, kind, payload)

    def released(self, job: Candidate, why: str) -> bool:
        """Proposed again (the runtime set it so); sent again only while the search runs. A cancelled search's fails."""
        experiment = locked(job.experiment_id)
        if experiment.status == Status.CANCELLED:
            job.status, job.reason, job.stage, job.finished_at = CStatus.FAILED, "cancelled", "cancelled", timezone.now()
            job.save(update_fields=["status", "reason", "stage", "finished_at"])
        record_event(experiment, "candidate_interrupted", {"candidate_id": job.name, "candidate": job.pk, "reason": why,
                                                           "status": job.status})
        _finish_after_commit(experiment, advance_locked(experiment))  # a stopping search stops once none trains
        return job.status == CStatus.PROPOSED and experiment.status == Status.RUNNING


def _failing(experiment: Experiment) -> bool:
    """The last few results were all errors (not rejections): something is wrong beyond one candidate."""
    last = list(experiment.candidates.filter(completion_order__isnull=False).order_by("-completion_order")
                .values_list("status", flat=True)[:FAILURES_IN_A_ROW])
    return len(last) == FAILURES_IN_A_ROW and all(status == CStatus.FAILED for status in last)


CANDIDATE = CandidateKind()
