"""Names of the studio's Celery tasks (webapp.studio.tasks). Services look the tasks up by name in the
Celery app's registry: the tasks module imports the services, so importing it back would be a cycle."""
from __future__ import annotations

from celery import current_app
from django.db import transaction

ADVANCE_EXPERIMENT = "studio.advance_experiment"
WATCHDOG = "studio.watchdog"
EVALUATE_CANDIDATE = "studio.evaluate_candidate"


def send_on_commit(name: str, *args, countdown: float | None = None) -> None:
    """Queue the task (JSON arguments; routed by name, see CELERY_TASK_ROUTES) once the transaction commits."""
    def send() -> None:
        task = current_app.tasks[name]  # registered when the app autodiscovers webapp.studio.tasks
        if countdown is None:
            task.delay(*args)
        else:
            task.apply_async(args, countdown=countdown)

    transaction.on_commit(send)
