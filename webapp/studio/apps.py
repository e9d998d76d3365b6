from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "webapp.studio"
    label = "studio"
    verbose_name = "Studio"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from webapp.jobs.kinds import register

        from . import signals  # noqa: F401 - worker start-up recovery, membership changes to sockets
        from .preparation_job import PREPARATION

        register(PREPARATION)  # the runtime runs, recovers and records dataset preparations
