"""Changing a team's members: a role, or a removal. Owners only (the decision's "manage").

A team keeps at least one owner: the last one can neither step down nor be removed.
"""
from __future__ import annotations

from django.db import transaction

from .errors import TeamError
from .events import announce
from .models import Membership, Team
from .roles import OWNER, require

LAST_OWNER = "A team keeps at least one owner: make someone else owner first."


def check_role(role: str, field: str = "role") -> str:
    if role not in Membership.Role.values:
        raise TeamError(f"Role must be one of {', '.join(Membership.Role.values)}.", field=field)
    return role


def set_role(*, team: Team, by, membership: Membership, role: str) -> Membership:
    require(by, "manage", team)
    check_role(role)
    with transaction.atomic():
        Team.objects.select_for_update().get(pk=team.pk)  # one owner change at a time per team
        membership.refresh_from_db()
        if membership.role == OWNER and role != OWNER and owners(team) <= 1:
            raise TeamError(LAST_OWNER, field="role")
        old = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        announce(team.pk, by, "member.role", user=membership.user.username, old=old, new=role)
    return membership


def remove_member(*, team: Team, by, membership: Membership) -> None:
    require(by, "manage", team)
    with transaction.atomic():
        Team.objects.select_for_update().get(pk=team.pk)
        membership.refresh_from_db()
        if membership.role == OWNER and owners(team) <= 1:
            raise TeamError(LAST_OWNER, field="member")
        username = membership.user.username
        membership.delete()
        announce(team.pk, by, "member.removed", user=username)


def owners(team: Team) -> int:
    return Membership.objects.filter(team=team, role=OWNER).count()
