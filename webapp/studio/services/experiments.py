"""Launching a search: check the settings, create the experiment, start it."""
from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Any

from django.db import connection, transaction

from archsearch.config import FAMILIES, ConfigError, SearchConfig

from webapp.teams.models import Team
from webapp.teams.roles import require

from ..models import Dataset, Experiment
from ..progress import record_event
from .errors import StudioError
from .estimates import latency_budget_warning
from .lifecycle import locked, start_experiment
from .limits import check_budget, check_room, limits_of
from .names import clean_name
from .workers import WorkersUnknown, cuda_train_workers, list_workers

log = logging.getLogger("webapp.studio")

# Settings a launch form sets directly; the rest of SearchConfig can come as "settings".
FORM_FIELDS = ("population", "rounds", "latency_budget_ms", "seed", "low_steps", "high_steps", "batch_size")


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
    return config.validate()


def check_launch(*, team: Team, dataset: Dataset, family: str, parallelism: int, config: SearchConfig | None = None) -> None:
    """What a launch must satisfy beyond SearchConfig's own checks, the team's fair-use limits included."""
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
    if config is not None and config.latency_device == "cuda":
        check_gpu_latency()
    cap = limits_of(team)["max_queued_trainings"]
    if parallelism > cap:
        raise StudioError(f"At most {cap} candidates at once in {team.name} (the team's max_queued_trainings limit), "
                          f"got {parallelism}.", "parallelism")
    if config is not None:
        check_budget(team, steps={"low_steps": config.low_steps, "high_steps": config.high_steps}, batch_size=config.batch_size)


def check_gpu_latency() -> None:
    """Latency on the GPU is measured by the training workers: at least one must have a GPU."""
    try:
        workers = list_workers()
    except WorkersUnknown as error:
        raise StudioError(f"Latency on the GPU needs a training worker with a CUDA GPU, and {error}.", "latency_device") from None
    if not cuda_train_workers(workers):
        trainers = sum(1 for w in workers if w["trains"])
        running = (f"none of the {trainers} training worker{'s' * (trainers != 1)} running has one" if trainers
                   else "no training worker is running")
        raise StudioError(f"Latency on the GPU needs a training worker with a CUDA GPU: {running} (see the workers page). "
                          "Measure on the CPU, or start workers on a GPU machine.", "latency_device")

def create_experiment(*, team: Team, user, name: str, dataset: Dataset, config: SearchConfig, parallelism: int = 2,
                      start: bool = True) -> Experiment:
    require(user, "change", team)
    check_launch(team=team, dataset=dataset, family=config.family, parallelism=parallelism, config=config)
    if start:
        check_room(team, parallelism)  # before anything is written (start_experiment checks again, under its lock)
    # What is known now without timing anything; None: the budget is checked in the background.
    budget_warning = latency_budget_warning(config, dataset, measure=False)
    with transaction.atomic():
        name = clean_name(name) or default_name(team, config.family, dataset)
        experiment = Experiment.objects.create(team=team, name=name, family=config.family, dataset=dataset,
                                               config=config.to_dict(), parallelism=parallelism, created_by=user,
                                               warnings=[budget_warning] if budget_warning else [])
        record_event(experiment, "status", {"status": experiment.status, "progress": experiment.progress(0)})
        if budget_warning is None:
            transaction.on_commit(lambda: check_latency_budget_soon(experiment.pk))
        if start:
            start_experiment(experiment.pk)
    experiment.refresh_from_db()
    return experiment


def default_name(team: Team, family: str, dataset: Dataset) -> str:
    """"tvn on motion #3": the next number not yet used by the team (the caller is in a transaction).

    The dataset's row lock makes two launches at once on the same data take turns here
    (SQLite's IMMEDIATE transactions already do), so they never pick the same number.
    """
    Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
    base = f"{family} on {dataset.name}"
    taken = set(Experiment.objects.filter(team=team, name__startswith=base).values_list("name", flat=True))
    number = 1 + Experiment.objects.filter(team=team, family=family, dataset=dataset).count()
    while f"{base} #{number}" in taken:
        number += 1
    return f"{base} #{number}"


# At most this many budget checks wait or run at once per process: launches cannot pile up CPU work.
_budget_checks = threading.BoundedSemaphore(4)


def check_latency_budget_soon(experiment_id: int) -> threading.Thread | None:
    """Time the family's networks off the request (seconds of CPU, once per process), then warn."""
    if not _budget_checks.acquire(blocking=False):
        log.info("experiment %s: latency budget not checked (too many checks in progress)", experiment_id)
        return None
    thread = threading.Thread(target=check_latency_budget, args=(experiment_id,), name=f"budget-check-{experiment_id}",
                              daemon=True)
    thread.start()
    return thread


def check_latency_budget(experiment_id: int) -> None:
    try:
        experiment = Experiment.objects.select_related("dataset").get(pk=experiment_id)
        warning = latency_budget_warning(experiment.search_config(), experiment.dataset)
        if warning:
            add_warning(experiment_id, warning)
    except Exception:  # a warning is a courtesy; never let it take a thread's traceback to the user
        log.exception("experiment %s: latency budget not checked", experiment_id)
    finally:
        connection.close()
        _budget_checks.release()


def add_warning(experiment_id: int, message: str) -> None:
    """Add a warning to the experiment's page (stored, and sent live as a ``warning`` event)."""
    with transaction.atomic():
        experiment = locked(experiment_id)
        if message in experiment.warnings:
            return
        experiment.warnings = [*experiment.warnings, message]
        experiment.save(update_fields=["warnings"])
        record_event(experiment, "warning", {"message": message})

