"""What changes the architecture library: forks, versions, imports. Views and the API call these.

Every spec that is written was parsed, validated and priced by ``videomodels`` first
(``validate`` with the default budget); a spec with problems raises ``SpecRejected`` whose
``problems`` keep the validator's locations.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max

from videomodels import ArchSpec, SpecError, validate, with_input_size
from videomodels.importers import IMPORTERS, ImportError_
from videomodels.presets import PRESETS, get_preset
from videomodels.validation import Problem
from webapp.apikit.parsers import BodyError, first_problem, json_path, loads_checked
from webapp.studio.models import Candidate
from webapp.studio.services import StudioError, team_for, teams_of  # noqa: F401 - re-exported for views
from webapp.studio.services import ConflictError, Removal, data_dir, owned_folder, remove_on_commit
from webapp.studio.services.removal import count_files, renamed
from webapp.teams.events import announce
from webapp.teams.models import Team
from webapp.teams.roles import require

from .analysis import analyze_data, check_size
from .models import Architecture, ArchitectureVersion, Evaluation

# A spec body larger than this is refused before it is parsed (AssembleNet-101 is ~15 kB).
MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_JSON_DEPTH = 40
FORMATS = ("auto", "archspec", "assemblenet", "evanet", "tvn")


class SpecRejected(StudioError):
    """A spec that cannot be saved; ``problems`` are the validator's located messages."""

    def __init__(self, problems: list[Problem], field: str = "spec"):
        self.problems = list(problems)
        first = self.problems[0] if self.problems else Problem("$", "invalid")
        super().__init__(f"{len(self.problems)} problem(s), first: {first}", field)


# ---------------------------------------------------------------------- hostile JSON
def _depth_ok(value: Any, limit: int) -> bool:
    return first_problem(value, limit) is None


def parse_json(raw: bytes | str, *, where: str = "$") -> Any:
    """Parse untrusted JSON: bounded size and nesting, finite numbers only, real text only
    (the API's one parser, webapp.apikit.parsers), with the located problem."""
    if len(raw) > MAX_BODY_BYTES:
        raise SpecRejected([Problem(where, f"too large: {len(raw):,} bytes (at most {MAX_BODY_BYTES:,})")])
    try:
        return loads_checked(raw, max_depth=MAX_JSON_DEPTH)
    except BodyError as error:
        inner = json_path(error.path) if error.path else ""
        location = where if not inner else (inner if where == "$" else f"{where}.{inner}")
        raise SpecRejected([Problem(location, str(error))]) from None


def check_spec_data(data: Any, *, family: str | None = None) -> tuple[ArchSpec, dict]:
    """Full validation for saving: returns the parsed spec (defaults filled) and its analysis report."""
    if not isinstance(data, dict):
        raise SpecRejected([Problem("$", f"a spec must be a JSON object, got {type(data).__name__}")])
    if not _depth_ok(data, MAX_JSON_DEPTH):
        raise SpecRejected([Problem("$", f"nested more than {MAX_JSON_DEPTH} levels deep")])
    report = analyze_data(data, family=family)
    if not report.valid:
        raise SpecRejected(report.problems)
    try:
        analysis = validate(report.spec)  # the authoritative check, as training will run it
    except SpecError as error:
        raise SpecRejected(error.problems) from None
    return analysis.spec, report.to_dict()


# ---------------------------------------------------------------------- sources
@dataclass
class Source:
    """A spec to open in the editor and where it came from."""

    spec: dict
    family: str
    title: str
    origin: str  # Architecture.Origin value
    preset: str = ""
    candidate: Candidate | None = None
    version: ArchitectureVersion | None = None


def preset_source(name: str) -> Source:
    if name not in PRESETS:
        raise StudioError(f"Unknown preset {name!r}.", "preset")
    spec = get_preset(name)
    return Source(spec.to_dict(), spec.family, name, Architecture.Origin.PRESET, preset=name)


def candidate_source(user, candidate_id: int) -> Source:
    candidate = Candidate.objects.for_user(user).select_related("experiment").filter(pk=candidate_id).first()
    if candidate is None:
        raise StudioError("No such candidate.", "candidate")
    family = candidate.spec.get("family") if isinstance(candidate.spec, dict) else None
    return Source(candidate.spec, family or candidate.experiment.family, f"{candidate.experiment.name} {candidate.name}",
                  Architecture.Origin.CANDIDATE, candidate=candidate)


