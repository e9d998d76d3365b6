"""Names of the studio's Celery tasks (webapp.studio.tasks). Services send them by name: the tasks module
imports the services, so importing it back would be a cycle, and the web process never loads it (the
Celery app discovers task modules only in workers)."""
from __future__ import annotations

from celery import current_app
from django.db import transaction

ADVANCE_EXPERIMENT = "studio.advance_experiment"  # candidates run as jobs of webapp.jobs ("jobs.run")


def send(name: str, args: tuple, countdown: float | None = None) -> None:
    """To the broker now (JSON arguments; the default queue)."""
    current_app.send_task(name, args=list(args), countdown=countdown)


def send_on_commit(name: str, *args, countdown: float | None = None) -> None:
    """Once the transaction commits: a worker must find the rows the task reads."""
    transaction.on_commit(lambda: send(name, args, countdown))
