"""Stored events of a search.

Events are stored first, with the experiment's next sequence number (the caller holds the
experiment's row lock), and published to the group ``experiment.<id>`` only after the
transaction commits: a browser never hears of a ``seq`` it cannot read back. Publishing goes
through webapp.jobs.publisher and is best effort (channel layers deliver at most once); clients
fill gaps by replaying from the database, so a failed publish loses nothing.
"""
from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from webapp.jobs.publisher import ExperimentEvent, send

from .models import Event, Experiment


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
    """Send one stored event to the experiment's viewers; never raises (viewers catch up by replay)."""
    return send(ExperimentEvent(experiment_id, message["seq"], message))
