"""Register a team's videos; their preparation into a clip cache is a job (webapp.studio.preparation_job)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from webapp.teams.models import Team
from webapp.teams.roles import require

from webapp.jobs.claims import queue
from webapp.jobs.kinds import kind_named

from ..models import Dataset, DatasetPreparation
from .errors import StudioError
from .names import clean_name

DATASET_SEED_MAX = 2**31 - 1  # the seed column is a 32-bit integer on every database


def data_dir() -> Path:
    return Path(settings.STUDIO_DATA_DIR)


def _resolved(path: Path) -> Path | None:
    """The real path (every link followed), or None when it cannot be resolved at all."""
    try:
        return Path(os.path.realpath(path, strict=True))
    except (OSError, RuntimeError, ValueError):  # missing, too long, a loop, no permission, NUL or odd bytes
        return None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def shared_roots() -> list[Path]:
    """The folders users may register, resolved; the studio's own data folder is never one."""
    data = _resolved(data_dir()) or data_dir().absolute()
    roots = []
    for root in settings.STUDIO_DATASET_ROOTS:
        real = _resolved(Path(root))
        if real is not None and not _inside(real, data):
            roots.append(real)
    return roots


def refusal(path: Path) -> str | None:
    """Why a user may not read ``path`` (None when they may).

    Every file is resolved, not only the folder: a link inside a shared folder may point
    anywhere. The studio's data folder holds every team's videos and caches, so nothing in it
    (and no folder holding it) may be read through a dataset. The reason never says where a
    link points or what exists outside the shared folders."""
    real = _resolved(path)
    if real is None:
        return "cannot be opened (missing, a link loop, too long a name or no permission)"
    data = _resolved(data_dir()) or data_dir().absolute()
    if _inside(real, data) or _inside(data, real):
        return "outside the folders this server shares with you"
    if not any(_inside(real, root) for root in shared_roots()):
        return "outside the folders this server shares with you"
    return None


def check_source_path(raw: str) -> Path:
    """A server folder or CSV manifest that users may register: it must exist inside a shared folder."""
    raw = (raw or "").strip() if isinstance(raw, str) else ""
    if not raw:
        raise StudioError("Give the folder (or CSV manifest) on the server that holds the videos.", "source_path")
    # Shown back safely: no lone surrogates (they cannot be encoded) and not a page of text.
    shown = raw[:200].encode("utf-8", "backslashreplace").decode("utf-8") + ("..." if len(raw) > 200 else "")
    if len(raw) > 4096 or "\x00" in raw:
        raise StudioError(f"{shown!r}: not a usable path on the server.", "source_path")
    path = Path(raw)
    if not path.is_absolute():
        raise StudioError(f"{shown}: give an absolute path on the server.", "source_path")
    roots = ", ".join(str(r) for r in shared_roots()) or "none are configured (STUDIO_DATASET_ROOTS)"
    # Missing and forbidden look the same, so the message tells nothing about what exists elsewhere.
    if refusal(path) is not None:
        raise StudioError(f"{shown}: not a folder or CSV manifest you may register; the shared folders are {roots}.",
                          "source_path")
    real = _resolved(path)
    if not (real.is_dir() or (real.is_file() and real.suffix.lower() == ".csv")):
        raise StudioError(f"{shown}: not a folder or CSV manifest you may register; the shared folders are {roots}.",
                          "source_path")
    return real


def register_dataset(*, team: Team, user, name: str, kind: str, source_path: str = "", frames: int = 8, size: int = 32,
                     flow: bool = False, clips_per_class: int | None = None, classes: list[str] | None = None,
                     seed: int = 0) -> Dataset:
    """Create a dataset row and queue its preparation (the member role in ``team``, else 403)."""
    from videomodels.data import MOTION_CLASSES

    require(user, "change", team)

    name = clean_name(name)
    if not name:
        raise StudioError("Give the dataset a name (it has no visible characters).", "name")
    if len(name) > Dataset._meta.get_field("name").max_length:
        raise StudioError(f"A dataset name has at most {Dataset._meta.get_field('name').max_length} characters.", "name")
    if Dataset.objects.filter(team=team, name=name).exists():
        raise StudioError(f"Your team already has a dataset called {name!r}.", "name")
    for field, value in (("frames", frames), ("size", size)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise StudioError(f"{field.capitalize()} must be a whole number, got {value!r}.", field)
    if not 1 <= frames <= 256:
        raise StudioError(f"Frames per clip must be from 1 to 256, got {frames}.", "frames")
    if not 8 <= size <= 512:
        raise StudioError(f"Resolution must be from 8 to 512 pixels, got {size}.", "size")
    fields: dict[str, Any] = {}
    if kind == Dataset.Kind.FOLDER:
        fields["source_path"] = str(check_source_path(source_path))
    elif kind == Dataset.Kind.SYNTHETIC:
        if not isinstance(clips_per_class, int) or isinstance(clips_per_class, bool) or not 2 <= clips_per_class <= 1000:
            raise StudioError(f"Clips per class must be from 2 to 1000, got {clips_per_class}.", "clips_per_class")
        classes = list(classes or MOTION_CLASSES)
        unknown = [c for c in classes if c not in MOTION_CLASSES]
        if unknown:
            raise StudioError(f"Unknown motion classes: {', '.join(unknown)}.", "classes")
        if len(classes) < 2:
            raise StudioError("Pick at least two motion classes.", "classes")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= DATASET_SEED_MAX:
            raise StudioError(f"Seed must be a whole number from 0 to {DATASET_SEED_MAX}, got {seed!r}.", "seed")
        fields.update(clips_per_class=clips_per_class, synthetic_classes=classes, seed=seed)
    else:
        raise StudioError(f"Dataset kind must be folder or synthetic, got {kind!r}.", "kind")
    try:
        with transaction.atomic():
            dataset = Dataset.objects.create(team=team, name=name, kind=kind, frames=frames, size=size, flow=flow,
                                             created_by=user, **fields)
            queue_preparation(dataset)
    except IntegrityError:  # another request registered the same name a moment ago
        raise StudioError(f"Your team already has a dataset called {name!r}.", "name") from None
    return dataset


PREPARATION_KIND = "dataset-preparation"  # registered by webapp.studio.preparation_job, which imports this module


def queue_preparation(dataset: Dataset) -> DatasetPreparation:
    """A new preparation of ``dataset``, sent to a worker once the transaction commits."""
    preparation = DatasetPreparation.objects.create(dataset=dataset, stage="queued")
    queue(kind_named(PREPARATION_KIND), preparation.pk)
    return preparation