def version_source(user, version_id: int) -> Source:
    version = ArchitectureVersion.objects.for_user(user).select_related("architecture").filter(pk=version_id).first()
    if version is None:
        raise StudioError("No such version.", "version")
    return Source(version.spec, version.architecture.family, str(version), Architecture.Origin.VERSION, version=version)


def with_learned_weights(spec: Any, edge_weights: Any) -> Any:
    """A candidate's spec with the edge weights its training learned (what its drawing shows)."""
    if not isinstance(spec, dict) or not isinstance(spec.get("edges"), list) or not isinstance(edge_weights, list):
        return spec
    learned = {(w.get("source"), w.get("target")): w.get("weight") for w in edge_weights if isinstance(w, dict)}
    edges = [{**e, "weight": learned[(e.get("source"), e.get("target"))]}
             if isinstance(e, dict) and isinstance(learned.get((e.get("source"), e.get("target"))), float) else e
             for e in spec["edges"]]
    return {**spec, "edges": edges}


def blank_source(family: str) -> Source:
    if family not in IMPORTERS:
        raise StudioError(f"Unknown family {family!r}.", "family")
    spec = {"format": "archspec/1", "family": family, "name": "", "meta": {},
            "inputs": [{"id": "rgb", "modality": "rgb", "channels": 3, "frames": 8, "frame_stride": 1, "size": 32}],
            "nodes": [{"id": "head", "type": "classifier", "attrs": {"num_classes": 10}}],
            "edges": [{"source": "rgb", "target": "head", "weight": None, "learnable": True}]}
    return Source(spec, family, f"new {family} architecture", Architecture.Origin.NEW)


# ---------------------------------------------------------------------- writing
def _name(name: str, fallback: str) -> str:
    name = (name or "").strip() or fallback
    if len(name) > 200:
        raise StudioError("A name has at most 200 characters.", "name")
    return name


@transaction.atomic
def create_architecture(*, user, team: Team | None, name: str, spec: Any, message: str = "", origin: str = Architecture.Origin.NEW,
                        preset: str = "", candidate: Candidate | None = None, version: ArchitectureVersion | None = None,
                        note: str = "") -> ArchitectureVersion:
    """A new architecture in the team's library with ``spec`` as version 1 (a fork when it has an origin)."""
    team = team_for(user, team)
    clean, report = check_spec_data(spec)
    architecture = Architecture.objects.create(
        team=team, name=_name(name, clean.name or f"{clean.family} architecture"), family=clean.family, origin=origin,
        origin_preset=preset, origin_candidate=candidate, origin_version=version, origin_note=note[:300], created_by=user)
    return _write_version(architecture, user=user, clean=clean, report=report, message=message or f"from {architecture.origin_text()}",
                          parent=None)


def save_version(*, architecture: Architecture, user, spec: Any, message: str = "", parent: ArchitectureVersion | None = None) -> ArchitectureVersion:
    """A new version (never an overwrite). ``parent`` defaults to the latest version."""
    require(user, "change", architecture)
    if parent is not None and parent.architecture_id != architecture.pk:
        raise StudioError("The parent must be a version of this architecture.", "parent")
    clean, report = check_spec_data(spec, family=architecture.family)
    with transaction.atomic():
        # The row lock serialises concurrent saves, so version numbers never collide.
        locked = Architecture.objects.select_for_update().get(pk=architecture.pk)
        if parent is None:
            parent = locked.versions.order_by("-number").first()
        version = _write_version(locked, user=user, clean=clean, report=report, message=message, parent=parent)
        locked.save(update_fields=["updated"])
    return version


