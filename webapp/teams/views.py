"""Team pages: a user's teams, a team (members, roles, invitations) and joining through an invitation."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from . import invitations, members
from .errors import TeamError
from .forms import InvitationForm, MemberForm, RevokeForm, RoleForm, SignUpForm
from .models import Invitation, Membership, Team
from .roles import OWNER, require, role_of
from .sections import render_team_sections


@login_required
@require_safe
def teams(request):
    memberships = Membership.objects.filter(user=request.user).select_related("team").order_by("team__name")
    if len(memberships) == 1:
        return redirect("team-detail", memberships[0].team_id)
    return render(request, "teams/teams.html", {"memberships": memberships})


@login_required
@require_http_methods(["GET", "POST"])
def team_detail(request, pk: int):
    team = get_object_or_404(Team.objects.filter(memberships__user=request.user), pk=pk)
    role = role_of(request.user, team.pk)
    invite_form = InvitationForm(prefix="invite")
    status = 200
    if request.method == "POST":
        require(request.user, "manage", team)  # owners only (403), before any form is read
        status = _team_change(request, team, invite_form)
        if status == 302:
            return redirect("team-detail", team.pk)
        invite_form = InvitationForm(request.POST, prefix="invite") if request.POST.get("action") == "invite" else invite_form
    return render(request, "teams/team.html", {
        "team": team, "role": role, "is_owner": role == OWNER,
        "memberships": team.memberships.select_related("user").order_by("user__username"),
        "roles": Membership.Role.choices,
        "invitations": team.invitations.select_related("created_by", "used_by")[:100] if role == OWNER else [],
        "invite_form": invite_form,
        "sections": render_team_sections(request, team, role),
    }, status=status)


def _team_change(request, team: Team, invite_form) -> int:
    """Apply one owner action; 302 when done, 400 with a message when refused."""
    action = request.POST.get("action")
    try:
        if action == "invite":
            form = InvitationForm(request.POST, prefix="invite")
            if not form.is_valid():
                return 400
            _, token = invitations.create_invitation(team=team, by=request.user, role=form.cleaned_data["role"],
                                                  days=form.cleaned_data["days"], note=form.cleaned_data["note"])
            link = request.build_absolute_uri(reverse("invitation", args=[token]))
            messages.success(request, f"Invitation link (shown once, works once): {link}", extra_tags="invitation-link")
            return 302
        if action in ("role", "remove"):
            form = (RoleForm if action == "role" else MemberForm)(request.POST)
            if not form.is_valid():
                messages.error(request, "Pick a member" + (" and a role." if action == "role" else "."))
                return 400
            membership = get_object_or_404(Membership, pk=form.cleaned_data["membership"], team=team)
            if action == "role":
                members.set_role(team=team, by=request.user, membership=membership, role=form.cleaned_data["role"])
            else:
                members.remove_member(team=team, by=request.user, membership=membership)
            return 302
        if action == "revoke":
            form = RevokeForm(request.POST)
            if not form.is_valid():
                return 400
            invitations.revoke_invitation(get_object_or_404(Invitation, pk=form.cleaned_data["invitation"], team=team), request.user)
            return 302
    except TeamError as error:
        messages.error(request, str(error))
        return 400
    messages.error(request, "Unknown action.")
    return 400


@require_http_methods(["GET", "POST"])
def invitation(request, token: str):
    """Join a team: a signed-in user presses Join; a new user picks a username and password."""
    found = invitations.find_invitation(token)
    problem = "No such invitation: check the link." if found is None else found.problem()
    form = SignUpForm(request.POST or None) if not request.user.is_authenticated else None
    status = 200
    if problem:
        return render(request, "teams/invitation.html", {"problem": problem}, status=404 if found is None else 410)
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                invitations.accept_invitation(token, request.user)
            elif form.is_valid():
                user = invitations.sign_up_with_invitation(token, username=form.cleaned_data["username"],
                                                        password=form.cleaned_data["password1"])
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                status = 400
            if status == 200:
                messages.success(request, f"Welcome to {found.team.name}.")
                return redirect("team-detail", found.team_id)
        except TeamError as error:
            if form is not None and error.field in form.fields:
                form.add_error(error.field, str(error))
            else:
                messages.error(request, str(error))
            status = 400
    return render(request, "teams/invitation.html", {"invitation": found, "form": form}, status=status)
