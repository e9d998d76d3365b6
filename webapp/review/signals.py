"""Every change to a team's members or invitations (webapp.teams.events) goes into the team's audit trail."""
from __future__ import annotations

from django.dispatch import receiver

from webapp.teams.events import team_changed

from .services import audit


@receiver(team_changed, dispatch_uid="review.audit_team_change")
def audit_team_change(sender, *, team_id: int, actor, action: str, detail: dict, **kwargs) -> None:
    """Sent inside the change's transaction: the entry commits (or not) with it."""
    audit(team_id, actor, action, **detail)
