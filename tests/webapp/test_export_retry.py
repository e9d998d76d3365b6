"""A failed ONNX export runs again as its next attempt: whoever may start one (viewers export too) may
retry it, an outsider sees nothing, and only a failed export is run again."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_export(trained, monkeypatch):
    from webapp.jobs import queueing
    from webapp.review.models import Export
    from webapp.review.services import subject_for_candidate

    sent = []
    monkeypatch.setattr(queueing, "dispatch", lambda kind, job_id, queue: sent.append((kind, job_id)))
    export = Export.objects.create(subject=subject_for_candidate(trained["child"]), created_by=trained["dave"], filename="child.onnx",
                                   status=Export.Status.FAILED, stage="failed", reason="the export process exited with 1", attempt=1)
    return {**trained, "export": export, "sent": sent}


@pytest.mark.parametrize("user", ["alice", "bob", "dave"])
def test_a_failed_export_runs_again(client, failed_export, user, django_capture_on_commit_callbacks):
    export = failed_export["export"]
    client.force_login(failed_export[user])
    page = client.get(f"/models/candidate/{failed_export['child'].pk}/").content.decode()
    assert f'action="/exports/{export.pk}/retry/"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/exports/{export.pk}/retry/")
    assert response.status_code == 302 and response["Location"].endswith("#exports")
    export.refresh_from_db()
    assert (export.status, export.stage, export.reason) == ("queued", "queued", f"run again by {user}")
    assert failed_export["sent"] == [("export", export.pk)]
    again = client.post(f"/exports/{export.pk}/retry/", HTTP_ACCEPT="application/json")
    assert again.status_code == 409 and "Only a failed export" in again.json()["detail"]


def test_the_pages_button_gets_the_row_back(client, failed_export):
    client.force_login(failed_export["bob"])
    response = client.post(f"/exports/{failed_export['export'].pk}/retry/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response.json()["status"] == "queued" and response.json()["retry_url"] is None


def test_an_outsider_cannot_retry_it(client, failed_export):
    client.force_login(failed_export["charlie"])
    assert client.post(f"/exports/{failed_export['export'].pk}/retry/").status_code == 404
    failed_export["export"].refresh_from_db()
    assert failed_export["export"].status == "failed"
