from django.apps import AppConfig


class ArchitecturesConfig(AppConfig):
    name = "webapp.architectures"
    label = "architectures"
    verbose_name = "Architecture library and editor"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signals  # noqa: F401 - evaluations left by a killed worker are queued again at start
