"""Rename and delete datasets and experiments, with the rules users expect.

Every change asks the decision (the member role in the object's team), refuses with a reason while
something still depends on the object, removes its files from the studio's data folder once the
rows are gone (never a user's source folder), and is told to the team's audit trail through
webapp.teams.events (review writes the entry in the same transaction).
"""
from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.db.models.deletion import Collector

from webapp.teams.events import announce
from webapp.teams.roles import require

from ..models import Candidate, Dataset, DatasetPreparation, Experiment
from .datasets import _inside, _resolved, data_dir
from .errors import StudioError
from .names import clean_name

log = logging.getLogger("webapp.studio")


class ConflictError(StudioError):
    """Another request changed the same thing a moment ago (a name taken since the check): 409."""

    status = 409


@dataclass
class Removal:
    """What deleting an object takes with it, in words and numbers, and why it may not go yet."""

    kind: str
    name: str
    counts: dict[str, int] = field(default_factory=dict)
    files: int = 0
    blockers: list[str] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not self.blockers

    def to_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "counts": self.counts, "files": self.files, "blockers": self.blockers}


# ---------------------------------------------------------------------- files
def owned_folder(path: Path) -> Path | None:
    """``path`` when it lies strictly inside the studio's data folder (links followed), else None: a
    folder outside it (a user's videos) is never removed."""
    data = _resolved(data_dir())
    real = _resolved(path)
    if data is None or real is None or real == data or not _inside(real, data):
        return None
    return real


def count_files(folder: Path | None) -> int:
    if folder is None or not folder.is_dir():
        return 0
    return sum(1 for p in folder.rglob("*") if p.is_file())


def remove_on_commit(*paths: Path | None) -> None:
    """Remove these folders or files once the rows are gone for good (a rollback keeps both)."""
    paths = tuple(p for p in paths if p is not None)
    if not paths:
        return

    def remove() -> None:
        for path in paths:
            try:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
            except FileNotFoundError:
                pass
            except OSError:  # the rows are gone; a file left behind is logged, never a failed request
                log.exception("could not remove %s", path)

    transaction.on_commit(remove)


def experiment_folder(experiment: Experiment) -> Path | None:
    return owned_folder(data_dir() / "experiments" / str(experiment.pk))


def dataset_folder(dataset: Dataset) -> Path | None:
    return owned_folder(data_dir() / "datasets" / str(dataset.pk))


def export_files(experiment: Experiment) -> list[Path]:
    """The finished exports of its candidates (review's rows, reached by the reverse relations, not an import)."""
    paths = (Candidate.objects.filter(experiment=experiment).exclude(review__exports__path="")
             .exclude(review__exports__path=None).values_list("review__exports__path", flat=True))
    return [real for real in (owned_folder(Path(p)) for p in paths) if real is not None]


# ---------------------------------------------------------------------- names
def checked_name(raw: object, *, model, field_name: str = "name") -> str:
    name = clean_name(raw)
    limit = model._meta.get_field(field_name).max_length
    if not name:
        raise StudioError("Give a name (it has no visible characters).", "name")
    if len(name) > limit:
        raise StudioError(f"A name has at most {limit} characters.", "name")
    return name


def rename_dataset(*, user, dataset: Dataset, name: object) -> Dataset:
    """A new name for a dataset, unique in its team (a name taken by a concurrent rename: 409)."""
    require(user, "change", dataset)
    name = checked_name(name, model=Dataset)
    old = dataset.name
    if name == old:
        return dataset
    if Dataset.objects.filter(team_id=dataset.team_id, name=name).exclude(pk=dataset.pk).exists():
        raise StudioError(f"Your team already has a dataset called {name!r}.", "name")
    try:
        with transaction.atomic():
            Dataset.objects.filter(pk=dataset.pk).update(name=name)
            announce(dataset.team_id, user, "dataset.renamed", dataset=dataset.pk, old=old, new=name)
    except IntegrityError:  # another request took the name between the check and the write
        raise ConflictError(f"Another change just gave a dataset of your team the name {name!r}; pick another.", "name") from None
    dataset.name = name
    return dataset


def rename_experiment(*, user, experiment: Experiment, name: object) -> Experiment:
    return renamed(user=user, obj=experiment, name=name, action="experiment.renamed", key="experiment")


def renamed(*, user, obj, name: object, action: str, key: str):
    """The rename of a model whose names need not be unique in its team (a search, an architecture):
    the role, the checked name, one write and its audit entry (``key``: the id's name in it)."""
    require(user, "change", obj)
    model = type(obj)
    name = checked_name(name, model=model)
    old = obj.name
    if name != old:
        with transaction.atomic():
            model.objects.filter(pk=obj.pk).update(name=name)
            announce(obj.team_id, user, action, **{key: obj.pk}, old=old, new=name)
        obj.name = name
    return obj


