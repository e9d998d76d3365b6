"""Which teams a user belongs to (what they may do there is webapp.teams.roles's decision)."""
from __future__ import annotations

from webapp.teams.models import Team
from webapp.teams.roles import require
from .errors import StudioError


def teams_of(user):
    return Team.objects.filter(memberships__user=user)


def default_team(user) -> Team | None:
    teams = list(teams_of(user)[:2])
    return teams[0] if len(teams) == 1 else None


def team_for(user, team: Team | None, action: str = "change") -> Team:
    """The team a new object goes to (the user's only team when none is named), once the decision
    (webapp.teams.roles) allows ``action`` there: else 403, or 404 for a team that is not theirs."""
    team = team or default_team(user)
    if team is None:
        raise StudioError("You belong to several teams (or none): say which team this is for.", "team")
    require(user, action, team)
    return team
