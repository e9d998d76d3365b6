"""The review app's one link to the channel layer: audit entries go to ``team.<id>`` after commit.

Best effort like the studio's progress events: the activity feed page reads the stored audit
trail first and then listens, so a lost message costs nothing but liveness."""
from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger("webapp.review.activity")


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


def entry_message(entry) -> dict:
    return {"kind": "activity", "id": entry.pk, "action": entry.action, "detail": entry.detail,
            "actor": entry.actor.username if entry.actor_id else None, "subject": entry.subject_id,
            "created": entry.created.isoformat()}


def publish_on_commit(entry) -> None:
    message = entry_message(entry)
    transaction.on_commit(lambda: publish(entry.team_id, message))


def publish(team_id: int, message: dict) -> bool:
    try:
        async_to_sync(get_channel_layer().group_send)(team_group(team_id), {"type": "team.activity", "message": message})
        return True
    except Exception as error:  # noqa: BLE001 - the feed catches up from the stored trail
        log.warning("could not publish activity %s of team %s: %s", message.get("id"), team_id, error)
        return False
