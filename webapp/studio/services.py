"""What the studio does: register and prepare datasets, launch and drive searches.

The search engine (archsearch.engine.Evolution) keeps no state of its own here: its state is
a pure function of the recorded history, so every decision rebuilds it from the candidate
rows (completed ones, in completion order) under the experiment's row lock. That makes every
step idempotent and lets any worker on any machine carry on where another stopped:

- ``advance`` proposes new candidates until ``parallelism`` are in flight, and queues one
  ``evaluate`` task per candidate on the ``train`` queue after the transaction commits;
- ``run_candidate`` (the task body) claims a candidate, trains it outside any transaction
  while a heartbeat thread reports and watches for stop/cancel, then records the result
  and advances again;
- a candidate whose worker died (no heartbeat) goes back to ``proposed`` and is queued again;
  a redelivered or duplicated task finds its candidate claimed or done and does nothing.

Heavy imports (torch, the engine) happen inside the functions that need them, so the web
process never loads them.
"""
from __future__ import annotations

import dataclasses
import logging
import shutil
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import Max
from django.utils import timezone

from archsearch.config import FAMILIES, ConfigError, SearchConfig

from .models import Candidate, Dataset, Experiment, Membership, Team
from .progress import record_event

log = logging.getLogger("webapp.studio")

Status = Experiment.Status
CStatus = Candidate.Status

# Settings a launch form sets directly; the rest of SearchConfig can come as "settings".
# A search stops (status failed, resumable) after this many candidates in a row raised errors.
FAILURES_IN_A_ROW = 3
FORM_FIELDS = ("population", "rounds", "latency_budget_ms", "seed", "low_steps", "high_steps", "batch_size")


