from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "webapp.review"
    label = "review"
    verbose_name = "Review"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - worker start-up recovery of exports
