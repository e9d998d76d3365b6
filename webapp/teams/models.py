"""Teams, memberships with a role, and invitations.

The tables keep the names they had when these models lived in the studio and review apps
(``db_table``): moving the code moved no data (migrations 0001 here, studio 0006, review 0003).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="teams")
    # Fair use of the workers (webapp.studio.services.limits), set by the site's admin; empty: the site's default.
    max_steps = models.PositiveIntegerField(null=True, blank=True, help_text="Most steps one training may ask for")
    max_batch_size = models.PositiveIntegerField(null=True, blank=True, help_text="Largest batch one training may ask for")
    max_queued_trainings = models.PositiveIntegerField(null=True, blank=True,
                                                       help_text="Most trainings queued or running at once on the train queue")

    class Meta:
        db_table = "studio_team"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"
        VIEWER = "viewer", "Viewer"  # reads and comments only (webapp.teams.roles)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "studio_membership"
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="one_membership_per_team")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class TeamScopedQuerySet(models.QuerySet):
    """Everything a user sees goes through ``for_user``: rows of the teams they belong to."""

    team_path = "team"

    def for_user(self, user) -> "TeamScopedQuerySet":
        if not user.is_authenticated:
            return self.none()
        return self.filter(**{f"{self.team_path}__memberships__user": user})


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(models.Model):
    """A single-use, expiring link that adds one person to one team with one role.

    Only the token's digest is stored: the link is shown once, to the owner who made it."""

    DEFAULT_LIFETIME = timedelta(days=7)

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    digest = models.CharField(max_length=64, unique=True)
    note = models.CharField(max_length=200, blank=True, help_text="who it is for, as a reminder")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField()
    used_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        db_table = "review_invitation"
        ordering = ["-created"]

    @classmethod
    def new_token(cls) -> tuple[str, str]:
        token = secrets.token_urlsafe(32)
        return token, token_digest(token)

    def problem(self, now=None) -> str:
        """Why it cannot be used now, or ''."""
        if self.revoked:
            return "This invitation was withdrawn by the team's owner."
        if self.used_at is not None:
            return "This invitation has already been used (each link works once)."
        if (now or timezone.now()) >= self.expires:
            return "This invitation has expired: ask the team's owner for a new link."
        return ""
