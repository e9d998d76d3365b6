"""A failed ensemble is evaluated again as its next attempt: members and owners may (it trains), a viewer
is refused, an outsider sees nothing, and only a failed one is run again."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed(trained, monkeypatch):
    from webapp.jobs import queueing
    from webapp.review.models import Ensemble
    from webapp.review.services import subject_for_ensemble

    sent = []
    monkeypatch.setattr(queueing, "dispatch", lambda kind, job_id, queue: sent.append((kind, job_id)))
    ensemble = Ensemble.objects.create(team=trained["a"], created_by=trained["bob"], name="pair", status="failed", attempt=1,
                                       reason="a member's checkpoint is gone")
    ensemble.members.set([trained["parent"], trained["child"]])
    subject_for_ensemble(ensemble)
    return {**trained, "ensemble": ensemble, "sent": sent}


@pytest.mark.parametrize("user", ["alice", "bob"])
def test_members_run_a_failed_ensemble_again(client, failed, user, django_capture_on_commit_callbacks):
    ensemble = failed["ensemble"]
    client.force_login(failed[user])
    page = client.get(f"/models/ensemble/{ensemble.pk}/").content.decode()
    assert 'id="job-retry"' in page and "a member&#x27;s checkpoint is gone" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/ensembles/{ensemble.pk}/retry/")
    assert response.status_code == 302 and response["Location"] == f"/models/ensemble/{ensemble.pk}/"
    ensemble.refresh_from_db()
    assert (ensemble.status, ensemble.reason) == ("queued", f"run again by {user}")
    assert failed["sent"] == [("ensemble", ensemble.pk)]
    assert client.post(f"/ensembles/{ensemble.pk}/retry/").status_code == 409
    assert 'id="job-retry"' not in client.get(f"/models/ensemble/{ensemble.pk}/").content.decode()


@pytest.mark.parametrize("user,status", [("dave", 403), ("charlie", 404)])
def test_viewers_and_outsiders_cannot(client, failed, user, status):
    client.force_login(failed[user])
    assert client.post(f"/ensembles/{failed['ensemble'].pk}/retry/").status_code == status
    failed["ensemble"].refresh_from_db()
    assert failed["ensemble"].status == "failed" and failed["sent"] == []
    if user == "dave":
        assert 'id="job-retry"' not in client.get(f"/models/ensemble/{failed['ensemble'].pk}/").content.decode()
