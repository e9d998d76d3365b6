"""Ensembles: several evaluated candidates whose averaged logits (EvaNet style) are scored on the
same validation clips, as a job of webapp.jobs on the ``train`` queue (claimed once, redone if its
worker dies, recorded once). The ensemble is a reviewable model of its own (a Subject), shown with
its accuracy beside its members'."""
from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import reverse

from webapp.jobs.claims import queue
from webapp.jobs.kinds import JobKind, Shown
from webapp.jobs.reporting import Reporter
from webapp.jobs.retrying import retry
from webapp.studio.models import Candidate
from webapp.studio.services import StudioError, check_room
from webapp.teams.roles import require

from .models import Ensemble
from .services import audit, subject_for_ensemble

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
        queue(ENSEMBLE, ensemble.pk)
    return ensemble


def retry_ensemble(ensemble: Ensemble, user) -> bool:
    """A failed ensemble evaluated again as its next attempt (the member role, as for a new one); False when it is
    not failed."""
    require(user, "train", ensemble)
    with transaction.atomic():
        check_room(ensemble.team, 1)
        return retry(ENSEMBLE, ensemble.pk, f"run again by {user.username}")


class EnsembleKind(JobKind):
    name = "ensemble"
    model = Ensemble

    def shown(self, job: Ensemble) -> Shown:
        return Shown(f"ensemble {job.name}", reverse("model-page", args=["ensemble", job.pk]), job.team_id)

    def run(self, job: Ensemble, reporter: Reporter) -> dict[str, Any]:
        """Average the members' validation logits; the ensemble's and each member's accuracy."""
        import torch  # the web process never loads it

        from archsearch.ensemble import val_logits

        members = list(job.members.select_related("experiment__dataset").order_by("pk"))
        cache = members[0].experiment.dataset.cache_path
        logits, member_accuracy, targets = [], {}, None
        with torch.no_grad():
            for done, member in enumerate(members):
                reporter.check()
                reporter.report(stage=f"member {member.name}", progress=done / len(members))
                member_logits, targets = val_logits(member.checkpoint, cache)
                logits.append(member_logits)
                member_accuracy[str(member.pk)] = float((member_logits.argmax(1) == targets).float().mean())
        mean = torch.stack(logits).mean(0)
        return {"status": "evaluated", "accuracy": float((mean.argmax(1) == targets).float().mean()),
                "member_accuracy": member_accuracy}

    def record(self, job: Ensemble, result: dict[str, Any]) -> None:
        if result["status"] != "evaluated":
            job.status, job.reason, job.stage = Ensemble.Status.FAILED, result["reason"][:2000], "failed"
            return
        job.status, job.accuracy, job.member_accuracy = Ensemble.Status.EVALUATED, result["accuracy"], result["member_accuracy"]
        job.reason, job.stage, job.progress = "", "evaluated", 1.0
        audit(job.team_id, None, "ensemble.evaluated", subject_for_ensemble(job), accuracy=job.accuracy)


ENSEMBLE = EnsembleKind()