class StudioError(ValueError):
    """A user mistake the studio explains; ``field`` names the input when there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class TransitionError(StudioError):
    """An experiment cannot go from its status to the one asked for."""


# ---------------------------------------------------------------------- teams
def teams_of(user):
    return Team.objects.filter(memberships__user=user)


def is_member(user, team_id: int) -> bool:
    return user.is_authenticated and Membership.objects.filter(user=user, team_id=team_id).exists()


def default_team(user) -> Team | None:
    teams = list(teams_of(user)[:2])
    return teams[0] if len(teams) == 1 else None


# ---------------------------------------------------------------------- datasets
def data_dir() -> Path:
    return Path(settings.STUDIO_DATA_DIR)


def check_source_path(raw: str) -> Path:
    """A server folder or CSV manifest that users may register: it must exist inside an allowed root."""
    raw = (raw or "").strip()
    if not raw:
        raise StudioError("Give the folder (or CSV manifest) on the server that holds the videos.", "source_path")
    path = Path(raw).expanduser()
    if not path.is_absolute():
        raise StudioError(f"{raw}: give an absolute path on the server.", "source_path")
    path = path.resolve()
    roots = [Path(r).resolve() for r in settings.STUDIO_DATASET_ROOTS]
    if not any(path == root or root in path.parents for root in roots):
        allowed = ", ".join(str(r) for r in roots)
        raise StudioError(f"{path}: outside the folders this server shares ({allowed}); set STUDIO_DATASET_ROOTS to add one.",
                          "source_path")
    if not path.exists():
        raise StudioError(f"{path}: no such folder or file on the server.", "source_path")
    return path


def register_dataset(*, team: Team, user, name: str, kind: str, source_path: str = "", frames: int = 8, size: int = 32,
                     flow: bool = False, clips_per_class: int | None = None, classes: list[str] | None = None,
                     seed: int = 0) -> Dataset:
    """Create a dataset row and queue its preparation."""
    from videomodels.data import MOTION_CLASSES

    name = (name or "").strip()
    if not name:
        raise StudioError("Give the dataset a name.", "name")
    if Dataset.objects.filter(team=team, name=name).exists():
        raise StudioError(f"Your team already has a dataset called {name!r}.", "name")
    if not 1 <= frames <= 256:
        raise StudioError(f"Frames per clip must be from 1 to 256, got {frames}.", "frames")
    if not 8 <= size <= 512:
        raise StudioError(f"Resolution must be from 8 to 512 pixels, got {size}.", "size")
    fields: dict[str, Any] = {}
    if kind == Dataset.Kind.FOLDER:
        fields["source_path"] = str(check_source_path(source_path))
    elif kind == Dataset.Kind.SYNTHETIC:
        if clips_per_class is None or not 2 <= clips_per_class <= 1000:
            raise StudioError(f"Clips per class must be from 2 to 1000, got {clips_per_class}.", "clips_per_class")
        classes = list(classes or MOTION_CLASSES)
        unknown = [c for c in classes if c not in MOTION_CLASSES]
        if unknown:
            raise StudioError(f"Unknown motion classes: {', '.join(unknown)}.", "classes")
        if len(classes) < 2:
            raise StudioError("Pick at least two motion classes.", "classes")
        if seed < 0:
            raise StudioError(f"Seed must be 0 or more, got {seed}.", "seed")
        fields.update(clips_per_class=clips_per_class, synthetic_classes=classes, seed=seed)
    else:
        raise StudioError(f"Dataset kind must be folder or synthetic, got {kind!r}.", "kind")
    with transaction.atomic():
        dataset = Dataset.objects.create(team=team, name=name, kind=kind, frames=frames, size=size, flow=flow,
                                         created_by=user, **fields)
        queue_dataset_preparation(dataset.pk)
    return dataset


def queue_dataset_preparation(dataset_id: int) -> None:
    from .tasks import prepare_dataset_task

    transaction.on_commit(lambda: prepare_dataset_task.delay(dataset_id))


def prepare_dataset(dataset_id: int) -> Dataset:
    """Generate (synthetic) and decode the videos into a clip cache; record what was bad."""
    from videomodels.data import CacheError, DataError, NothingPreparedError, prepare_cache, synthesize

    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().get(pk=dataset_id)
        if dataset.status == Dataset.Status.READY:
            return dataset
        dataset.status, dataset.error = Dataset.Status.PREPARING, ""
        dataset.save(update_fields=["status", "error", "updated"])
    root = data_dir() / "datasets" / str(dataset.pk)
    fields: dict[str, Any] = {}
    try:
        source = Path(dataset.source_path) if dataset.kind == Dataset.Kind.FOLDER else root / "videos"
        if dataset.kind == Dataset.Kind.SYNTHETIC:
            shutil.rmtree(source, ignore_errors=True)  # a killed earlier attempt may have left half of it
            synthesize(source, clips_per_class=dataset.clips_per_class, seed=dataset.seed, frames=max(16, dataset.frames * 2),
                       size=max(48, dataset.size + 16), classes=tuple(dataset.synthetic_classes))
        report = prepare_cache(source, root / "cache", frames=dataset.frames, size=dataset.size, flow=dataset.flow, progress=False)
    except NothingPreparedError as error:
        fields = {"status": Dataset.Status.FAILED, "error": str(error), "report": error.report.to_dict()}
    except (DataError, CacheError, OSError, ValueError) as error:
        fields = {"status": Dataset.Status.FAILED, "error": str(error)}
    else:
        info = report.to_dict()
        fields = {"status": Dataset.Status.READY, "report": info, "cache_path": str(report.cache_dir), "has_flow": report.has_flow,
                  "class_names": list(report.class_names), "num_classes": len(report.class_names), "error": ""}
    Dataset.objects.filter(pk=dataset.pk).update(updated=timezone.now(), **fields)
    dataset.refresh_from_db()
    return dataset


# ---------------------------------------------------------------------- launching
def config_errors(error: ConfigError) -> dict[str, list[str]]:
    """SearchConfig's message ("field: problem; field: problem") as field -> messages."""
    errors: dict[str, list[str]] = {}
    for part in str(error).split("; "):
        field, sep, message = part.partition(": ")
        if not sep or field not in {f.name for f in dataclasses.fields(SearchConfig)}:
            field, message = "settings", part
        errors.setdefault(field, []).append(message[:1].upper() + message[1:] + ("" if message.endswith(".") else "."))
    return errors


def build_config(family: str, values: dict[str, Any], extra: dict[str, Any] | None = None) -> SearchConfig:
    """A validated SearchConfig from a launch form's values plus optional extra settings."""
    data = {key: values[key] for key in FORM_FIELDS if key in values and values[key] is not None}
    if "latency_budget_ms" in values:
        data["latency_budget_ms"] = values["latency_budget_ms"]
    clash = sorted(set(extra or {}) & (set(FORM_FIELDS) | {"family"}))
    if clash:
        raise ConfigError(f"settings: give {', '.join(clash)} as their own fields, not inside settings")
    config = SearchConfig.from_dict({**(extra or {}), **data, "family": family})
    problems = []
    try:
        config.validate()
    except ConfigError as error:
        problems.append(str(error))
    threads = config.num_threads
    if not isinstance(threads, int) or isinstance(threads, bool) or not 0 <= threads <= 256:
        problems.append(f"num_threads: must be an integer from 0 (automatic) to 256, got {threads!r}")
    if problems:
        raise ConfigError("; ".join(problems))
    return config


