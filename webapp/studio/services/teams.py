"""Which teams a user belongs to."""
from __future__ import annotations

from ..models import Membership, Team


def teams_of(user):
    return Team.objects.filter(memberships__user=user)


def is_member(user, team_id: int) -> bool:
    return user.is_authenticated and Membership.objects.filter(user=user, team_id=team_id).exists()


def default_team(user) -> Team | None:
    teams = list(teams_of(user)[:2])
    return teams[0] if len(teams) == 1 else None


