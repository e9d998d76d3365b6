"""Audit entries of a team go to its activity feed (``team.<id>``) after commit.

Best effort like the studio's progress events: the activity feed page reads the stored audit
trail first and then listens, so a lost message costs nothing but liveness."""
from __future__ import annotations

from webapp.jobs.publisher import TeamActivity, send_on_commit


def entry_message(entry) -> dict:
    return {"kind": "activity", "id": entry.pk, "action": entry.action, "detail": entry.detail,
            "actor": entry.actor.username if entry.actor_id else None, "subject": entry.subject_id,
            "created": entry.created.isoformat()}


def publish_on_commit(entry) -> None:
    send_on_commit(TeamActivity(entry.team_id, entry_message(entry)))