def check_launch(*, team: Team, dataset: Dataset, family: str, parallelism: int) -> None:
    if family not in FAMILIES:
        raise StudioError(f"Family must be one of {', '.join(FAMILIES)}, got {family!r}.", "family")
    if dataset.team_id != team.pk:
        raise StudioError("That dataset belongs to another team.", "dataset")
    if not dataset.is_ready:
        raise StudioError(f"Dataset {dataset.name!r} is not ready yet ({dataset.get_status_display().lower()}).", "dataset")
    if family == "assemblenet" and not dataset.has_flow:
        raise StudioError(f"AssembleNet searches need optical flow; dataset {dataset.name!r} was prepared without it.", "dataset")
    if not 1 <= parallelism <= 64:
        raise StudioError(f"Parallelism must be from 1 to 64, got {parallelism}.", "parallelism")


def create_experiment(*, team: Team, user, name: str, dataset: Dataset, config: SearchConfig, parallelism: int = 2,
                      start: bool = True) -> Experiment:
    check_launch(team=team, dataset=dataset, family=config.family, parallelism=parallelism)
    name = (name or "").strip() or f"{config.family} on {dataset.name}"
    with transaction.atomic():
        experiment = Experiment.objects.create(team=team, name=name, family=config.family, dataset=dataset,
                                               config=config.to_dict(), parallelism=parallelism, created_by=user)
        record_event(experiment, "status", {"status": experiment.status, "progress": experiment.progress(0)})
        if start:
            start_experiment(experiment.pk)
    experiment.refresh_from_db()
    return experiment


# ---------------------------------------------------------------------- status changes
def _locked(experiment_id: int) -> Experiment:
    return Experiment.objects.select_for_update().get(pk=experiment_id)


def _set_status(experiment: Experiment, status: str, **payload: Any) -> None:
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
    if status in (Status.FINISHED, Status.CANCELLED, Status.FAILED):
        experiment.finished_at = now
        fields.append("finished_at")
    experiment.status = status
    experiment.save(update_fields=fields)
    record_event(experiment, "status", {"status": status, "progress": experiment.progress(), **payload})


def _queue_advance(experiment_id: int, *, requeue: bool = False) -> None:
    from .tasks import advance_experiment_task

    transaction.on_commit(lambda: advance_experiment_task.delay(experiment_id, requeue))


def start_experiment(experiment_id: int) -> Experiment:
    with transaction.atomic():
        experiment = _locked(experiment_id)
        if experiment.status != Status.QUEUED:
            raise TransitionError(f"Only a queued experiment can be started; this one is {experiment.status}.")
        _set_status(experiment, Status.RUNNING)
        record_event(experiment, "generation_started", {"generation": 0, "evaluated": 0})
        _queue_advance(experiment.pk)
    return experiment


def stop_experiment(experiment_id: int) -> Experiment:
    """Running -> stopping: candidates in training are interrupted and will train again on resume."""
    with transaction.atomic():
        experiment = _locked(experiment_id)
        if experiment.status != Status.RUNNING:
            raise TransitionError(f"Only a running experiment can be stopped; this one is {experiment.status}.")
        _set_status(experiment, Status.STOPPING)
        _settle_stopping(experiment)
    return experiment


def resume_experiment(experiment_id: int) -> Experiment:
    with transaction.atomic():
        experiment = _locked(experiment_id)
        if experiment.status not in (Status.STOPPED, Status.FAILED):
            raise TransitionError(f"Only a stopped or failed experiment can be resumed; this one is {experiment.status}.")
        experiment.error, experiment.finished_at = "", None
        experiment.save(update_fields=["error", "finished_at"])
        _set_status(experiment, Status.RUNNING)
        _queue_advance(experiment.pk, requeue=True)
    return experiment


def cancel_experiment(experiment_id: int) -> Experiment:
    with transaction.atomic():
        experiment = _locked(experiment_id)
        if experiment.status in Experiment.TERMINAL:
            raise TransitionError(f"This experiment is already {experiment.status}.")
        # Candidates not yet training will never be; training ones stop at their next heartbeat.
        experiment.candidates.filter(status=CStatus.PROPOSED).update(status=CStatus.FAILED, reason="cancelled",
                                                                     finished_at=timezone.now())
        _set_status(experiment, Status.CANCELLED)
    return experiment


