"""Ensembles: several evaluated candidates whose averaged logits (EvaNet style) are scored on the
same validation clips, as a job on the ``train`` queue. The ensemble is a reviewable model of its
own (a Subject), shown with its accuracy beside its members'."""
from __future__ import annotations

import logging

from django.db import transaction

from webapp.studio.models import Candidate
from webapp.studio.services import StudioError, check_room
from webapp.teams.roles import require

from .models import Ensemble
from .services import audit, subject_for_ensemble

log = logging.getLogger("webapp.review.ensembles")
MAX_MEMBERS = 8


def create_ensemble(*, user, candidate_ids: list[int], name: str = "") -> Ensemble:
    ids = sorted({i for i in candidate_ids if isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**62})
    if not 2 <= len(ids) <= MAX_MEMBERS or len(ids) != len(candidate_ids):
        raise StudioError(f"Pick 2 to {MAX_MEMBERS} different candidates.", field="members")
    members = list(Candidate.objects.for_user(user).select_related("experiment").filter(pk__in=ids))
    if len(members) != len(ids):
        raise StudioError("Some of these candidates are not your team's.", field="members")
    if len({m.experiment.team_id for m in members}) != 1 or len({m.experiment.dataset_id for m in members}) != 1:
        raise StudioError("Ensemble members must be of one team and trained on one dataset.", field="members")
    require(user, "train", members[0].experiment)  # the member role in the members' team, before anything is written
    if any(m.status != Candidate.Status.EVALUATED or not m.checkpoint for m in members):
        raise StudioError("Every member must be an evaluated candidate with its checkpoint.", field="members")
    with transaction.atomic():
        check_room(members[0].experiment.team, 1)
        ensemble = Ensemble.objects.create(team_id=members[0].experiment.team_id, created_by=user,
                                           name=(name or "+".join(m.name for m in members))[:200])
        ensemble.members.set(members)
        subject = subject_for_ensemble(ensemble)
        audit(ensemble.team_id, user, "ensemble.created", subject, members=[m.pk for m in members])
        transaction.on_commit(lambda: queue(ensemble.pk))
    return ensemble


def queue(ensemble_id: int) -> None:
    from .tasks import evaluate_ensemble_task

    evaluate_ensemble_task.apply_async(args=[ensemble_id], queue="train")


def evaluate(ensemble_id: int) -> Ensemble:
    """Average the members' validation logits; record the ensemble's and each member's accuracy. Idempotent."""
    import torch

    from archsearch.ensemble import val_logits

    ensemble = Ensemble.objects.get(pk=ensemble_id)
    if ensemble.status == Ensemble.Status.EVALUATED:
        return ensemble
    Ensemble.objects.filter(pk=ensemble_id).update(status=Ensemble.Status.RUNNING)
    members = list(ensemble.members.select_related("experiment__dataset").order_by("pk"))
    try:
        cache = members[0].experiment.dataset.cache_path
        logits, member_accuracy, targets = [], {}, None
        with torch.no_grad():
            for member in members:
                member_logits, member_targets = val_logits(member.checkpoint, cache)
                targets = member_targets
                logits.append(member_logits)
                member_accuracy[str(member.pk)] = float((member_logits.argmax(1) == member_targets).float().mean())
        mean = torch.stack(logits).mean(0)
        accuracy = float((mean.argmax(1) == targets).float().mean())
    except Exception as error:  # noqa: BLE001 - a broken checkpoint fails this ensemble, not the worker
        log.exception("ensemble %s failed", ensemble_id)
        Ensemble.objects.filter(pk=ensemble_id).update(status=Ensemble.Status.FAILED, error=f"{type(error).__name__}: {error}"[:2000])
        return Ensemble.objects.get(pk=ensemble_id)
    with transaction.atomic():
        Ensemble.objects.filter(pk=ensemble_id).update(status=Ensemble.Status.EVALUATED, accuracy=accuracy,
                                                       member_accuracy=member_accuracy, error="")
        audit(ensemble.team_id, None, "ensemble.evaluated", subject_for_ensemble(ensemble), accuracy=accuracy)
    return Ensemble.objects.get(pk=ensemble_id)
