"""The one place that talks to the channel layer.

Events are stored first, with the experiment's next sequence number (the caller holds the
experiment's row lock), and published to the group ``experiment.<id>`` only after the
transaction commits: a browser never hears of a ``seq`` it cannot read back. Publishing is
best effort (channel layers deliver at most once); clients fill gaps by replaying from the
database, so a failed publish loses nothing.
"""
from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from .models import Event, Experiment

log = logging.getLogger("webapp.studio.progress")


def group_name(experiment_id: int) -> str:
    return f"experiment.{experiment_id}"


def record_event(experiment: Experiment, type: str, payload: dict[str, Any]) -> Event:
    """Store an event of ``experiment`` (row-locked by the caller) and publish it on commit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event needs the experiment's row lock: call it inside transaction.atomic()")
    experiment.last_seq += 1
    Experiment.objects.filter(pk=experiment.pk).update(last_seq=experiment.last_seq)
    event = Event.objects.create(experiment_id=experiment.pk, seq=experiment.last_seq, type=type, payload=payload,
                                 created=timezone.now())
    message = event.message()
    transaction.on_commit(lambda: publish(experiment.pk, message))
    return event


def publish(experiment_id: int, message: dict[str, Any]) -> bool:
    """Send one stored event to the experiment's viewers; never raises."""
    try:
        layer = get_channel_layer()
        async_to_sync(layer.group_send)(group_name(experiment_id), {"type": "experiment.event", "seq": message["seq"], "event": message})
        return True
    except Exception as error:  # noqa: BLE001 - viewers catch up by replay; the search must go on
        log.warning("could not publish event %s of experiment %s: %s", message.get("seq"), experiment_id, error)
        return False
