"""Back into training and search: evaluate a version, seed versions into a new search, inject one
into a running search. Views, the API and tasks call these.

Evaluations follow the candidates' worker protocol (webapp.studio.services.worker): a worker
claims the row (status running, its name, attempt + 1) under a row lock, trains outside any
transaction while a heartbeat thread reports, and records the result only if it still holds
the claim. A worker killed mid-training leaves a running row with its name: when a worker
(re)starts it hands such rows back and queues them again, so the evaluation is redone, and a
late result of a lost claim is discarded: one result per evaluation, never two.

Viewers of an evaluation get its whole (small) state at every change over the group
``evaluation.<id>``, and once from the database when they connect, so a lost message is
repaired by the next one and needs no replay.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from archsearch.config import ConfigError, SearchConfig
from archsearch.seeding import SeedError, fit_spec, hand_edited
from webapp.studio.live import LiveWeights, group_send
from webapp.studio.models import Candidate, Dataset, Experiment
from webapp.studio.progress import record_event
from webapp.teams.roles import require
from webapp.studio.services import (StudioError, TransitionError, build_engine, check_budget as check_team_budget, check_room,
                                    config_errors, data_dir, workers)
from webapp.studio.services import Interrupted  # raised from a training step to stop it
from webapp.studio.services.lifecycle import locked
from webapp.studio.services.scheduler import queue_evaluations
from webapp.studio.services.worker import Heartbeat
from webapp.studio.shutdown import worker_shutting_down

from .evaluations import Evaluation
from .models import ArchitectureVersion

log = logging.getLogger("webapp.architectures")

Status = Evaluation.Status
BUDGET_FIELDS = {"low_steps": "steps", "batch_size": "batch_size", "seed": "seed"}


class BudgetError(StudioError):
    """Budget fields out of range: ``errors`` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()), next(iter(errors), "budget"))


# ---------------------------------------------------------------------- fitting a version to a dataset
def origin_of(version: ArchitectureVersion) -> str:
    architecture = version.architecture
    return f"{architecture.name} v{version.number} ({architecture.origin_text()})"


def lineage(author: str, version: ArchitectureVersion, notes: list[str]) -> str:
    """"hand-edited by <author> from <architecture vN (origin)>", plus what fitting the data changed."""
    return hand_edited(author, origin_of(version)) + (f"; adapted: {', '.join(notes)}" if notes else "")


def fitted(version: ArchitectureVersion, dataset: Dataset, *, family: str | None = None,
           max_params: int | None = None) -> tuple[dict, list[str]]:
    """The version's spec made to fit ``dataset`` (StudioError naming what does not fit)."""
    if dataset.team_id != version.architecture.team_id:
        raise StudioError("That dataset belongs to another team.", "dataset")
    if not dataset.is_ready:
        raise StudioError(f"Dataset {dataset.name!r} is not ready yet ({dataset.get_status_display().lower()}).", "dataset")
    try:
        return fit_spec(version.spec, family=family or version.architecture.family, num_classes=dataset.num_classes,
                        frames=dataset.frames, size=dataset.size, has_flow=dataset.has_flow, max_params=max_params)
    except SeedError as error:
        raise StudioError(f"{version}: {error}.", "version") from None


# ---------------------------------------------------------------------- evaluate
def check_budget(family: str, steps: Any, batch_size: Any, seed: Any) -> SearchConfig:
    """The budget checked like a search's launch settings (same ranges, messages by field)."""
    try:
        return SearchConfig(family=family, low_steps=steps, high_steps=0, batch_size=batch_size, seed=seed).validate()
    except ConfigError as error:
        errors = {}
        for field, messages in config_errors(error).items():
            errors.setdefault(BUDGET_FIELDS.get(field, field), []).extend(messages)
        raise BudgetError(errors) from None


def create_evaluation(*, user, version: ArchitectureVersion, dataset: Dataset, steps: int = 40, batch_size: int = 16,
                      seed: int = 0) -> Evaluation:
    require(user, "train", version)  # the role in the version's team, not anywhere
    config = check_budget(version.architecture.family, steps, batch_size, seed)
    team = version.architecture.team
    check_team_budget(team, steps={"steps": config.low_steps}, batch_size=config.batch_size)
    spec, notes = fitted(version, dataset)
    with transaction.atomic():
        check_room(team, 1)
        evaluation = Evaluation.objects.create(version=version, dataset=dataset, created_by=user, steps=config.low_steps,
                                               batch_size=config.batch_size, seed=config.seed, spec=spec, notes=notes)
        queue_evaluation(evaluation.pk)
    return evaluation


