"""An evaluation's page, its JSON, its downloads and its retry, for the owner (alice), a member (bob), a
viewer (dave) and an outsider (charlie). Its trained weights (ONNX, checkpoint) are export jobs:
test_export_checkpoints."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db


def _evaluation(world, **fields):
    from webapp.architectures import jobs
    from webapp.architectures.evaluation_job import run_dir
    from webapp.architectures.evaluations import Evaluation

    evaluation = jobs.create_evaluation(user=world["bob"], version=world["v1"], dataset=world["dataset"], steps=2, batch_size=4)
    Evaluation.objects.filter(pk=evaluation.pk).update(**fields)
    evaluation.refresh_from_db()
    shutil.rmtree(run_dir(evaluation).parent, ignore_errors=True)  # ids repeat across tests; the data folder is the session's
    return evaluation


@pytest.fixture
def evaluated(world, trained_result):
    """An evaluation recorded as its job records one, its training's files where its attempt wrote them."""
    from webapp.architectures.evaluation_job import run_dir

    evaluation = _evaluation(world, status="evaluated", attempt=1, step=2, accuracy=trained_result["accuracy"],
                             latency_ms=trained_result["latency_ms"], params=trained_result["params"], macs=trained_result["macs"],
                             metrics=trained_result["metrics"], edge_weights=trained_result["edge_weights"], losses=[[1, 2.3], [2, 2.1]])
    shutil.copytree(Path(trained_result["checkpoint"]).parent, run_dir(evaluation) / "low")
    return evaluation


def _as(client, world, name):
    if name:
        client.force_login(world[name])
    return client


@pytest.mark.parametrize("user,status", [("alice", 200), ("bob", 200), ("dave", 200), ("charlie", 404)])
def test_the_page_of_an_evaluated_network_shows_what_a_model_page_shows(client, world, evaluated, user, status):
    response = _as(client, world, user).get(f"/evaluations/{evaluated.pk}/")
    assert response.status_code == status
    if status != 200:
        return
    html = response.content.decode()
    for part in ('id="loss-chart"', 'id="per-class-chart"', 'id="confusion"', 'id="graph"', "Evaluated", 'id="onnx-start"',
                 'id="checkpoint-start"', f'action="/models/evaluation/{evaluated.pk}/exports/"'):
        assert part in html, part
    report = _as(client, world, user).get(f"/evaluations/{evaluated.pk}/report/").json()
    assert report["state"]["status"] == "evaluated" and report["retry_url"] is None
    assert report["evaluation"]["confusion"] and report["evaluation"]["per_class"]  # from the metrics.json its training wrote
    assert [e["label"] for e in report["exports"]] == ["ArchSpec JSON (as trained)", "Model card (Markdown)"]
    jobs = report["export_jobs"]  # its weights export as jobs, as a candidate's do
    assert [f["format"] for f in jobs["formats"]] == ["onnx", "checkpoint"] and jobs["rows"] == [] and jobs["refused"] == ""
    assert jobs["api"] == f"/api/models/evaluation/{evaluated.pk}/exports/"
    assert report["edge_weights"] == evaluated.edge_weights


def test_an_anonymous_visitor_is_sent_to_sign_in(client, world, evaluated):
    assert client.get(f"/evaluations/{evaluated.pk}/").status_code == 302
    assert client.get(f"/evaluations/{evaluated.pk}/report/").status_code == 302


@pytest.mark.parametrize("user", ["alice", "dave"])
def test_its_card_and_spec_download_at_once(client, world, evaluated, user):
    card = _as(client, world, user).get(f"/evaluations/{evaluated.pk}/export/card/")
    assert card.status_code == 200 and world["dataset"].name in card.content.decode()
    spec = client.get(f"/evaluations/{evaluated.pk}/export/spec/")
    assert spec.status_code == 200 and spec.json() == evaluated.spec


def test_an_outsider_cannot_export_it(client, world, evaluated):
    assert _as(client, world, "charlie").get(f"/evaluations/{evaluated.pk}/export/checkpoint/").status_code == 404


def test_a_running_evaluation_has_no_weights_to_export_yet(client, world):
    running = _evaluation(world, status="running", attempt=1, step=1, losses=[[1, 2.3]], stage="starting")
    client.force_login(world["dave"])
    refused = client.get(f"/evaluations/{running.pk}/export/checkpoint/")
    assert refused.status_code == 409 and "this one is training" in refused.json()["detail"]
    report = client.get(f"/evaluations/{running.pk}/report/").json()
    assert report["state"]["status"] == "running" and report["evaluation"]["loss_curve"] == [[1, 2.3]]
    assert [e["label"] for e in report["exports"]] == ["ArchSpec JSON (as trained)"]
    assert report["export_jobs"] is None  # nothing to export yet: no buttons


@pytest.mark.parametrize("user,status", [("dave", 403), ("charlie", 404)])
def test_only_members_run_a_failed_evaluation_again(client, world, user, status):
    failed = _evaluation(world, status="failed", attempt=2, reason="its worker stopped; tried 2 times")
    assert _as(client, world, user).post(f"/evaluations/{failed.pk}/retry/").status_code == status
    failed.refresh_from_db()
    assert failed.status == "failed"
    if user == "dave":
        assert client.get(f"/evaluations/{failed.pk}/report/").json()["retry_url"] is None  # a viewer is not offered it


@pytest.mark.parametrize("user", ["alice", "bob"])
def test_a_failed_evaluation_runs_again_as_a_new_attempt(client, world, user, django_capture_on_commit_callbacks, monkeypatch):
    from webapp.jobs import queueing

    sent = []
    monkeypatch.setattr(queueing, "dispatch", lambda kind, job_id, queue: sent.append((kind, job_id)))
    failed = _evaluation(world, status="failed", attempt=2, reason="its worker stopped; tried 2 times")
    client.force_login(world[user])
    page = client.get(f"/evaluations/{failed.pk}/").content.decode()
    assert "its worker stopped" in page and 'id="retry"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/evaluations/{failed.pk}/retry/")
    assert response.status_code == 302 and response["Location"] == f"/evaluations/{failed.pk}/"
    failed.refresh_from_db()
    assert (failed.status, failed.reason) == ("queued", f"run again by {user}")
    assert sent == [("evaluation", failed.pk)]
    assert client.post(f"/evaluations/{failed.pk}/retry/").status_code == 409  # queued now: a second click queues nothing


def test_an_evaluated_network_is_not_run_again(client, world, evaluated):
    client.force_login(world["bob"])
    assert client.post(f"/evaluations/{evaluated.pk}/retry/").status_code == 409
    evaluated.refresh_from_db()
    assert evaluated.status == "evaluated"


def test_the_version_page_links_its_evaluations(client, world, evaluated):
    client.force_login(world["dave"])
    html = client.get(world["v1"].get_absolute_url()).content.decode()
    assert f'href="/evaluations/{evaluated.pk}/"' in html
