from django.apps import AppConfig


class ArchitecturesConfig(AppConfig):
    name = "webapp.architectures"
    label = "architectures"
    verbose_name = "Architecture library and editor"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported once the app registry is ready (they use the models): a Django rule, not a cycle.
        from webapp.studio.seeding import register_seed_source

        from . import signals  # noqa: F401 - evaluations left by a killed worker are queued again at start
        from .search_seeds import LibrarySeeds

        register_seed_source(LibrarySeeds())  # the studio's launches offer saved versions as seeds