def queue_evaluation(evaluation_id: int) -> None:
    from .tasks import evaluate_version_task

    transaction.on_commit(lambda: evaluate_version_task.delay(evaluation_id))


def publish(evaluation: Evaluation) -> None:
    """Its state to the viewers, after the transaction commits."""
    state = evaluation.state()
    transaction.on_commit(lambda: group_send(f"evaluation.{state['id']}", {"type": "evaluation.state", "state": state}))


@dataclasses.dataclass
class EvalJob:
    evaluation_id: int
    worker: str
    attempt: int
    spec: dict
    cache_dir: str
    budget: dict
    seed: int
    out_dir: str
    team_id: int | None = None
    label: str = ""
    url: str = ""


def claim_evaluation(evaluation_id: int, worker: str) -> EvalJob | None:
    from archsearch.evaluate import EvalBudget

    with transaction.atomic():
        evaluation = Evaluation.objects.select_for_update().select_related("dataset").filter(pk=evaluation_id).first()
        if evaluation is None or evaluation.status in (Status.EVALUATED, Status.FAILED):
            return None
        fresh = timezone.now() - timedelta(seconds=settings.STUDIO_HEARTBEAT_TIMEOUT)
        live = evaluation.heartbeat is not None and evaluation.heartbeat > fresh
        if evaluation.status == Status.RUNNING and evaluation.claimed_by != worker and live:
            return None  # a live worker has it (a duplicated message)
        evaluation.status, evaluation.claimed_by, evaluation.attempt = Status.RUNNING, worker, evaluation.attempt + 1
        evaluation.heartbeat = evaluation.started_at = timezone.now()
        evaluation.step, evaluation.losses = 0, []
        evaluation.save(update_fields=["status", "claimed_by", "attempt", "heartbeat", "started_at", "step", "losses"])
        publish(evaluation)
        schedule_watchdog(evaluation.pk)
        budget = EvalBudget(low_steps=evaluation.steps, high_steps=0, batch_size=evaluation.batch_size, latency_threads=1,
                            latency_runs=3, num_threads=1)
        out_dir = data_dir() / "evaluations" / str(evaluation.pk) / f"attempt{evaluation.attempt}"
        version = evaluation.version
        return EvalJob(evaluation.pk, worker, evaluation.attempt, evaluation.spec, evaluation.dataset.cache_path,
                       budget.to_dict(), evaluation.seed, str(out_dir), version.architecture.team_id,
                       f"evaluation {evaluation.pk}: {version.architecture.name} v{version.number}",
                       reverse("architecture-detail", args=[version.architecture_id]))


def _held(job: EvalJob):
    return Evaluation.objects.filter(pk=job.evaluation_id, status=Status.RUNNING, claimed_by=job.worker, attempt=job.attempt)


class EvalWatch(Heartbeat):
    """Heartbeat of an evaluation, and the training callback that reports its steps.

    Losses are kept in memory and written with the heartbeat (every ``interval`` s), so the
    database sees one small update per interval however fast the steps come."""

    def __init__(self, job: EvalJob, interval: float = 1.0):
        super().__init__(f"evaluation-{job.evaluation_id}", interval)
        self.job = job
        self.losses: list[list[float]] = []
        self.lost = False
        self.lock = threading.Lock()

    def on_step(self, step: int, epoch: int, loss: float, lr: float) -> None:
        with self.lock:
            self.losses.append([step, round(float(loss), 5)])
        if self.lost:
            raise Interrupted("another worker took this evaluation over")
        if worker_shutting_down.is_set():
            raise Interrupted("worker shutting down")

    def beat(self) -> None:
        self.report()

    def report(self) -> None:
        with self.lock:
            losses = list(self.losses)
        try:
            with transaction.atomic():
                evaluation = _held(self.job).select_for_update().first()
                if evaluation is None:
                    self.lost = True
                    return
                evaluation.heartbeat = timezone.now()
                evaluation.losses = losses
                evaluation.step = losses[-1][0] if losses else 0
                evaluation.save(update_fields=["heartbeat", "losses", "step"])
                publish(evaluation)
        except Exception as error:  # noqa: BLE001 - a busy database now and then must not stop training
            log.warning("heartbeat of evaluation %s failed: %s", self.job.evaluation_id, error)



