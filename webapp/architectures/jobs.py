"""Back into training and search: evaluate a version, seed versions into a new search, inject one
into a running search. Views, the API and tasks call these.

An evaluation is a job of webapp.jobs (its kind: webapp.architectures.evaluation_job): queued on
commit, claimed by one worker, redone once if its worker dies, recorded once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max

from archsearch.config import ConfigError, SearchConfig
from archsearch.seeding import SeedError, fit_spec, hand_edited
from videomodels import ArchSpec, SpecError, analyze
from videomodels.validation import check_structure
from webapp.jobs.claims import queue
from webapp.jobs.retrying import retry
from webapp.studio.models import Candidate, Dataset, Experiment
from webapp.studio.progress import record_event
from webapp.teams.roles import require
from webapp.studio.services import (StudioError, TransitionError, build_engine, check_budget as check_team_budget, check_room,
                                    config_errors)
from webapp.studio.services.lifecycle import locked
from webapp.studio.services.scheduler import queue_evaluations

from .evaluation_job import EVALUATION
from .evaluations import Evaluation
from .models import ArchitectureVersion

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
        queue(EVALUATION, evaluation.pk)
    return evaluation


def retry_evaluation(*, user, evaluation: Evaluation) -> bool:
    """A failed evaluation queued again as its next attempt (the member role, as for a new one); False when it
    is not failed."""
    require(user, "train", evaluation)
    with transaction.atomic():
        check_room(evaluation.version.architecture.team, 1)
        return retry(EVALUATION, evaluation.pk, f"run again by {user.username}")


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


def canonical_hash(spec: dict) -> str:
    """The hash of a spec with every default filled in: a saved version (stored filled) and a candidate the
    engine proposed (stored as sampled) compare equal when they are the same network."""
    arch = ArchSpec.from_dict(spec)
    clean, problems = check_structure(arch)
    return (arch if problems else clean).content_hash()


def population(experiment: Experiment) -> dict[str, str]:
    """canonical spec hash -> the name of the first candidate of the search with that network."""
    seen: dict[str, str] = {}
    for name, spec in experiment.candidates.order_by("-index").values_list("name", "spec").iterator():
        try:
            seen[canonical_hash(spec)] = name
        except (SpecError, TypeError, ValueError, KeyError, AttributeError):
            continue  # an unreadable row is nobody's twin
    return seen


def fit_for_search(experiment: Experiment, version: ArchitectureVersion, config=None, members=None) -> tuple[dict, list[str]]:
    """The version as a candidate of this search, or StudioError with the reason it does not fit.

    It fits when it is the search's team and family, adapts to the search's dataset (inputs,
    classes), lies within the search's parameter range, and is not an exact copy of a candidate
    the search already has (a duplicate would train the same network twice)."""
    if version.architecture.team_id != experiment.team_id:
        raise StudioError("No such version.", "version")
    if version.architecture.family != experiment.family:
        raise StudioError(f"{version} is a {version.architecture.family} architecture; this is a {experiment.family} search.",
                          "version")
    config = config or experiment.search_config()
    spec, notes = fitted(version, experiment.dataset, family=experiment.family, max_params=config.max_params)
    arch = ArchSpec.from_dict(spec)
    params = analyze(arch).params
    if params < config.min_params:
        raise StudioError(f"{version}: params: {params:,} is under the search's min_params ({config.min_params:,}).", "version")
    twin = (population(experiment) if members is None else members).get(canonical_hash(spec))
    if twin is not None:
        raise StudioError(f"{version} is an exact copy of {twin}, already in this search: it would train the same network twice.",
                          "version")
    return spec, notes


def versions_for_search(experiment: Experiment, *, limit: int = 50) -> list[ArchitectureVersion]:
    """The team's saved versions that this search can take now (fit_for_search), newest architectures first."""
    return sort_for_search(experiment, limit=limit).fits


@dataclass(frozen=True)
class SearchFit:
    """The team's saved versions of the search's family, sorted: those it can take now, and the others
    with the reason (what the Inject form says when nothing fits)."""

    fits: list[ArchitectureVersion]
    refused: list[tuple[ArchitectureVersion, str]]
    dataset_ready: bool = True


def sort_for_search(experiment: Experiment, *, limit: int = 50) -> SearchFit:
    candidates = (ArchitectureVersion.objects.filter(architecture__team_id=experiment.team_id, architecture__family=experiment.family)
                  .select_related("architecture", "author").order_by("-architecture__updated", "-number")[:limit])
    if not experiment.dataset.is_ready:
        return SearchFit([], [], dataset_ready=False)
    config, members = experiment.search_config(), population(experiment)
    fits, refused = [], []
    for version in candidates:
        try:
            fit_for_search(experiment, version, config, members)
        except StudioError as error:
            refused.append((version, str(error)))
            continue
        fits.append(version)
    return SearchFit(fits, refused)


def inject_version(*, user, experiment_id: int, version: ArchitectureVersion) -> Candidate:
    """A hand-made candidate into a running search, at the next free index with no parent.

    It is part of the search's history from then on (the engine is rebuilt from candidate
    rows), so a replay or a resume sees it exactly like a proposal."""
    with transaction.atomic():
        experiment = locked(experiment_id)
        require(user, "train", experiment)
        if experiment.status != Experiment.Status.RUNNING:
            raise TransitionError(f"Only a running search takes a new candidate; this one is {experiment.status}.")
        check_room(experiment.team, 1)
        spec, notes = fit_for_search(experiment, version)
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
