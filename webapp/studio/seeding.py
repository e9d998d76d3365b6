"""Seeding a new search with saved architectures, which the library (webapp.architectures) owns.

The library sits to the studio's right in the apps' chain, so the studio cannot import it: it
registers a ``SeedSource`` here at start-up (ArchitecturesConfig.ready). The launch form and the
API ask this module; without a registered source a search simply starts unseeded.
"""
from __future__ import annotations

from typing import Protocol

from django.db.models import QuerySet

from webapp.teams.models import Team

from .models import Dataset
from .services import StudioError


class SeedSource(Protocol):
    def versions_for(self, user) -> QuerySet:
        """The saved versions ``user`` may seed a search with (their teams')."""

    def label(self, version) -> str:
        """How a form lists a version."""

    def seeds_for(self, user, versions: list, *, team: Team, dataset: Dataset, family: str, max_params: int,
                  population: int) -> list[dict]:
        """SearchConfig.seeds for a new search of ``team`` (StudioError naming seed_versions when one does not fit)."""


_source: SeedSource | None = None


def register_seed_source(source: SeedSource) -> None:
    global _source
    _source = source


def seed_source() -> SeedSource | None:
    return _source


def seeds_for(user, versions: list, *, team: Team, dataset: Dataset, config) -> list[dict]:
    """The seeds ``config`` (a SearchConfig) starts from, checked by the registered source."""
    if _source is None:
        raise StudioError("Seeding with saved versions needs the architecture library, which is not installed.", "seed_versions")
    return _source.seeds_for(user, versions, team=team, dataset=dataset, family=config.family, max_params=config.max_params,
                             population=config.population)
