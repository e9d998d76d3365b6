"""What the apps' APIs share: the team a new object goes to, and the studio's errors as API answers."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from webapp.apikit.bodies import body_object
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


# ---------------------------------------------------------------------- rename and delete
class RenameSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, help_text="the new name (unique in the team for datasets)")


class RemovalSerializer(serializers.Serializer):
    kind = serializers.CharField()
    name = serializers.CharField()
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="what goes with it, e.g. candidates, versions")
    files = serializers.IntegerField(help_text="files removed from the studio's data folder")
    blockers = serializers.ListField(child=serializers.CharField(), help_text="why it cannot be deleted yet (empty: it can)")


class RenameDeleteMixin:
    """PATCH with a new ``name`` and DELETE, through the app's services (which decide the role again, refuse
    with a reason while something depends on the object, write the audit entry and remove the files);
    GET .../removal/ says beforehand what a deletion takes with it and what blocks it.

    A viewset sets ``rename_with(user, obj, name)``, ``delete_with(user, obj)``, ``removal_of(obj)``."""

    renamable = ("name",)

    @extend_schema(request=RenameSerializer, description="Rename it (members and owners; the team's audit trail records it).")
    def partial_update(self, request, *args, **kwargs):
        obj = self.get_object()
        body = body_object(request)
        unknown = sorted(str(k)[:40] for k in body if k not in self.renamable)
        if unknown:
            raise ValidationError({key: [f"Only {' and '.join(self.renamable)} can be changed here."] for key in unknown})
        form = self.rename_serializer(data=body)
        form.is_valid(raise_exception=True)
        try:
            self.rename_with(request.user, obj, **form.validated_data)
        except StudioError as error:
            raise api_error(error) from None
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data)

    @extend_schema(responses=RemovalSerializer, description="Delete it with what belongs to it and its files (members and "
                                                            "owners); answers what went. 409 naming what still depends on it.")
    def destroy(self, request, *args, **kwargs):
        obj = self.get_object()
        try:
            removal = self.delete_with(request.user, obj)
        except StudioError as error:
            raise api_error(error) from None
        return Response(removal.to_dict())  # what went (a JSON answer, as every answer of the API)

    @extend_schema(responses=RemovalSerializer)
    @action(detail=True, methods=["get"])
    def removal(self, request, pk=None):
        """What deleting it would take with it (counts, files) and what blocks it now."""
        return Response(self.removal_of(self.get_object()).to_dict())

    rename_serializer = RenameSerializer
