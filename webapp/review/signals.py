"""At a worker's (re)start, exports it (or a dead worker) left running are queued again. And every
change to a team's members or invitations (webapp.teams.events) goes into the team's audit trail."""
from __future__ import annotations

import logging

from celery import signals
from django.dispatch import receiver

from webapp.teams.events import team_changed

from .export_jobs import recover_exports
from .services import audit

log = logging.getLogger("webapp.review")


@signals.worker_ready.connect
def recover_exports_at_start(sender=None, **kwargs) -> None:
    try:
        ids = recover_exports(getattr(sender, "hostname", None))
    except Exception:  # noqa: BLE001 - a worker without recovery still serves its queues
        log.exception("export recovery at worker start failed")
        return
    if ids:
        log.info("exports queued again: %s", ids)


@receiver(team_changed, dispatch_uid="review.audit_team_change")
def audit_team_change(sender, *, team_id: int, actor, action: str, detail: dict, **kwargs) -> None:
    """Sent inside the change's transaction: the entry commits (or not) with it."""
    audit(team_id, actor, action, **detail)