# ---------------------------------------------------------------------- what goes, what blocks
RUNNING = (Experiment.Status.RUNNING, Experiment.Status.STOPPING)
ENSEMBLE_ACTIVE = ("queued", "running")


def experiment_removal(experiment: Experiment) -> Removal:
    candidates = experiment.candidates.count()
    plan = Removal("experiment", experiment.name, counts={"candidates": candidates, "events": experiment.events.count()},
                   files=count_files(experiment_folder(experiment)) + len(export_files(experiment)))
    if experiment.status in RUNNING:
        plan.blockers.append(f"It is {experiment.get_status_display().lower()}: cancel it first, then delete it.")
    # Ensembles are review's; the reverse relation asks without importing it.
    if Candidate.objects.filter(experiment=experiment, ensembles__status__in=ENSEMBLE_ACTIVE).exists():
        plan.blockers.append("An ensemble of its candidates is being evaluated: wait until it ends.")
    return plan


def dataset_removal(dataset: Dataset) -> Removal:
    experiments = dataset.experiments.all()
    folder = dataset_folder(dataset)
    plan = Removal("dataset", dataset.name, counts={"experiments": experiments.count()}, files=count_files(folder))
    running = [e.name for e in experiments.filter(status__in=RUNNING)[:3]]
    if running:
        plan.blockers.append(f"A running search uses it ({', '.join(running)}): cancel it, then delete the search first.")
    if plan.counts["experiments"]:
        names = ", ".join(e.name for e in experiments[:3]) + (", ..." if plan.counts["experiments"] > 3 else "")
        plan.blockers.append(f"{plan.counts['experiments']} experiment(s) use it ({names}): delete them first.")
    if dataset.preparations.filter(status=DatasetPreparation.Status.RUNNING).exists():
        plan.blockers.append("It is being prepared right now: wait until the preparation ends.")
    evaluations = [o for o in protected_by(dataset) if not isinstance(o, Experiment)]
    if evaluations:
        plan.blockers.append(f"{len(evaluations)} evaluation(s) in the architecture library were trained on it.")
    return plan


def protected_by(obj) -> list:
    """The rows that keep ``obj`` from being deleted (foreign keys with PROTECT), from Django's own collector:
    the library's evaluations point at datasets without a reverse name the studio could ask."""
    try:
        Collector(using=obj._state.db or "default").collect([obj])
    except ProtectedError as error:
        return list(error.protected_objects)
    return []


def refuse_unless_allowed(plan: Removal) -> None:
    if not plan.allowed:
        raise ConflictError(f"The {plan.kind} {plan.name!r} cannot be deleted yet. " + " ".join(plan.blockers))


# ---------------------------------------------------------------------- delete
def delete_experiment(*, user, experiment: Experiment) -> Removal:
    """Delete an experiment with its candidates, events and files (not while it runs: 409)."""
    require(user, "change", experiment)
    with transaction.atomic():
        locked = Experiment.objects.select_for_update().filter(pk=experiment.pk).first()
        if locked is None:
            raise ConflictError("This experiment was deleted a moment ago.")
        plan = experiment_removal(locked)
        refuse_unless_allowed(plan)
        folder, exports = experiment_folder(locked), export_files(locked)
        team_id, pk = locked.team_id, locked.pk
        locked.delete()
        announce(team_id, user, "experiment.deleted", experiment=pk, name=plan.name, **plan.counts, files=plan.files)
        remove_on_commit(folder, *exports)
    return plan


def delete_dataset(*, user, dataset: Dataset) -> Removal:
    """Delete a dataset and its clip cache (never its source folder); refused while anything uses it (409)."""
    require(user, "change", dataset)
    with transaction.atomic():
        locked = Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
        if locked is None:
            raise ConflictError("This dataset was deleted a moment ago.")
        plan = dataset_removal(locked)
        refuse_unless_allowed(plan)
        folder = dataset_folder(locked)
        team_id, pk = locked.team_id, locked.pk
        try:
            with transaction.atomic():
                locked.delete()
        except ProtectedError:  # an evaluation of the library trained on it (the library's rows point here)
            raise ConflictError(f"The dataset {plan.name!r} cannot be deleted yet: evaluations in the architecture "
                                "library were trained on it.") from None
        announce(team_id, user, "dataset.deleted", dataset=pk, name=plan.name, files=plan.files)
        remove_on_commit(folder)
    return plan
