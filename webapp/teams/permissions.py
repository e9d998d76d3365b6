"""The decision's adapters: the API's default permission class and a decorator for pages.

Both only ask ``webapp.teams.roles.decide`` (or its "where may this user do it at all" form).
"""
from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .roles import ACTIONS, MESSAGES, READ_ONLY_MESSAGE, VIEWER, decide, decide_anywhere, teams_where


# ---------------------------------------------------------------------- the API's adapter
def action_of(request, view) -> str:
    """The decision's action for a request to a DRF view: ``view.role_actions`` maps the viewset action
    (``create``, ``inject``...) or the HTTP method to it; otherwise reads are "read", writes "change"."""
    actions = getattr(view, "role_actions", {})
    for key in (getattr(view, "action", None), request.method):
        if key in actions:
            return actions[key]
    return "read" if request.method in SAFE_METHODS else "change"


class TeamRolePermission(BasePermission):
    """The project's default API permission (settings.REST_FRAMEWORK).

    Without an object (a create, a list) a write needs the action's role in at least one team, a
    quick refusal for someone who may do it nowhere; the object's team is then decided by the
    service that writes (``require``) or by ``has_object_permission`` for objects in the URL."""

    message = READ_ONLY_MESSAGE

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if not _has_handler(request, view):
            return True  # let the view answer 405
        action = action_of(request, view)
        if ACTIONS[action] == VIEWER:
            return True
        self.message = MESSAGES[ACTIONS[action]]
        return teams_where(user, action).exists()

    def has_object_permission(self, request, view, obj) -> bool:
        decision = decide(request.user, action_of(request, view), obj)
        if decision.status == 404:
            raise Http404(decision.reason)
        self.message = decision.reason or self.message
        return decision.allowed


def _has_handler(request, view) -> bool:
    method = request.method.lower()
    return method in getattr(view, "http_method_names", ()) and hasattr(view, method)


# ---------------------------------------------------------------------- the pages' adapter
def role_required(action: str = "change", *, methods=("POST", "PUT", "PATCH", "DELETE")):
    """A page decorator for pages without an object in the URL (forms that create something):
    ``methods`` need the action's role in at least one team. The team the form names is then
    decided by the service that writes (``require``)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods and request.user.is_authenticated and not decide_anywhere(request.user, action):
                raise PermissionDenied(MESSAGES[ACTIONS[action]])
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
