"""An evaluation as a job of webapp.jobs: train the version's fitted spec on its dataset, record
the scores on the row. Claiming, heartbeats, hand-back, recording once and recovery are the
runtime's; here is only what to run, how to record it and what its viewers hear.

Viewers of an evaluation get its whole (small) state at every change over its group, and once
from the database when they connect, so a lost message is repaired by the next one and needs
no replay. While an AssembleNet trains, its learned edge weights go to them too.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import reverse

from webapp.jobs.kinds import JobKind, Shown
from webapp.jobs.publisher import EvaluationState, EvaluationWeights, send, send_on_commit
from webapp.jobs.reporting import Reporter
from webapp.studio.live import LiveWeights
from webapp.studio.services import data_dir, workers

from .evaluations import Evaluation

RESULT_FIELDS = ("accuracy", "latency_ms", "params", "macs", "seconds")


def run_dir(evaluation: Evaluation) -> Path:
    """Where the evaluation's current attempt trains (its checkpoint.pt and metrics.json under low/ or high/)."""
    return data_dir() / "evaluations" / str(evaluation.pk) / f"attempt{evaluation.attempt}"


def trained_checkpoint(evaluation: Evaluation) -> Path | None:
    """The evaluated network's checkpoint, found from the recorded attempt as a candidate's is from its row; read
    only from inside the studio's data folder. None before it is evaluated or once the file is gone."""
    if evaluation.status != Evaluation.Status.EVALUATED:
        return None
    root = Path(settings.STUDIO_DATA_DIR).resolve()
    for fidelity in ("high", "low"):
        path = (run_dir(evaluation) / fidelity / "checkpoint.pt").resolve()
        if path.is_relative_to(root) and path.is_file():
            return path
    return None


def publish_state(evaluation: Evaluation) -> None:
    """Its state to the viewers, after the transaction commits."""
    send_on_commit(EvaluationState(evaluation.pk, evaluation.state()))


class TrainingSteps:
    """Training callback: each step's loss goes to the reporter (written with the heartbeat), and
    training stops as soon as the runtime says so."""

    def __init__(self, reporter: Reporter):
        self.reporter = reporter

    def on_step(self, step: int, epoch: int, loss: float, lr: float) -> None:
        self.reporter.append("losses", [step, round(float(loss), 5)])
        self.reporter.report(step=step)
        self.reporter.check()


class EvaluationKind(JobKind):
    name = "evaluation"
    model = Evaluation

    def claimed(self, job: Evaluation) -> None:
        job.step, job.losses = 0, []
        job.save(update_fields=["step", "losses"])

    def shown(self, job: Evaluation) -> Shown:
        version = job.version
        return Shown(f"evaluation {job.pk}: {version.architecture.name} v{version.number}",
                     reverse("evaluation-page", args=[job.pk]), version.architecture.team_id)

    def run(self, job: Evaluation, reporter: Reporter) -> dict[str, Any]:
        from archsearch.evaluate import EvalBudget, evaluate_candidate  # torch loads with it: only in workers

        budget = EvalBudget(low_steps=job.steps, high_steps=0, batch_size=job.batch_size, latency_threads=1, latency_runs=3,
                            num_threads=1)
        live = LiveWeights(job.spec, lambda vector, step: send(EvaluationWeights(job.pk, step, vector)),
                           interval=settings.STUDIO_LIVE_WEIGHTS_INTERVAL)
        workers.prepare_device()
        return evaluate_candidate(job.spec, job.dataset.cache_path, budget.to_dict(), job.seed, out_dir=str(run_dir(job)),
                                  stop=TrainingSteps(reporter), watchers=[live])

    def record(self, job: Evaluation, result: dict[str, Any]) -> None:
        job.status = Evaluation.Status.EVALUATED if result["status"] == "evaluated" else Evaluation.Status.FAILED
        for field in RESULT_FIELDS:
            if result.get(field) is not None:
                setattr(job, field, result[field])
        job.metrics = result.get("metrics") or {}
        job.edge_weights = result.get("edge_weights") or []
        job.reason = result.get("reason", "")
        job.progress = 1.0

    def changed(self, job: Evaluation) -> None:
        publish_state(job)


EVALUATION = EvaluationKind()
