"""What the apps' APIs share: the team a new object goes to, and the studio's errors as API answers."""
from __future__ import annotations

from rest_framework import serializers
from rest_framework.exceptions import APIException, ValidationError

from webapp.teams.models import Team
from .services import StudioError, teams_of


class TeamField(serializers.PrimaryKeyRelatedField):
    """A team of the requesting user (another team "does not exist"); optional when they are in exactly one.

    Whether they may write there is the decision's (webapp.teams.roles): a viewer naming their team gets a 403."""

    def get_queryset(self):
        request = self.context.get("request")
        return teams_of(request.user) if request else Team.objects.none()


class StudioAPIError(APIException):
    """A StudioError with its own status: 409 for a transition its status forbids, 429 for a fair-use limit."""

    def __init__(self, error: StudioError):
        super().__init__({"detail": str(error), "field": error.field})
        self.status_code = error.status


def api_error(error: StudioError, *, problems: dict | None = None) -> APIException:
    """The API's answer to a studio error: a 400 keyed by its field, or its own status (409, 429) naming it."""
    if error.status == 400:
        return ValidationError({error.field or "non_field_errors": [str(error)], **(problems or {})})
    return StudioAPIError(error)
