"""An evaluated version's trained weights export like a candidate's, and every export is a job.

An evaluation (a version trained on a dataset) is a review Subject of its own: its ONNX and its portable
checkpoint are export jobs asked for on its page or over the API (viewers too), run by the job runtime in
a process of their own, downloaded once ready; the checkpoint loads with ``torch.load(weights_only=True)``.
Outsiders see nothing; an unfinished evaluation, or one whose checkpoint is gone, is refused with why.
Its page follows each export over /ws/jobs/export/<id>/. Users: alice owns team A, bob is a member,
dave a viewer, charlie an outsider."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from test_architectures_jobs_websocket import socket
from test_studio_websocket import refused_with

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _evaluation(world, **fields):
    from webapp.architectures.evaluation_job import run_dir
    from webapp.architectures.evaluations import Evaluation

    # Made as its job would have left it (nothing queued: no worker here).
    evaluation = Evaluation.objects.create(version=world["v1"], dataset=world["dataset"], created_by=world["bob"], steps=2, batch_size=4,
                                           spec=world["v1"].spec, **fields)
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


def ask(client, evaluation, fmt) -> tuple[int, dict]:
    response = client.post(f"/api/models/evaluation/{evaluation.pk}/exports/", json.dumps({"format": fmt}), content_type="application/json")
    return response.status_code, response.json()


def fetched(client, url, path: Path) -> Path:
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    path.write_bytes(b"".join(response.streaming_content))
    return path


# transactional: the job's heartbeat writes on its own connection, which a test's open transaction would hold off for SQLite's 30 s
@pytest.mark.django_db(transaction=True)
def test_a_viewer_exports_an_evaluations_weights_as_onnx_and_as_a_portable_checkpoint(world, evaluated, client_for, tmp_path):
    import numpy as np
    import onnxruntime
    import torch

    from videomodels.export import load_exported
    from webapp.jobs.runner import run_job

    dave = client_for(world["dave"])  # a viewer: reading a model is enough to export it
    code, checkpoint = ask(dave, evaluated, "checkpoint")
    assert code == 202 and checkpoint["format"] == "checkpoint" and checkpoint["filename"].endswith(".pt")
    assert checkpoint["ws"] == f"/ws/jobs/export/{checkpoint['id']}/" and checkpoint["download_url"] is None
    code, onnx = ask(dave, evaluated, "onnx")
    assert code == 202 and onnx["filename"].endswith(".onnx") and onnx["id"] != checkpoint["id"]
    assert ask(dave, evaluated, "checkpoint") == (200, checkpoint)  # the one under way, not a second job
    # The old direct address, before anything is ready, says how to make one.
    assert "export job" in dave.get(f"/evaluations/{evaluated.pk}/export/checkpoint/").json()["detail"]

    for export in (checkpoint, onnx):
        assert run_job("export", export["id"], worker="test:1") == "recorded"
    rows = {r["format"]: r for r in dave.get(f"/api/models/evaluation/{evaluated.pk}/exports/").json()["results"]}
    assert rows["checkpoint"]["status"] == "ready" and rows["checkpoint"]["verified"] == "torch.load(weights_only=True)"
    assert rows["onnx"]["status"] == "ready" and rows["onnx"]["opset"] > 0 and rows["onnx"]["max_abs_diff"] < 1e-3
    page = dave.get(f"/evaluations/{evaluated.pk}/").content.decode()
    for row in rows.values():  # the size and the link are on the evaluation's page before anyone downloads
        assert row["size"] in page and row["download_url"] in page

    moved = dave.get(f"/evaluations/{evaluated.pk}/export/checkpoint/")
    assert moved.status_code == 302 and moved["Location"] == rows["checkpoint"]["download_url"]
    pt = fetched(dave, moved["Location"], tmp_path / "model.pt")
    assert pt.stat().st_size == rows["checkpoint"]["size_bytes"]
    payload = torch.load(pt, weights_only=True)  # portable: no pickled object needed
    assert payload["state_dict"] and payload["metadata"]["evaluation"] == evaluated.pk
    assert payload["class_names"] == world["dataset"].class_names
    loaded = load_exported(pt)

    model = fetched(dave, rows["onnx"]["download_url"], tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(str(model))
    inputs = {i.name: np.random.default_rng(0).standard_normal([2, *i.shape[1:]]).astype("float32") for i in session.get_inputs()}
    with torch.no_grad():
        ours = loaded.model({k: torch.from_numpy(v) for k, v in inputs.items()}).numpy()
    np.testing.assert_allclose(session.run(None, inputs)[0], ours, rtol=1e-3, atol=1e-4)  # both files hold the same weights


@pytest.mark.django_db
def test_the_evaluation_page_starts_an_export_without_javascript_and_lists_it(world, evaluated, client_for, monkeypatch):
    from webapp.jobs import queueing
    from webapp.review.models import Export

    sent = []
    monkeypatch.setattr(queueing, "dispatch", lambda kind, job_id, queue: sent.append((kind, job_id)))
    dave = client_for(world["dave"])
    response = dave.post(f"/models/evaluation/{evaluated.pk}/exports/", {"format": "checkpoint"})
    assert response.status_code == 302 and response["Location"] == f"/evaluations/{evaluated.pk}/#exports"
    export = Export.objects.get(subject__evaluation=evaluated)
    assert (export.format, export.status, export.created_by) == ("checkpoint", "queued", world["dave"])
    page = dave.get(response["Location"]).content.decode()
    assert "PyTorch checkpoint export started" in page and f'data-export-id="{export.pk}"' in page
    assert f"/ws/jobs/export/{export.pk}/" in page  # the page follows it over its job socket
    # The review's model address of an evaluation is its page.
    assert dave.get(f"/models/evaluation/{evaluated.pk}/")["Location"] == f"/evaluations/{evaluated.pk}/"


@pytest.mark.django_db
def test_an_outsider_cannot_export_an_evaluation_nor_see_its_exports(world, evaluated, client_for):
    from webapp.review.export_jobs import create_export
    from webapp.review.models import Export
    from webapp.review.services import subject_for_evaluation

    export, _ = create_export(subject_for_evaluation(evaluated), world["dave"], "checkpoint")
    charlie = client_for(world["charlie"])
    response = charlie.post(f"/api/models/evaluation/{evaluated.pk}/exports/", {"format": "onnx"}, content_type="application/json")
    assert response.status_code == 404
    assert charlie.post(f"/models/evaluation/{evaluated.pk}/exports/", {"format": "onnx"}).status_code == 404
    for url in (f"/api/models/evaluation/{evaluated.pk}/exports/", f"/api/exports/{export.pk}/", f"/exports/{export.pk}/download/",
                f"/models/evaluation/{evaluated.pk}/", f"/evaluations/{evaluated.pk}/export/checkpoint/"):
        assert charlie.get(url).status_code == 404, url
    assert list(Export.objects.values_list("pk", flat=True)) == [export.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("status, label", [("queued", "queued"), ("running", "training"), ("failed", "failed")])
def test_an_unfinished_evaluation_is_refused_with_why(world, client_for, status, label):
    from webapp.review.models import Export

    unfinished = _evaluation(world, status=status, attempt=1)
    dave = client_for(world["dave"])
    for fmt in ("onnx", "checkpoint"):
        code, body = ask(dave, unfinished, fmt)
        assert code == 400 and body["model"] == [f"Only a finished evaluation has trained weights to export; this one is {label}."]
    page = dave.post(f"/models/evaluation/{unfinished.pk}/exports/", {"format": "checkpoint"}, follow=True)
    assert f"this one is {label}" in page.content.decode()
    # A browser following an old checkpoint link lands on the page's Export section, told why.
    old_link = dave.get(f"/evaluations/{unfinished.pk}/export/checkpoint/", HTTP_ACCEPT="text/html", follow=True)
    assert old_link.redirect_chain == [(f"/evaluations/{unfinished.pk}/#exports", 302)]
    assert f"this one is {label}" in old_link.content.decode()
    assert not Export.objects.exists()


@pytest.mark.django_db
def test_an_evaluation_whose_checkpoint_is_gone_is_refused_and_a_queued_export_fails_with_why(world, evaluated, client_for):
    from webapp.architectures.evaluation_job import run_dir
    from webapp.jobs.runner import run_job
    from webapp.review.models import Export

    dave = client_for(world["dave"])
    code, queued = ask(dave, evaluated, "checkpoint")
    assert code == 202
    shutil.rmtree(run_dir(evaluated))  # gone between the request and the worker
    assert run_job("export", queued["id"], worker="test:1") == "recorded"
    failed = Export.objects.get(pk=queued["id"])
    assert failed.status == "failed" and failed.reason == "This evaluation's trained checkpoint is not on the server any more."
    code, body = ask(dave, evaluated, "onnx")
    assert code == 400 and "not on the server any more" in body["model"][0]
    report = dave.get(f"/evaluations/{evaluated.pk}/report/").json()
    # Its failed export still shows with its reason, and instead of the buttons, why none can start.
    assert report["export_jobs"]["refused"] == "This evaluation's trained checkpoint is not on the server any more."
    assert [r["id"] for r in report["export_jobs"]["rows"]] == [failed.pk]


@pytest.mark.django_db
def test_a_teams_export_limit_counts_evaluations_and_candidates_alike(trained, client_for, settings):
    from webapp.architectures.evaluation_job import run_dir
    from webapp.review.export_jobs import create_export
    from webapp.review.services import subject_for_candidate

    settings.STUDIO_TEAM_MAX_ACTIVE_EXPORTS = 1
    create_export(subject_for_candidate(trained["child"]), trained["bob"], "checkpoint")
    evaluation = _evaluation(trained, status="evaluated", attempt=1)
    shutil.copytree(Path(trained["child"].checkpoint).parent, run_dir(evaluation) / "low")
    code, body = ask(client_for(trained["dave"]), evaluation, "onnx")
    assert code == 429 and "max_active_exports = 1" in body["detail"]


@pytest.mark.django_db
def test_an_evaluation_is_reviewed_like_any_model(world, evaluated, client_for):
    node = evaluated.spec["nodes"][0]["id"]
    bob, dave = client_for(world["bob"]), client_for(world["dave"])
    summary = dave.get(f"/api/models/evaluation/{evaluated.pk}/")
    assert summary.status_code == 200 and summary.json()["kind"] == "evaluation"
    comment = dave.post(f"/api/models/evaluation/{evaluated.pk}/comments/", {"body": "why so wide?", "anchor": {"node": node}},
                        content_type="application/json")
    assert comment.status_code == 201, comment.content
    assert dave.post(f"/api/models/evaluation/{evaluated.pk}/tags/", {"name": "fast"}, content_type="application/json").status_code == 403
    assert bob.post(f"/api/models/evaluation/{evaluated.pk}/tags/", {"name": "fast"}, content_type="application/json").status_code == 201
    threads = dave.get(f"/api/models/evaluation/{evaluated.pk}/").json()["threads"]
    assert [(t["body"], t["anchor"], t["outdated"]) for t in threads] == [("why so wide?", {"node": node}, "")]
    card = dave.get(f"/evaluations/{evaluated.pk}/export/card/").content.decode()
    assert "fast" in card and world["dataset"].name in card  # the card carries its review's tags


@pytest.mark.django_db(transaction=True)
def test_the_export_socket_follows_an_evaluations_checkpoint_export_to_ready(world, evaluated, cookies, redis_server, monkeypatch):
    from webapp.jobs import queueing
    from webapp.jobs.runner import run_job
    from webapp.review.export_jobs import create_export
    from webapp.review.services import subject_for_evaluation

    monkeypatch.setattr(queueing, "dispatch", lambda kind, job_id, queue: None)  # this test runs the job itself
    export, _ = create_export(subject_for_evaluation(evaluated), world["dave"], "checkpoint")
    path = f"/ws/jobs/export/{export.pk}/"
    assert async_to_sync(refused_with)(socket(path, cookies["charlie"])) == 4404

    async def follow():
        ws = socket(path, cookies["bob"])
        assert (await ws.connect())[0]
        first = await ws.receive_json_from(timeout=5)
        assert (first["job"], first["id"], first["status"]) == ("export", export.pk, "queued")
        assert await sync_to_async(run_job, thread_sensitive=False)("export", export.pk, "test:1") == "recorded"
        seen = []
        while not seen or seen[-1]["status"] == "running":
            seen.append(await ws.receive_json_from(timeout=30))
        await ws.disconnect()
        return seen

    seen = async_to_sync(follow)()
    assert seen[0]["status"] == "running" and seen[0]["stage"] == "starting"
    assert (seen[-1]["status"], seen[-1]["status_label"], seen[-1]["stage"], seen[-1]["progress"]) == ("ready", "Ready", "ready", 1.0)
