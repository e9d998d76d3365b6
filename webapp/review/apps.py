from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "webapp.review"
    label = "review"
    verbose_name = "Review"

    def ready(self) -> None:
        from webapp.jobs.kinds import register

        from .ensembles import ENSEMBLE
        from .export_jobs import EXPORT

        from . import signals  # noqa: F401 - team changes into the audit trail

        register(ENSEMBLE)  # the runtime runs, recovers and records ensembles and exports from now on
        register(EXPORT)
