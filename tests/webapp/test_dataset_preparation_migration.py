"""The migration that makes dataset preparation a job keeps every dataset, and gives each one still
pending or preparing a queued preparation (the runtime's recovery at worker start sends it)."""
from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE, AFTER = [("studio", "0006_team_and_membership_moved_to_teams")], [("studio", "0007_dataset_preparation")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest():
    """Later tests (and the kept Daphne and worker) need every migration: the schema goes back to the latest."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_unfinished_datasets_get_a_queued_preparation_and_finished_ones_keep_their_findings(back_to_latest):
    old = migrate(BEFORE)
    team = old.get_model("teams", "Team").objects.create(name="T")
    Dataset = old.get_model("studio", "Dataset")
    for status in ("pending", "preparing", "ready", "failed"):
        Dataset.objects.create(team=team, name=status, kind="synthetic", status=status, error="broken" * (status == "failed"),
                               report={"num_prepared": 3} if status == "ready" else {})
    new = migrate(AFTER)
    Dataset, DatasetPreparation = new.get_model("studio", "Dataset"), new.get_model("studio", "DatasetPreparation")
    statuses = dict(Dataset.objects.values_list("name", "status"))
    assert statuses == {"pending": "pending", "preparing": "pending", "ready": "ready", "failed": "failed"}
    queued = DatasetPreparation.objects.values_list("dataset__name", "status", "attempt")
    assert sorted(queued) == [("pending", "queued", 0), ("preparing", "queued", 0)]
    assert Dataset.objects.get(name="ready").report == {"num_prepared": 3} and Dataset.objects.get(name="failed").error == "broken"
