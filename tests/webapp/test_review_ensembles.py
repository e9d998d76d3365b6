"""Ensembles: members create them from evaluated candidates of one team and dataset (viewers cannot,
outsiders cannot name another team's); the evaluation averages real logits of real checkpoints and
records the ensemble's accuracy beside each member's; the ensemble is a reviewable model."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(trained):
    from webapp.studio.models import Candidate

    twin = Candidate.objects.get(pk=trained["child"].pk)
    twin.pk, twin.index, twin.name = None, 7, "c0007"
    twin.save()
    return {**trained, "twin": twin}


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_create_and_evaluate_an_ensemble(pair, client_for, django_capture_on_commit_callbacks, monkeypatch):
    from webapp.jobs import queueing
    from webapp.jobs.runner import run_job
    from webapp.review.models import Ensemble

    queued = []
    monkeypatch.setattr(queueing, "dispatch", lambda *job: queued.append(job))  # the broker is not what this test is about
    members = [pair["child"].pk, pair["twin"].pk]
    assert post(client_for(pair["dave"]), "/api/ensembles/", {"members": members}).status_code == 403
    assert post(client_for(pair["charlie"]), "/api/ensembles/", {"members": members}).status_code == 400
    assert post(client_for(pair["bob"]), "/api/ensembles/", {"members": [pair["child"].pk]}).status_code == 400
    assert post(client_for(pair["bob"]), "/api/ensembles/", {"members": [pair["parent"].pk, pair["child"].pk]}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client_for(pair["bob"]), "/api/ensembles/", {"members": members})
    assert response.status_code == 201 and response.json()["status"] == "queued"
    ensemble_id = response.json()["id"]
    assert queued == [("ensemble", ensemble_id, "train")]
    assert run_job("ensemble", ensemble_id, worker="test:1") == "recorded"
    ensemble = Ensemble.objects.get(pk=ensemble_id)
    assert ensemble.status == Ensemble.Status.EVALUATED and ensemble.attempt == 1, ensemble.reason
    assert run_job("ensemble", ensemble_id, worker="test:2") == "skipped"  # a second delivery does nothing
    # Two copies of one model: their average predicts what each does.
    same = ensemble.member_accuracy
    assert set(same) == {str(m) for m in members} and ensemble.accuracy == pytest.approx(same[str(members[0])])
    row = client_for(pair["dave"]).get(f"/api/ensembles/{ensemble_id}/").json()
    assert row["accuracy"] == ensemble.accuracy and len(row["members"]) == 2
    page = client_for(pair["dave"]).get(f"/models/ensemble/{ensemble_id}/")
    assert page.status_code == 200 and "on the same clips" in page.content.decode()
    review = post(client_for(pair["bob"]), f"/api/models/ensemble/{ensemble_id}/review/", {"action": "request"})
    assert review.json()["status"] == "in_review"
    assert client_for(pair["charlie"]).get(f"/api/ensembles/{ensemble_id}/").status_code == 404