def run_evaluation(evaluation_id: int, worker: str) -> str:
    """The task's body: claim, train, record. Returns what happened."""
    from archsearch.evaluate import evaluate_candidate

    close_old_connections()
    job = claim_evaluation(evaluation_id, worker)
    if job is None:
        return "skipped"
    watch = EvalWatch(job)
    watch.start()
    live = LiveWeights(job.spec, lambda vector, step: group_send(
        f"evaluation.{job.evaluation_id}", {"type": "evaluation.weights", "step": step, "weights": vector}),
        interval=settings.STUDIO_LIVE_WEIGHTS_INTERVAL)
    try:
        workers.prepare_device()
        with workers.training("evaluation", job.evaluation_id, team=job.team_id, label=job.label,
                              url=job.url):
            result = evaluate_candidate(job.spec, job.cache_dir, job.budget, job.seed, out_dir=job.out_dir, stop=watch,
                                        watchers=[live])
    except Interrupted as why:
        release_evaluation(job, str(why))
        return "interrupted"
    except Exception as error:  # noqa: BLE001 - a broken spec or dataset is the evaluation's result, not the worker's crash
        log.exception("evaluation %s failed", evaluation_id)
        result = {"status": "failed", "reason": f"{type(error).__name__}: {error}"}
    finally:
        watch.close()
    return "recorded" if record_evaluation(job, result, watch.losses) else "discarded"


def record_evaluation(job: EvalJob, result: dict[str, Any], losses: list) -> bool:
    with transaction.atomic():
        evaluation = _held(job).select_for_update().first()
        if evaluation is None:
            log.info("evaluation %s: result of attempt %s discarded (claim lost)", job.evaluation_id, job.attempt)
            return False
        evaluation.status = Status.EVALUATED if result["status"] == "evaluated" else Status.FAILED
        for field in ("accuracy", "latency_ms", "params", "macs", "seconds"):
            if result.get(field) is not None:
                setattr(evaluation, field, result[field])
        evaluation.metrics = result.get("metrics") or {}
        evaluation.edge_weights = result.get("edge_weights") or []
        evaluation.reason = result.get("reason", "")
        evaluation.losses = losses
        evaluation.step = losses[-1][0] if losses else evaluation.step
        evaluation.claimed_by = ""
        evaluation.finished_at = timezone.now()
        evaluation.save()
        publish(evaluation)
    return True


def release_evaluation(job: EvalJob, why: str) -> None:
    """Training stopped early (worker shutting down): queued again for another worker."""
    with transaction.atomic():
        evaluation = _held(job).select_for_update().first()
        if evaluation is None:
            return
        evaluation.status, evaluation.claimed_by, evaluation.reason = Status.QUEUED, "", why
        evaluation.save(update_fields=["status", "claimed_by", "reason"])
        publish(evaluation)
        if worker_shutting_down.is_set():
            queue_evaluation(evaluation.pk)


def schedule_watchdog(evaluation_id: int) -> None:
    """A delayed check that the evaluation's worker still reports (one that died and never restarts)."""
    from .tasks import evaluation_watchdog_task

    delay = settings.STUDIO_HEARTBEAT_TIMEOUT + 5
    transaction.on_commit(lambda: evaluation_watchdog_task.apply_async((evaluation_id,), countdown=delay))


def watchdog(evaluation_id: int) -> str:
    """Hand a silent worker's evaluation to another (queued again); check again later while it trains."""
    limit = timezone.now() - timedelta(seconds=settings.STUDIO_HEARTBEAT_TIMEOUT)
    with transaction.atomic():
        evaluation = Evaluation.objects.select_for_update().filter(pk=evaluation_id, status=Status.RUNNING).first()
        if evaluation is None:
            return "done"
        if evaluation.heartbeat and evaluation.heartbeat >= limit:
            schedule_watchdog(evaluation.pk)
            return "alive"
        evaluation.status, evaluation.claimed_by = Status.QUEUED, ""
        evaluation.reason = "its worker stopped reporting; evaluated again"
        evaluation.save(update_fields=["status", "claimed_by", "reason"])
        publish(evaluation)
        queue_evaluation(evaluation.pk)
        return "requeued"