def _settle_stopping(experiment: Experiment) -> None:
    if experiment.status == Status.STOPPING and not experiment.candidates.filter(status=CStatus.RUNNING).exists():
        _set_status(experiment, Status.STOPPED)


# ---------------------------------------------------------------------- the driver
def build_engine(experiment: Experiment):
    """The search state, rebuilt from the completed candidates in the order their results came."""
    from archsearch.engine import Evolution
    from archsearch.spaces import SpaceConfig, make_space

    config = experiment.search_config()
    dataset = experiment.dataset
    space = make_space(config.family, SpaceConfig(num_classes=dataset.num_classes, frames=dataset.frames, size=dataset.size,
                                                  max_params=config.max_params, min_params=config.min_params))
    history = (experiment.candidates.filter(completion_order__isnull=False).select_related("parent")
               .order_by("completion_order"))
    return Evolution(config, space, [c.history_record() for c in history])


def advance(experiment_id: int, *, requeue: bool = False) -> None:
    """Keep ``parallelism`` candidates in flight; finish when the search is done."""
    with transaction.atomic():
        experiment = _locked(experiment_id)
        finish_now = _advance_locked(experiment, requeue=requeue)
    if finish_now:
        finish(experiment_id)


def _advance_locked(experiment: Experiment, *, requeue: bool = False) -> bool:
    """The body of ``advance`` (caller holds the lock); True when the search should finish now."""
    released = _release_stale(experiment)
    if experiment.status == Status.STOPPING:
        _settle_stopping(experiment)
        if experiment.status == Status.STOPPING:
            _schedule_watchdog(experiment)  # a worker that died mid-candidate must not leave it stopping forever
        return False
    if experiment.status != Status.RUNNING:
        return False
    try:
        engine = build_engine(experiment)
    except Exception as error:  # noqa: BLE001 - e.g. the dataset's cache vanished: say so, keep the rows
        log.exception("experiment %s: cannot rebuild the search", experiment.pk)
        experiment.error = f"{type(error).__name__}: {error}"
        experiment.save(update_fields=["error"])
        _set_status(experiment, Status.FAILED, error=experiment.error)
        return False
    in_flight = list(experiment.candidates.filter(status__in=Candidate.IN_FLIGHT))
    if engine.done and not in_flight:
        return True
    to_queue = [c.pk for c in in_flight if c.status == CStatus.PROPOSED and (requeue or c.pk in released)]
    if not engine.done:
        # Never more in flight than the search still needs: it ends with exactly population x (rounds + 1).
        needed = experiment.total_candidates - len(engine.trained) - len(in_flight)
        slots = experiment.parallelism - len(in_flight)
        top = experiment.candidates.aggregate(top=Max("index"))["top"]
        next_index = 0 if top is None else top + 1
        by_name = dict(experiment.candidates.values_list("name", "pk"))
        for _ in range(max(0, min(needed, slots))):
            proposal = engine.propose(index=next_index)
            next_index += 1
            candidate = Candidate.objects.create(
                experiment=experiment, index=proposal["index"], name=proposal["id"], generation=proposal["generation"],
                parent_id=by_name.get(proposal["parent_id"]), mutation=proposal["mutation"] or "",
                mutation_details=proposal["mutation_details"] or {}, spec=proposal["spec"], spec_hash=proposal["spec_hash"],
                params=proposal["params"], macs=proposal["macs"])
            record_event(experiment, "candidate_sampled", {
                "candidate_id": candidate.name, "candidate": candidate.pk, "index": candidate.index,
                "generation": candidate.generation, "parent_id": proposal["parent_id"], "mutation": proposal["mutation"],
                "params": proposal["params"], "macs": proposal["macs"]})
            to_queue.append(candidate.pk)
    _queue_evaluations(to_queue)
    if in_flight or to_queue:
        _schedule_watchdog(experiment)
    return False


def _queue_evaluations(candidate_ids: list[int]) -> None:
    from .tasks import evaluate_candidate_task

    for pk in candidate_ids:
        transaction.on_commit(lambda pk=pk: evaluate_candidate_task.delay(pk))


