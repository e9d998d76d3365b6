"""Register a team's videos and prepare them into a clip cache."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import Dataset, Team
from .errors import StudioError


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
    from ..tasks import prepare_dataset_task

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


