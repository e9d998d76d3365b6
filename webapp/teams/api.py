"""The team API: a team's members with their roles, changing a role, removing a member, and
invitations (list, create, withdraw), under /api/teams/<id>/.

The decision (webapp.teams.roles) answers first, on the team in the URL: anyone in the team reads
its members; only an owner changes them or sees and makes invitations (members and viewers 403);
someone outside the team gets 404, as for a team that does not exist. A mistake is a 400 keyed by
the field at fault (``role``, ``days``, ``member``...), the last owner included: a team keeps one.
"""
from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.apikit.bodies import body_object

from . import invitations, members
from .errors import TeamError
from .models import Invitation, Membership, Team
from .roles import require

ID_MAX = 2**62  # a larger id in a URL matches nothing (and stays within what the database compares)


# ---------------------------------------------------------------------- serializers
class MemberSerializer(serializers.ModelSerializer):
    user = serializers.IntegerField(source="user_id", read_only=True, help_text="the user's id (the member's URL)")
    username = serializers.CharField(source="user.username", read_only=True)
    joined = serializers.DateTimeField(source="created", read_only=True)

    class Meta:
        model = Membership
        fields = ["user", "username", "role", "joined"]
        read_only_fields = fields


class RoleChangeSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices, help_text="owner, member or viewer")


class InvitationSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)
    used_by = serializers.CharField(source="used_by.username", read_only=True, default=None)
    state = serializers.SerializerMethodField(help_text="open, used, withdrawn or expired")

    class Meta:
        model = Invitation
        fields = ["id", "role", "note", "created_by", "created", "expires", "state", "used_by", "used_at"]
        read_only_fields = fields

    def get_state(self, invitation) -> str:
        if invitation.used_at is not None:
            return "used"
        if invitation.revoked:
            return "withdrawn"
        return "expired" if invitation.problem() else "open"


class NewInvitationSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    days = serializers.IntegerField(min_value=1, max_value=invitations.MAX_INVITATION_DAYS, default=7,
                                    help_text="how long the link works")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                 help_text="who it is for (a reminder for the owners)")


class CreatedInvitationSerializer(InvitationSerializer):
    token = serializers.CharField(read_only=True, help_text="the link's secret: shown this once, never stored")
    link = serializers.CharField(read_only=True, help_text="the page that joins the team (single use)")

    class Meta(InvitationSerializer.Meta):
        fields = InvitationSerializer.Meta.fields + ["token", "link"]
        read_only_fields = fields


# ---------------------------------------------------------------------- views
def team_in_url(request, pk: int, action: str) -> Team:
    """The team in the URL once the decision allows ``action`` there: 404 outside it, 403 for a role too low."""
    team = Team.objects.filter(pk=min(pk, ID_MAX)).first()
    if team is None:
        raise Http404("No such team.")
    require(request.user, action, team)
    return team


def members_of(team: Team):
    return team.memberships.select_related("user").order_by("user__username")


def refused(error: TeamError) -> ValidationError:
    return ValidationError({error.field or "non_field_errors": [str(error)]})


class MembersView(APIView):
    @extend_schema(responses=MemberSerializer(many=True))
    def get(self, request, pk: int):
        """The team's members with their roles (anyone in the team may read them)."""
        team = team_in_url(request, pk, "read")
        return Response(MemberSerializer(members_of(team), many=True).data)


class MemberView(APIView):
    role_actions = {"PATCH": "manage", "DELETE": "manage"}

    def membership(self, request, pk: int, user: int) -> tuple[Team, Membership]:
        team = team_in_url(request, pk, "manage")
        membership = Membership.objects.select_related("user").filter(team=team, user_id=min(user, ID_MAX)).first()
        if membership is None:
            raise Http404("No such member of this team.")
        return team, membership

    @extend_schema(request=RoleChangeSerializer, responses=MemberSerializer)
    def patch(self, request, pk: int, user: int):
        """Change a member's role (owners only; the last owner cannot step down)."""
        team, membership = self.membership(request, pk, user)
        form = RoleChangeSerializer(data=body_object(request))
        form.is_valid(raise_exception=True)
        try:
            membership = members.set_role(team=team, by=request.user, membership=membership, role=form.validated_data["role"])
        except TeamError as error:
            raise refused(error) from None
        return Response(MemberSerializer(membership).data)

    @extend_schema(request=None, responses=MemberSerializer(many=True))
    def delete(self, request, pk: int, user: int):
        """Remove a member from the team (owners only; the last owner cannot be removed). Answers the members left."""
        team, membership = self.membership(request, pk, user)
        try:
            members.remove_member(team=team, by=request.user, membership=membership)
        except TeamError as error:
            raise refused(error) from None
        return Response(MemberSerializer(members_of(team), many=True).data)


class InvitationsView(APIView):
    role_actions = {"GET": "manage", "POST": "manage"}

    @extend_schema(responses=InvitationSerializer(many=True))
    def get(self, request, pk: int):
        """The team's invitations, newest first (owners only)."""
        team = team_in_url(request, pk, "manage")
        rows = team.invitations.select_related("created_by", "used_by")[:100]
        return Response(InvitationSerializer(rows, many=True).data)

    @extend_schema(request=NewInvitationSerializer, responses={201: CreatedInvitationSerializer})
    def post(self, request, pk: int):
        """Invite someone: a single-use link that expires, with the role it gives (owners only).
        The token is in this answer only."""
        team = team_in_url(request, pk, "manage")
        form = NewInvitationSerializer(data=body_object(request))
        form.is_valid(raise_exception=True)
        try:
            invitation, token = invitations.create_invitation(team=team, by=request.user, **form.validated_data)
        except TeamError as error:
            raise refused(error) from None
        data = InvitationSerializer(invitation).data
        data.update(token=token, link=request.build_absolute_uri(reverse("invitation", args=[token])))
        return Response(data, status=status.HTTP_201_CREATED)


class InvitationView(APIView):
    role_actions = {"DELETE": "manage"}

    @extend_schema(request=None, responses=InvitationSerializer)
    def delete(self, request, pk: int, invitation: int):
        """Withdraw an invitation: its link stops working (owners only). Answers it, withdrawn (kept for the record)."""
        team = team_in_url(request, pk, "manage")
        found = team.invitations.filter(pk=min(invitation, ID_MAX)).first()
        if found is None:
            raise Http404("No such invitation of this team.")
        invitations.revoke_invitation(found, request.user)
        found.refresh_from_db()
        return Response(InvitationSerializer(found).data)
