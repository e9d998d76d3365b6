"""Worker life cycle: resume work after a (re)start, stop training quickly on shutdown. And the
sockets of a user whose membership changed are told to decide again (webapp.studio.sockets)."""
from __future__ import annotations

import logging

from celery import signals
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from webapp.teams.models import Membership

from . import services
from .services import workers
from .shutdown import worker_shutting_down
from .sockets import publish_membership_change

log = logging.getLogger("webapp.studio")

__all__ = ["worker_shutting_down"]  # its old home: webapp.studio.shutdown now


@signals.worker_ready.connect
def resume_after_start(sender=None, **kwargs) -> None:
    name = getattr(sender, "hostname", None)
    try:
        ids = services.recover(name)
    except Exception:  # noqa: BLE001 - a worker without recovery still serves its queues
        log.exception("recovery at worker start failed")
        return
    if ids:
        log.info("worker %s: resuming experiments %s", name, ids)


@signals.worker_ready.connect
def report_for_duty(sender=None, **kwargs) -> None:
    """Start the record the workers page reads (device, busy or idle, what it trains)."""
    name = getattr(sender, "hostname", None) or "worker"
    try:
        workers.start_beacon(name, _queues(sender))
    except Exception:  # noqa: BLE001 - a worker nobody lists still trains
        log.exception("worker %s: its record for the workers page is not written", name)


def _queues(consumer) -> list[str]:
    try:
        return [queue.name for queue in consumer.task_consumer.queues]
    except Exception:  # noqa: BLE001
        return sorted(getattr(getattr(getattr(consumer, "app", None), "amqp", None), "queues", {}) or [])


@signals.worker_shutting_down.connect
def note_shutdown(**kwargs) -> None:
    worker_shutting_down.set()


@signals.worker_shutdown.connect
def leave_the_list(**kwargs) -> None:
    workers.stop_beacon()


@receiver(post_save, sender=Membership, dispatch_uid="studio.membership_saved")
@receiver(post_delete, sender=Membership, dispatch_uid="studio.membership_deleted")
def membership_changed(sender, instance: Membership, **kwargs) -> None:
    """Any path that changes a membership (the team page, the admin, a deleted team or user) reaches
    the user's open sockets after it commits."""
    publish_membership_change(instance.user_id, instance.team_id)
