"""Sections that apps further along the chain add to a team's page.

The team page belongs to this app, which imports no other; an app with something to say about a
team (the studio: its fair-use limits and what the team uses now) registers a section at start-up
(its AppConfig.ready), and the page renders every registered one in order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from .models import Team


@dataclass(frozen=True)
class Section:
    template: str
    context: Callable[[Team, str | None], dict]  # (team, the viewer's role there) -> the template's context


_SECTIONS: dict[str, Section] = {}


def add_team_section(key: str, template: str, context: Callable[[Team, str | None], dict]) -> None:
    """Register (or replace: ``ready`` may run twice in tests) the section called ``key``."""
    _SECTIONS[key] = Section(template, context)


def render_team_sections(request, team: Team, role: str | None) -> list[SafeString]:
    return [render_to_string(s.template, {"team": team, "role": role, **s.context(team, role)}, request)
            for s in _SECTIONS.values()]
