from django.apps import AppConfig


class ArchitecturesConfig(AppConfig):
    name = "webapp.architectures"
    label = "architectures"
    verbose_name = "Architecture library and editor"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from webapp.jobs.kinds import register

        from .evaluation_job import EVALUATION

        register(EVALUATION)  # the runtime runs, recovers and records evaluations from now on
