from django.apps import AppConfig


class StudioConfig(AppConfig):
    name = "webapp.studio"
    label = "studio"
    verbose_name = "Studio"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported once the app registry is ready (they use the models): a Django rule, not a cycle.
        from webapp.jobs.kinds import register
        from webapp.teams.sections import add_team_section

        from . import signals  # noqa: F401 - worker start-up recovery, membership changes to sockets
        from .candidate_job import CANDIDATE
        from .preparation_job import PREPARATION
        from .team_section import TEMPLATE, team_limits_context

        add_team_section("studio.limits", TEMPLATE, team_limits_context)
        register(PREPARATION)  # the runtime runs, recovers and records dataset preparations
        register(CANDIDATE)  # ...and a search's candidates
