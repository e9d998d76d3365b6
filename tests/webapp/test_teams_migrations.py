"""Moving Team, Membership (from studio) and Invitation (from review) to the teams app moved no data:
the models match their migrations, and a database made with the old layout keeps every row (and
every foreign key to a team) when it migrates forward."""
from __future__ import annotations

import pytest

OLD_LAYOUT = [("studio", "0005_team_limits"), ("review", "0002_exports_and_thread_fates"), ("architectures", "0002_evaluation"),
              ("teams", None)]


@pytest.mark.django_db
def test_the_models_match_their_migrations():
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)  # SystemExit(1) when a change is missing


@pytest.mark.django_db(transaction=True)
def test_a_database_of_the_old_layout_keeps_its_rows():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.recorder import MigrationRecorder
    from django.utils import timezone

    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(OLD_LAYOUT)
    try:
        assert ("teams", "0001_initial") not in MigrationRecorder(connection).applied_migrations()  # really the old layout
        old = MigrationExecutor(connection).loader.project_state([node for node in OLD_LAYOUT if node[1]]).apps
        user = old.get_model("auth", "User").objects.create(username="old-owner")
        team = old.get_model("studio", "Team").objects.create(name="old team", max_steps=7)
        old.get_model("studio", "Membership").objects.create(user=user, team=team, role="owner")
        old.get_model("studio", "Dataset").objects.create(team=team, name="clips", kind="synthetic")
        old.get_model("architectures", "Architecture").objects.create(team=team, name="arch", family="tvn", created_by=user)
        old.get_model("review", "Invitation").objects.create(team=team, role="viewer", digest="d" * 64, created_by=user,
                                                             expires=timezone.now())
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)

    from webapp.architectures.models import Architecture
    from webapp.studio.models import Dataset
    from webapp.teams.models import Team

    moved = Team.objects.get(name="old team")
    assert moved.max_steps == 7
    assert list(moved.memberships.values_list("user__username", "role")) == [("old-owner", "owner")]
    assert list(moved.invitations.values_list("role", flat=True)) == ["viewer"]
    assert Dataset.objects.get(name="clips").team == moved
    assert Architecture.objects.get(name="arch").team == moved