def recover_evaluations(worker_name: str | None = None) -> list[int]:
    """At a worker's start: its own running evaluations (it was killed) and any whose worker stopped
    reporting go back to queued; every queued one is queued again. Returns the ids queued."""
    limit = timezone.now() - timedelta(seconds=settings.STUDIO_HEARTBEAT_TIMEOUT)
    with transaction.atomic():
        running = Evaluation.objects.select_for_update().filter(status=Status.RUNNING)
        for evaluation in running:
            mine = bool(worker_name) and evaluation.claimed_by.startswith(f"{worker_name}:")
            if mine or (evaluation.heartbeat and evaluation.heartbeat < limit):
                evaluation.status, evaluation.claimed_by = Status.QUEUED, ""
                evaluation.reason = f"worker {worker_name if mine else '?'} stopped; evaluated again"
                evaluation.save(update_fields=["status", "claimed_by", "reason"])
                publish(evaluation)
        ids = list(Evaluation.objects.filter(status=Status.QUEUED).values_list("pk", flat=True))
        for pk in ids:
            queue_evaluation(pk)
    return ids


# ---------------------------------------------------------------------- seed and inject
def seeds_for(user, versions: list[ArchitectureVersion], *, dataset: Dataset, family: str, max_params: int,
              population: int) -> list[dict]:
    """SearchConfig.seeds for a new search: each version fitted to the data, with its hand-edited lineage."""
    if len(versions) > population:
        raise StudioError(f"At most {population} seed versions (the population), got {len(versions)}.", "seed_versions")
    seeds = []
    for version in versions:
        if version.architecture.family != family:
            raise StudioError(f"{version} is a {version.architecture.family} architecture; this is a {family} search.",
                              "seed_versions")
        spec, notes = fitted(version, dataset, family=family, max_params=max_params)
        author = version.author.username if version.author else user.username
        seeds.append({"spec": spec, "mutation": lineage(author, version, notes)})
    return seeds


def inject_version(*, user, experiment_id: int, version: ArchitectureVersion) -> Candidate:
    """A hand-made candidate into a running search, at the next free index with no parent.

    It is part of the search's history from then on (the engine is rebuilt from candidate
    rows), so a replay or a resume sees it exactly like a proposal."""
    from videomodels import ArchSpec, analyze

    with transaction.atomic():
        experiment = locked(experiment_id)
        require(user, "train", experiment)
        if experiment.status != Experiment.Status.RUNNING:
            raise TransitionError(f"Only a running search takes a new candidate; this one is {experiment.status}.")
        check_room(experiment.team, 1)
        if version.architecture.team_id != experiment.team_id:
            raise StudioError("No such version.", "version")
        if version.architecture.family != experiment.family:
            raise StudioError(f"{version} is a {version.architecture.family} architecture; this is a {experiment.family} search.",
                              "version")
        config = experiment.search_config()
        spec, notes = fitted(version, experiment.dataset, family=experiment.family, max_params=config.max_params)
        engine = build_engine(experiment)
        in_flight = experiment.candidates.filter(status__in=Candidate.IN_FLIGHT).count()
        if engine.done or experiment.total_candidates - len(engine.trained) - in_flight <= 0:
            raise TransitionError("This search has every remaining candidate in training already; "
                                  "launch a new one with it as a seed.")
        top = experiment.candidates.aggregate(top=Max("index"))["top"]
        index = 0 if top is None else top + 1
        arch = ArchSpec.from_dict(spec)
        analysis = analyze(arch)
        author = version.author.username if version.author else user.username
        mutation = lineage(author, version, notes)
        candidate = Candidate.objects.create(
            experiment=experiment, index=index, name=f"c{index:04d}", generation=engine.generation, parent=None,
            mutation=mutation, mutation_details={"injected": True, "version": version.pk, "by": user.username, "adapted": notes},
            spec=arch.to_dict(), spec_hash=arch.content_hash(), params=analysis.params, macs=analysis.macs)
        record_event(experiment, "candidate_sampled", {
            "candidate_id": candidate.name, "candidate": candidate.pk, "index": index, "generation": candidate.generation,
            "parent_id": None, "mutation": mutation, "params": analysis.params, "macs": analysis.macs, "injected": True})
        queue_evaluations([candidate.pk])
    return candidate
