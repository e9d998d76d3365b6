"""Invitations: an owner makes a single-use, expiring link; whoever holds it joins the team with
its role, signing up first when they have no account."""
from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from .accounts import confusable_with, normalize_username
from .errors import TeamError
from .events import announce
from .members import check_role
from .models import Invitation, Membership, Team, token_digest
from .roles import require

MAX_INVITATION_DAYS = 30


def create_invitation(*, team: Team, by, role: str = Membership.Role.MEMBER, days: int = 7, note: str = "") -> tuple[Invitation, str]:
    """The invitation and its token (the link's secret: only its digest is stored)."""
    require(by, "manage", team)
    check_role(role)
    if not 1 <= days <= MAX_INVITATION_DAYS:
        raise TeamError(f"An invitation lasts from 1 to {MAX_INVITATION_DAYS} days.", field="days")
    token, digest = Invitation.new_token()
    with transaction.atomic():
        invitation = Invitation.objects.create(team=team, role=role, digest=digest, note=note[:200], created_by=by,
                                               expires=timezone.now() + timedelta(days=days))
        announce(team.pk, by, "invitation.created", role=role, invitation=invitation.pk, note=invitation.note)
    return invitation, token


def find_invitation(token: str) -> Invitation | None:
    if not token or len(token) > 100:
        return None
    return Invitation.objects.select_related("team").filter(digest=token_digest(token)).first()


def accept_invitation(token: str, user) -> Membership:
    """Join the invitation's team; the link is spent, even when two requests race for it."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(digest=token_digest(token or "")).first()
        if invitation is None:
            raise TeamError("No such invitation.", field="token")
        problem = invitation.problem()
        if problem:
            raise TeamError(problem, field="token")
        if Membership.objects.filter(team_id=invitation.team_id, user=user).exists():
            raise TeamError(f"You are already in {invitation.team.name}.", field="token")
        membership = Membership.objects.create(team_id=invitation.team_id, user=user, role=invitation.role)
        invitation.used_by, invitation.used_at = user, timezone.now()
        invitation.save(update_fields=["used_by", "used_at"])
        announce(invitation.team_id, user, "member.joined", user=user.username, role=invitation.role, invitation=invitation.pk)
    return membership


def sign_up_with_invitation(token: str, *, username: str, password: str):
    """A new account and its membership, or neither. The username is NFKC-normalised and must not pass for an
    existing one; the password must pass the site's validators (settings.AUTH_PASSWORD_VALIDATORS)."""
    username = normalize_username(username)
    if not username or "\x00" in username or confusable_with(username):
        raise TeamError("That username is taken, or looks too much like one that is: choose another.", field="username")
    try:
        password_validation.validate_password(password, get_user_model()(username=username))
    except DjangoValidationError as error:
        raise TeamError(" ".join(error.messages), field="password2") from None
    with transaction.atomic():
        try:
            user = get_user_model().objects.create_user(username=username, password=password)
        except IntegrityError:
            raise TeamError("That username is taken.", field="username") from None
        accept_invitation(token, user)
    return user


def revoke_invitation(invitation: Invitation, by) -> None:
    require(by, "manage", invitation)
    with transaction.atomic():
        Invitation.objects.filter(pk=invitation.pk).update(revoked=True)
        announce(invitation.team_id, by, "invitation.revoked", invitation=invitation.pk)
