"""What goes into a team's audit trail (its activity feed) from the apps to review's left.

- every change to a team's members or invitations (webapp.teams.events);
- a search launched, and a search that ended (its stored status event);
- an architecture version saved (the editor, an import, a candidate taken into the library);
- an evaluation queued and its result;
- an export asked for and its result.

Review listens rather than being called: those apps cannot import review (the chain runs one way).
Each receiver runs inside the transaction that writes the row, so the entry commits (or not) with it,
and is published after commit. Reviews, tags, pointers, comments and ensembles are audited by
review's own services.
"""
from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from webapp.architectures.evaluations import Evaluation
from webapp.architectures.models import ArchitectureVersion
from webapp.studio.models import Event, Experiment
from webapp.teams.events import team_changed

from .activity import model_link
from .models import Export
from .services import audit

ENDED = {*Experiment.TERMINAL, Experiment.Status.FAILED}


@receiver(team_changed, dispatch_uid="review.audit_team_change")
def audit_team_change(sender, *, team_id: int, actor, action: str, detail: dict, **kwargs) -> None:
    """Sent inside the change's transaction: the entry commits (or not) with it."""
    audit(team_id, actor, action, **detail)


@receiver(post_save, sender=Experiment, dispatch_uid="review.audit_launch")
def audit_launch(sender, instance: Experiment, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        audit(instance.team_id, instance.created_by, "experiment.launched", **model_link(experiment=instance),
              family=instance.family)


@receiver(post_save, sender=Event, dispatch_uid="review.audit_search_end")
def audit_search_end(sender, instance: Event, created: bool, raw: bool = False, **kwargs) -> None:
    """The status event an experiment stores when it ends (finished, failed, gave up, cancelled)."""
    status = (instance.payload or {}).get("status")
    if created and not raw and instance.type == "status" and status in ENDED:
        experiment = instance.experiment
        audit(experiment.team_id, None, "experiment." + status, **model_link(experiment=experiment), status=status,
              reason=(instance.payload.get("reason") or experiment.outcome or experiment.error or "")[:300])


@receiver(post_save, sender=ArchitectureVersion, dispatch_uid="review.audit_version_saved")
def audit_version_saved(sender, instance: ArchitectureVersion, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        audit(instance.architecture.team_id, instance.author, "version.saved", **model_link(version=instance),
              message=instance.message[:200])


@receiver(post_save, sender=Evaluation, dispatch_uid="review.audit_evaluation")
def audit_evaluation(sender, instance: Evaluation, created: bool, raw: bool = False, update_fields=None, **kwargs) -> None:
    """Queued (by its author), then its result, written once by the job runtime's record."""
    if raw:
        return
    team_id = instance.version.architecture.team_id
    if created:
        audit(team_id, instance.created_by, "evaluation.queued", **model_link(evaluation=instance), steps=instance.steps)
    elif update_fields is None and instance.status in (Evaluation.Status.EVALUATED, Evaluation.Status.FAILED) \
            and instance.claimed_by == "":
        audit(team_id, None, "evaluation." + instance.status, **model_link(evaluation=instance),
              accuracy=instance.accuracy, reason=instance.reason[:300])


@receiver(post_save, sender=Export, dispatch_uid="review.audit_export")
def audit_export(sender, instance: Export, created: bool, raw: bool = False, update_fields=None, **kwargs) -> None:
    if raw:
        return
    subject = instance.subject
    if created:
        audit(subject.team_id, instance.created_by, "export.requested", subject, format=instance.format)
    elif update_fields is None and instance.status in (Export.Status.READY, Export.Status.FAILED) and instance.claimed_by == "":
        audit(subject.team_id, None, "export." + instance.status, subject, format=instance.format,
              reason=instance.reason[:300])
