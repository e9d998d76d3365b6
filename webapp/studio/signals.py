"""Worker life cycle of searches: resume them after a (re)start, and show every job on the workers
page (a shutdown stops training through webapp.jobs' one flag, set by webapp.jobs.signals). And the
sockets of a user whose membership changed are told to decide again (webapp.studio.sockets)."""
from __future__ import annotations

import logging

from celery import signals
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from webapp.jobs.kinds import Shown
from webapp.jobs.shown import show_running_with

from webapp.teams.models import Membership

from . import services
from .services import workers
from .sockets import publish_membership_change

log = logging.getLogger("webapp.studio")


@signals.worker_ready.connect
def resume_after_start(sender=None, **kwargs) -> None:
    name = getattr(sender, "hostname", None)
    try:
        ids = services.recover()
    except Exception:  # a worker without recovery still serves its queues
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
    except Exception:  # a worker nobody lists still trains
        log.exception("worker %s: its record for the workers page is not written", name)


def _queues(consumer) -> list[str]:
    try:
        return [queue.name for queue in consumer.task_consumer.queues]
    except Exception:  # noqa: BLE001
        return sorted(getattr(getattr(getattr(consumer, "app", None), "amqp", None), "queues", {}) or [])


def _on_the_workers_page(kind: str, job_id: int, shown: Shown):
    return workers.training(kind, job_id, team=shown.team_id, label=shown.title, url=shown.url)


show_running_with(_on_the_workers_page)  # every job of webapp.jobs shows on the workers page while it runs


@signals.worker_shutdown.connect
def leave_the_list(**kwargs) -> None:
    workers.stop_beacon()


@receiver(post_save, sender=Membership, dispatch_uid="studio.membership_saved")
@receiver(post_delete, sender=Membership, dispatch_uid="studio.membership_deleted")
def membership_changed(sender, instance: Membership, **kwargs) -> None:
    """Any path that changes a membership (the team page, the admin, a deleted team or user) reaches
    the user's open sockets after it commits."""
    publish_membership_change(instance.user_id, instance.team_id)
