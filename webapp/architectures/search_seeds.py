"""The library as the studio's seed source (webapp.studio.seeding): saved versions, fitted to a
search's data, start a new search's population."""
from __future__ import annotations

from webapp.studio.services import StudioError

from . import jobs
from .models import ArchitectureVersion


class LibrarySeeds:
    def versions_for(self, user):
        return ArchitectureVersion.objects.for_user(user).select_related("architecture").order_by("architecture__name", "-number")

    def label(self, version: ArchitectureVersion) -> str:
        return f"{version} ({version.architecture.family})"

    def seeds_for(self, user, versions, *, team, dataset, family: str, max_params: int, population: int) -> list[dict]:
        if any(v.architecture.team_id != team.pk for v in versions):
            raise StudioError("Seed versions must be of the search's team.", "seed_versions")
        return jobs.seeds_for(user, versions, dataset=dataset, family=family, max_params=max_params, population=population)