def _write_version(architecture, *, user, clean: ArchSpec, report: dict, message: str, parent) -> ArchitectureVersion:
    number = (architecture.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    return ArchitectureVersion.objects.create(
        architecture=architecture, number=number, spec=clean.to_dict(), spec_hash=clean.content_hash(), parent=parent,
        author=user, message=(message or "")[:500], params=report["totals"]["params"], macs=report["totals"]["macs"])


# ---------------------------------------------------------------------- import
def detect_format(config: Any) -> str:
    if isinstance(config, list):
        return "assemblenet"
    if isinstance(config, dict):
        if "nodes" in config or "format" in config:
            return "archspec"
        if "structure" in config:
            return "assemblenet"
        if "stem" in config:
            return "evanet"
        if "meta" in config and "blocks" in config:
            return "tvn"
    raise SpecRejected([Problem("config", "cannot tell the format: expected an ArchSpec, an AssembleNet structure list, "
                                          "an EvaNet DNA (stem, blocks) or a TVN dict (meta, blocks)")], "config")


def import_config(config: Any, *, fmt: str = "auto", name: str = "", options: dict | None = None) -> ArchSpec:
    """Turn a pasted/uploaded config into a valid spec, through the command line's importers."""
    options = dict(options or {})
    fmt = detect_format(config) if fmt == "auto" else fmt
    if fmt not in FORMATS:
        raise StudioError(f"Unknown format {fmt!r} (known: {', '.join(FORMATS)}).", "format")
    if fmt == "archspec":
        clean, _ = check_spec_data(config)
        if name:
            clean.name = name
        return clean
    if check_size(config if isinstance(config, dict) else {"nodes": config}):
        raise SpecRejected(check_size(config if isinstance(config, dict) else {"nodes": config}), "config")
    frames, size = options.pop("frames", None), options.pop("size", None)
    if fmt in ("assemblenet", "evanet"):
        options.update({k: v for k, v in (("frames", frames), ("size", size)) if v is not None})
    try:
        spec = IMPORTERS[fmt](config, name=name or f"imported {fmt}", **options)
        if fmt == "tvn":
            spec = with_input_size(spec, frames=frames, size=size)
    except ImportError_ as error:
        raise SpecRejected([Problem("config", str(error))], "config") from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as error:
        raise SpecRejected([Problem("config", f"not a valid {fmt} config: {type(error).__name__}: {error}")], "config") from None
    spec.meta.setdefault("imported_from", fmt)
    clean, _ = check_spec_data(spec.to_dict())
    return clean


# ---------------------------------------------------------------------- rename, delete, messages
def rename_architecture(*, user, architecture: Architecture, name: object) -> Architecture:
    """A new name (names need not be unique in the library: versions are told apart by number and id)."""
    return renamed(user=user, obj=architecture, name=name, action="architecture.renamed", key="architecture")


def edit_version_message(*, user, version: ArchitectureVersion, message: object) -> ArchitectureVersion:
    """A version's message is its note, not its content: it may be corrected; the spec stays immutable."""
    require(user, "change", version)
    if not isinstance(message, str) or "\x00" in message:
        raise StudioError("A message is text.", "message")
    message = " ".join(message.split())
    if len(message) > 500:
        raise StudioError("A message has at most 500 characters.", "message")
    old = version.message
    if message != old:
        with transaction.atomic():
            ArchitectureVersion.objects.filter(pk=version.pk).update(message=message)  # save() refuses on purpose
            announce(version.architecture.team_id, user, "version.message", version=version.pk,
                     name=f"{version.architecture.name} v{version.number}", old=old, new=message)
        version.message = message
    return version


EVALUATION_ACTIVE = (Evaluation.Status.QUEUED, Evaluation.Status.RUNNING)


def architecture_removal(architecture: Architecture) -> Removal:
    evaluations = Evaluation.objects.filter(version__architecture=architecture)
    folders = [owned_folder(data_dir() / "evaluations" / str(pk)) for pk in evaluations.values_list("pk", flat=True)]
    plan = Removal("architecture", architecture.name,
                   counts={"versions": architecture.versions.count(), "evaluations": evaluations.count()},
                   files=sum(count_files(f) for f in folders))
    if evaluations.filter(status__in=EVALUATION_ACTIVE).exists():
        plan.blockers.append("One of its versions is being evaluated: wait until the evaluation ends.")
    return plan


def delete_architecture(*, user, architecture: Architecture) -> Removal:
    """Delete an architecture with its versions, their evaluations and files (not while one trains: 409).
    Forks keep working: they hold their own copy of the spec (their origin then reads "since deleted")."""
    require(user, "change", architecture)
    with transaction.atomic():
        locked = Architecture.objects.select_for_update().filter(pk=architecture.pk).first()
        if locked is None:
            raise ConflictError("This architecture was deleted a moment ago.")
        plan = architecture_removal(locked)
        if not plan.allowed:
            raise ConflictError(f"The architecture {plan.name!r} cannot be deleted yet. " + " ".join(plan.blockers))
        folders = [owned_folder(data_dir() / "evaluations" / str(pk))
                   for pk in Evaluation.objects.filter(version__architecture=locked).values_list("pk", flat=True)]
        team_id, pk = locked.team_id, locked.pk
        locked.delete()
        announce(team_id, user, "architecture.deleted", architecture=pk, name=plan.name, **plan.counts, files=plan.files)
        remove_on_commit(*folders)
    return plan
