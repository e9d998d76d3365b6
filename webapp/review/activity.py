"""Audit entries of a team go to its activity feed (``team.<id>``) after commit.

Best effort like the studio's progress events: the activity feed page reads the stored audit
trail first and then listens, so a lost message costs nothing but liveness.

Every entry names and links the model it is about: ``detail["model"]`` and ``detail["url"]``,
written with the entry (``model_link``), so the feed needs no query per row and a renamed or
deleted model still reads as it was when the thing happened."""
from __future__ import annotations

from django.urls import reverse

from webapp.jobs.publisher import TeamActivity, send_on_commit


def entry_message(entry) -> dict:
    return {"kind": "activity", "id": entry.pk, "action": entry.action, "detail": entry.detail,
            "actor": entry.actor.username if entry.actor_id else None, "subject": entry.subject_id,
            "created": entry.created.isoformat()}


def publish_on_commit(entry) -> None:
    send_on_commit(TeamActivity(entry.team_id, entry_message(entry)))


# ---------------------------------------------------------------------- what an entry is about
def subject_name(subject) -> str:
    if subject.kind == "candidate":
        candidate = subject.candidate
        return f"{candidate.experiment.name} · {candidate.name}"
    if subject.kind == "version":
        return version_name(subject.version)
    if subject.kind == "evaluation":
        return version_name(subject.evaluation.version)
    return subject.ensemble.name


def version_name(version) -> str:
    return f"{version.architecture.name} v{version.number}"


def model_link(subject=None, *, experiment=None, version=None, evaluation=None) -> dict:
    """``{"model": name, "url": page}`` of what an entry is about (a review subject, an experiment,
    an architecture version or an evaluation), or {}."""
    if subject is not None and subject.kind == "evaluation":
        return model_link(evaluation=subject.evaluation)
    if subject is not None:
        return {"model": subject_name(subject), "url": reverse("model-page", args=[subject.kind, subject.target_id])}
    if experiment is not None:
        return {"model": experiment.name, "url": reverse("experiment-detail", args=[experiment.pk])}
    if version is not None:
        return {"model": version_name(version), "url": reverse("model-page", args=["version", version.pk])}
    if evaluation is not None:
        return {"model": version_name(evaluation.version), "url": reverse("evaluation-page", args=[evaluation.pk])}
    return {}