def _release_stale(experiment: Experiment) -> set[int]:
    """Candidates whose worker stopped reporting go back to proposed; returns their ids."""
    limit = timezone.now() - timedelta(seconds=settings.STUDIO_HEARTBEAT_TIMEOUT)
    stale = list(experiment.candidates.filter(status=CStatus.RUNNING, heartbeat__lt=limit))
    for candidate in stale:
        _release(experiment, candidate, f"worker {candidate.claimed_by or '?'} stopped reporting")
    return {c.pk for c in stale}


def _release(experiment: Experiment, candidate: Candidate, why: str) -> None:
    if experiment.status == Status.CANCELLED:
        candidate.status, candidate.reason, candidate.finished_at = CStatus.FAILED, "cancelled", timezone.now()
    else:
        candidate.status = CStatus.PROPOSED
    candidate.claimed_by = ""
    candidate.save(update_fields=["status", "reason", "finished_at", "claimed_by"])
    record_event(experiment, "candidate_interrupted", {"candidate_id": candidate.name, "candidate": candidate.pk,
                                                       "reason": why, "status": candidate.status})


def _schedule_watchdog(experiment: Experiment) -> None:
    """One delayed check per experiment at a time, so a dead worker's candidate is noticed."""
    now = timezone.now()
    if experiment.watchdog_due and experiment.watchdog_due > now:
        return
    delay = settings.STUDIO_HEARTBEAT_TIMEOUT + 5
    experiment.watchdog_due = now + timedelta(seconds=delay)
    experiment.save(update_fields=["watchdog_due"])
    from .tasks import watchdog_task

    transaction.on_commit(lambda: watchdog_task.apply_async((experiment.pk,), countdown=delay))


def watchdog(experiment_id: int) -> None:
    with transaction.atomic():
        Experiment.objects.filter(pk=experiment_id).update(watchdog_due=None)
    advance(experiment_id)


def finish(experiment_id: int) -> None:
    """Close a done search: the Pareto front, EvaNet's ensemble, the final event."""
    from archsearch.events import RunFinished

    with transaction.atomic():
        experiment = Experiment.objects.select_related("dataset").get(pk=experiment_id)
        if experiment.status != Status.RUNNING:
            return
        engine = build_engine(experiment)
    ensemble = None
    if experiment.family == "evanet" and engine.trained:
        try:
            from archsearch.ensemble import evaluate_ensemble

            ensemble = evaluate_ensemble(engine.trained, engine.space, Path(experiment.dataset.cache_path),
                                         k=engine.config.ensemble_size)
        except Exception as error:  # noqa: BLE001 - the search itself is complete; report, do not fail it
            log.exception("experiment %s: ensemble failed", experiment_id)
            ensemble = {"error": f"{type(error).__name__}: {error}"}
    with transaction.atomic():
        experiment = _locked(experiment_id)
        if experiment.status != Status.RUNNING or experiment.candidates.filter(status__in=Candidate.IN_FLIGHT).exists():
            return
        best = engine.best
        pareto_ids = [c["id"] for c in engine.pareto()]
        event = RunFinished(best["id"] if best else None, best["accuracy"] if best else None, len(engine.trained),
                            sum(1 for c in engine.candidates if c["status"] != "evaluated"), pareto_ids, ensemble)
        experiment.summary = {"pareto_ids": pareto_ids, "ensemble": ensemble, "gave_up": engine.gave_up,
                              "best_id": event.best_id, "best_accuracy": event.best_accuracy}
        experiment.save(update_fields=["summary"])
        payload = event.to_dict()
        payload.pop("type")
        record_event(experiment, "run_finished", payload)
        _set_status(experiment, Status.FINISHED)


# ---------------------------------------------------------------------- evaluating one candidate
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


def claim(candidate_id: int, worker: str) -> Job | None:
    """Mark the candidate as ours (running), or None when there is nothing for us to do."""
    from archsearch.evaluate import EvalBudget

    with transaction.atomic():
        try:
            candidate = Candidate.objects.select_related("parent").get(pk=candidate_id)
        except Candidate.DoesNotExist:
            return None
        experiment = _locked(candidate.experiment_id)
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
                   engine.promote_threshold())


