from django.apps import AppConfig


class ArchitecturesConfig(AppConfig):
    name = "webapp.architectures"
    label = "architectures"
    verbose_name = "Architecture library and editor"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported once the app registry is ready (they use the models): a Django rule, not a cycle.
        from webapp.jobs.kinds import register
        from webapp.studio.seeding import register_seed_source

        from .evaluation_job import EVALUATION
        from .search_seeds import LibrarySeeds

        register(EVALUATION)  # the runtime runs, recovers and records evaluations from now on
        register_seed_source(LibrarySeeds())  # the studio's launches offer saved versions as seeds
