"""The studio's Django project. The Celery app loads with it so `shared_task`s bind to it."""
from .celery import app as celery_app

__all__ = ["celery_app"]
