"""An experiment's status changes (start, stop, resume, cancel), each under the row lock."""
from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from ..models import Candidate, Experiment
from ..progress import record_event
from .errors import TransitionError
from .limits import check_room
from .task_names import ADVANCE_EXPERIMENT, send_on_commit

Status = Experiment.Status
CStatus = Candidate.Status


def locked(experiment_id: int) -> Experiment:
    return Experiment.objects.select_for_update().get(pk=experiment_id)


def set_status(experiment: Experiment, status: str, **payload: Any) -> None:
    now = timezone.now()
    fields = ["status"]
    if status == Status.RUNNING and experiment.resumed_at is None:
        experiment.resumed_at = now
        fields.append("resumed_at")
        if experiment.started_at is None:
            experiment.started_at = now
            fields.append("started_at")
    if status != Status.RUNNING and status != Status.STOPPING and experiment.resumed_at is not None:
        experiment.active_seconds += (now - experiment.resumed_at).total_seconds()
        experiment.resumed_at = None
        fields += ["active_seconds", "resumed_at"]
    if status in (*Experiment.TERMINAL, Status.FAILED):
        experiment.finished_at = now
        fields.append("finished_at")
    experiment.status = status
    experiment.save(update_fields=fields)
    record_event(experiment, "status", {"status": status, "progress": experiment.progress(), **payload})


def queue_advance(experiment_id: int, *, requeue: bool = False) -> None:
    send_on_commit(ADVANCE_EXPERIMENT, experiment_id, requeue)


def start_experiment(experiment_id: int) -> Experiment:
    with transaction.atomic():
        experiment = locked(experiment_id)
        if experiment.status != Status.QUEUED:
            raise TransitionError(f"Only a queued experiment can be started; this one is {experiment.status}.")
        check_room(experiment.team, experiment.parallelism, except_experiment=experiment.pk)
        set_status(experiment, Status.RUNNING)
        record_event(experiment, "generation_started", {"generation": 0, "evaluated": 0})
        queue_advance(experiment.pk)
    return experiment


def stop_experiment(experiment_id: int) -> Experiment:
    """Running -> stopping: candidates in training are interrupted and will train again on resume."""
    with transaction.atomic():
        experiment = locked(experiment_id)
        if experiment.status != Status.RUNNING:
            raise TransitionError(f"Only a running experiment can be stopped; this one is {experiment.status}.")
        set_status(experiment, Status.STOPPING)
        settle_stopping(experiment)
    return experiment


def resume_experiment(experiment_id: int) -> Experiment:
    with transaction.atomic():
        experiment = locked(experiment_id)
        if experiment.status not in (Status.STOPPED, Status.FAILED):
            raise TransitionError(f"Only a stopped or failed experiment can be resumed; this one is {experiment.status}.")
        check_room(experiment.team, experiment.parallelism, except_experiment=experiment.pk)
        experiment.error, experiment.finished_at = "", None
        experiment.save(update_fields=["error", "finished_at"])
        set_status(experiment, Status.RUNNING)
        queue_advance(experiment.pk, requeue=True)
    return experiment


def cancel_experiment(experiment_id: int) -> Experiment:
    with transaction.atomic():
        experiment = locked(experiment_id)
        if experiment.status in Experiment.TERMINAL:
            raise TransitionError(f"This experiment is already {experiment.status}.")
        # Candidates not yet training will never be; training ones stop at their next heartbeat (and fail, see
        # CandidateKind.released).
        experiment.candidates.filter(status=CStatus.PROPOSED).update(status=CStatus.FAILED, reason="cancelled",
                                                                     finished_at=timezone.now())
        set_status(experiment, Status.CANCELLED)
    return experiment


def settle_stopping(experiment: Experiment) -> None:
    if experiment.status == Status.STOPPING and not experiment.candidates.filter(status=CStatus.RUNNING).exists():
        set_status(experiment, Status.STOPPED)