class Watch(threading.Thread):
    """While a candidate trains: heartbeat every few seconds, and note when it must stop.

    It doubles as the training callback: ``on_step`` raises Interrupted once a reason is set,
    which aborts training (archsearch passes it as the ``stop`` callback).
    """

    def __init__(self, job: Job, interval: float = 2.0):
        super().__init__(name=f"watch-{job.name}", daemon=True)
        self.job, self.interval = job, interval
        self.reason: str | None = None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            while not self.done.wait(self.interval):
                self.check()
        finally:
            connection.close()

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
        from .signals import worker_shutting_down

        if worker_shutting_down.is_set():
            raise Interrupted("worker shutting down")
        if self.reason:
            raise Interrupted(self.reason)

    on_step = _maybe_stop
    on_epoch_start = _maybe_stop
    on_epoch_end = _maybe_stop

    def close(self) -> None:
        self.done.set()
        if self.is_alive():
            self.join(timeout=30)


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
        result = evaluate_candidate(job.spec, job.cache_dir, job.budget, job.seed, out_dir=job.out_dir,
                                    init_checkpoint=job.init_checkpoint, promote_threshold=job.promote_threshold, stop=watch)
    except Interrupted as why:
        interrupt(job, str(why))
        return "interrupted"
    except Exception as error:  # noqa: BLE001 - a broken candidate must not break the search
        log.exception("candidate %s failed", job.name)
        record_result(job, {"status": "failed", "reason": f"{type(error).__name__}: {error}"})
        return "failed"
    finally:
        watch.close()
    record_result(job, result)
    return result["status"]


def _holds(candidate: Candidate, job: Job) -> bool:
    return candidate.status == CStatus.RUNNING and candidate.claimed_by == job.worker and candidate.attempt == job.attempt


def interrupt(job: Job, why: str) -> None:
    """Training stopped early: the candidate goes back to proposed (or failed when cancelled)."""
    from .signals import worker_shutting_down

    finish_now = False
    with transaction.atomic():
        experiment = _locked(job.experiment_id)
        candidate = Candidate.objects.get(pk=job.candidate_id)
        if _holds(candidate, job):
            _release(experiment, candidate, why)
            if worker_shutting_down.is_set() and experiment.status == Status.RUNNING:
                _queue_evaluations([candidate.pk])  # another worker (or this one, restarted) takes it
        finish_now = _advance_locked(experiment)
    if finish_now:
        finish(job.experiment_id)


def record_result(job: Job, result: dict[str, Any]) -> bool:
    """Add a finished evaluation to the search and advance it; False if the claim was lost."""
    finish_now = False
    with transaction.atomic():
        experiment = _locked(job.experiment_id)
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
        for field in ("accuracy", "low_accuracy", "latency_ms", "params", "macs", "fidelity", "seconds", "checkpoint"):
            if result.get(field) is not None:
                setattr(candidate, field, result[field])
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
            _set_status(experiment, Status.FAILED, error=experiment.error)
            return True
        finish_now = _advance_locked(experiment)
    if finish_now:
        finish(job.experiment_id)
    return True


def _failing(experiment: Experiment) -> bool:
    """The last few results were all errors (not rejections): something is wrong beyond one candidate."""
    last = list(experiment.candidates.filter(completion_order__isnull=False).order_by("-completion_order")
                .values_list("status", flat=True)[:FAILURES_IN_A_ROW])
    return len(last) == FAILURES_IN_A_ROW and all(status == CStatus.FAILED for status in last)


# ---------------------------------------------------------------------- recovery
def recover(worker_name: str | None = None) -> list[int]:
    """After a restart: candidates claimed by this (dead) worker go back to proposed, every
    running experiment is advanced with its proposed candidates queued again, and datasets
    left half-prepared are queued again. Returns the experiments advanced."""
    with transaction.atomic():
        if worker_name:
            for candidate in Candidate.objects.filter(status=CStatus.RUNNING, claimed_by__startswith=f"{worker_name}:"):
                experiment = _locked(candidate.experiment_id)
                candidate.refresh_from_db()
                if candidate.status == CStatus.RUNNING and candidate.claimed_by.startswith(f"{worker_name}:"):
                    _release(experiment, candidate, f"worker {worker_name} restarted")
        for dataset_id in Dataset.objects.filter(status__in=[Dataset.Status.PENDING, Dataset.Status.PREPARING]).values_list("pk", flat=True):
            queue_dataset_preparation(dataset_id)
    ids = list(Experiment.objects.filter(status__in=[Status.RUNNING, Status.STOPPING]).values_list("pk", flat=True))
    for experiment_id in ids:
        with transaction.atomic():
            _queue_advance(experiment_id, requeue=True)
    return ids


def wait_for(predicate, timeout: float, interval: float = 0.2) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass (used by scripts and tests)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
