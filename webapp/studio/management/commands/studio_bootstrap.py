"""First run: an administrator account and a team, so the studio can be used at once."""
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from webapp.teams.models import Membership, Team


class Command(BaseCommand):
    help = "Create the first administrator (and a team) when there is no user yet; print how to log in."

    def add_arguments(self, parser):
        parser.add_argument("--username", default=os.environ.get("STUDIO_ADMIN_USER", "admin"))
        parser.add_argument("--team", default="Studio")

    def handle(self, *args, username, team, **options):
        users = get_user_model()
        credentials = Path(settings.VAR_DIR) / "admin-credentials.txt"
        if users.objects.exists():
            where = f" (the first account's password is in {credentials})" if credentials.exists() else ""
            self.stdout.write(f"Log in with your account{where}.")
            return
        password = os.environ.get("STUDIO_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        with transaction.atomic():
            admin = users.objects.create_superuser(username, email="", password=password)
            first_team, _ = Team.objects.get_or_create(name=team)
            Membership.objects.create(user=admin, team=first_team, role=Membership.Role.OWNER)
        credentials.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(credentials, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"username: {username}\npassword: {password}\n")
        # The password is never printed: terminals and CI logs keep what they show.
        self.stdout.write(f"Created the first account {username!r} in team {team!r}; its password is in {credentials} "
                          f"(readable by you only).")
