"""Team roles, checked in one place: a DRF permission class for the API, a decorator for pages.

owner > member > viewer. Reading needs any role in the object's team (the querysets' ``for_user``
already hides other teams' objects, so an outsider sees a 404, never a 403). Changing anything
needs member, unless the view lists the action in ``viewer_actions`` (commenting); managing
members needs owner. A viewer who tries to change something gets a 403 that says why.
"""
from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from webapp.studio.models import Membership, Team

VIEWER, MEMBER, OWNER = Membership.Role.VIEWER, Membership.Role.MEMBER, Membership.Role.OWNER
RANK = {VIEWER: 1, MEMBER: 2, OWNER: 3}
READ_ONLY_MESSAGE = "Viewers read and comment only: ask a team owner for the member role to change this."


def role_of(user, team_id: int | None) -> str | None:
    if team_id is None or not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(user=user, team_id=team_id).values_list("role", flat=True).first()


def has_role(user, team_id: int | None, minimum: str) -> bool:
    return RANK.get(role_of(user, team_id), 0) >= RANK[minimum]


def teams_with_role(user, minimum: str = MEMBER):
    """The user's teams where they hold at least ``minimum`` (what a write form may offer)."""
    if not getattr(user, "is_authenticated", False):
        return Team.objects.none()
    roles = [role for role, rank in RANK.items() if rank >= RANK[minimum]]
    return Team.objects.filter(memberships__user=user, memberships__role__in=roles)


def writable_teams(user):
    return teams_with_role(user, MEMBER)


def teams_for_request(request):
    """Teams a serializer's team field may take: every team to read, member teams to write."""
    if request.method in SAFE_METHODS:
        return Team.objects.filter(memberships__user=request.user)
    return writable_teams(request.user)


def team_id_of(obj) -> int | None:
    """The team an object belongs to (directly, or through its experiment, architecture or subject)."""
    for path in ("team_id", "experiment.team_id", "architecture.team_id", "subject.team_id"):
        value = obj
        try:
            for part in path.split("."):
                value = getattr(value, part)
        except AttributeError:
            continue
        if value is not None:
            return value
    return None


def _viewer_may(view) -> bool:
    allowed = getattr(view, "viewer_actions", ())
    return "*" in allowed or getattr(view, "action", None) in allowed


def _minimum(view) -> str:
    return getattr(view, "role_for_action", {}).get(getattr(view, "action", None), MEMBER)


class TeamRolePermission(BasePermission):
    """The project's default API permission (settings.REST_FRAMEWORK)."""

    message = READ_ONLY_MESSAGE

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS or _viewer_may(view):
            return True
        return teams_with_role(user, _minimum(view)).exists()

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS or _viewer_may(view):
            return True
        return has_role(request.user, team_id_of(obj), _minimum(view))


def role_required(minimum: str = MEMBER, *, methods=("POST", "PUT", "PATCH", "DELETE"), team=None):
    """A page decorator: ``methods`` need ``minimum`` in the object's team (``team(request, **kwargs)``
    gives its id, or None to let the view answer 404), else in at least one of the user's teams."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods and request.user.is_authenticated:
                if team is not None:
                    team_id = team(request, **kwargs)
                    if team_id is not None and not has_role(request.user, team_id, minimum):
                        raise PermissionDenied(READ_ONLY_MESSAGE)
                elif not teams_with_role(request.user, minimum).exists():
                    raise PermissionDenied(READ_ONLY_MESSAGE)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def team_of_model(queryset_for_user):
    """``team=`` for role_required: the team of ``pk`` among the user's objects (None when not theirs)."""

    def find(request, pk=None, **kwargs):
        obj = queryset_for_user(request.user).filter(pk=pk).first() if pk is not None else None
        return team_id_of(obj) if obj is not None else None

    return find
