"""The studio's section of a team's page (webapp.teams.sections): its fair-use limits and what it holds now."""
from __future__ import annotations

from webapp.teams.models import Team

from .services import limits_of, usage_of

TEMPLATE = "studio/_team_limits.html"


def team_limits_context(team: Team, role: str | None) -> dict:
    return {"limits": limits_of(team), "usage": usage_of(team)}
