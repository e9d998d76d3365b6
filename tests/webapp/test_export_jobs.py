"""ONNX exports as jobs: asked for over the API (a viewer may), run by the job runtime's task body in
a process of its own, the size shown before the download; two at once both work, a failed or
timed-out one leaves no folder behind and the next one works; a team runs a few at a time."""
from __future__ import annotations

import json
import threading

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def leftovers(data_dir) -> list[str]:
    """Work folders of exports (finished files live in a folder named by the export's id only)."""
    folder = data_dir / "exports"
    return sorted(p.name for p in folder.iterdir() if ".attempt" in p.name) if folder.exists() else []


def ask(client, candidate) -> tuple[int, dict]:
    response = client.post(f"/api/models/candidate/{candidate.pk}/exports/", json.dumps({"format": "onnx"}),
                           content_type="application/json")
    return response.status_code, response.json()


@pytest.mark.django_db(transaction=True)
def test_two_exports_at_once_each_in_its_own_process_both_ready_with_their_size_before_download(trained, client_for,
                                                                                                 studio_data_dir, tmp_path):
    import numpy as np
    import onnxruntime
    import torch

    from videomodels.export import load_exported
    from webapp.jobs.runner import run_job
    from webapp.review.models import Export

    dave = client_for(trained["dave"])  # a viewer: reading a model is enough to export it
    code, first = ask(dave, trained["child"])
    assert code == 202 and first["status"] == "queued" and first["size_bytes"] is None and first["download_url"] is None
    code, again = ask(dave, trained["child"])
    assert code == 200 and again["id"] == first["id"]  # the one under way, not a second job
    second = Export.objects.create(subject_id=Export.objects.get(pk=first["id"]).subject_id, filename="second.onnx",
                                   created_by=trained["alice"])
    outcomes = {}

    def work(export_id):
        from django.db import connection

        run_job("export", export_id, worker=f"test:{export_id}")
        outcomes[export_id] = Export.objects.get(pk=export_id).status
        connection.close()

    threads = [threading.Thread(target=work, args=(pk,)) for pk in (first["id"], second.pk)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=500)
    assert outcomes == {first["id"]: "ready", second.pk: "ready"}
    assert leftovers(studio_data_dir) == []

    row = dave.get(f"/api/exports/{first['id']}/").json()
    assert row["status"] == "ready" and row["progress"] == 1.0 and row["size_bytes"] > 1000 and row["opset"] > 0
    assert row["size"].endswith(("kB", "MB")) and row["max_abs_diff"] < 1e-3
    page = dave.get(f"/models/candidate/{trained['child'].pk}/").content.decode()
    assert row["size"] in page and row["download_url"] in page  # the size is on the page before anyone downloads
    download = dave.get(row["download_url"])
    assert download.status_code == 200 and int(download["Content-Length"]) == row["size_bytes"]
    path = tmp_path / "model.onnx"
    path.write_bytes(b"".join(download.streaming_content))
    assert path.stat().st_size == row["size_bytes"]
    session = onnxruntime.InferenceSession(str(path))
    inputs = {i.name: np.random.default_rng(0).standard_normal([2, *i.shape[1:]]).astype("float32") for i in session.get_inputs()}
    with torch.no_grad():
        ours = load_exported(trained["child"].checkpoint).model({k: torch.from_numpy(v) for k, v in inputs.items()}).numpy()
    np.testing.assert_allclose(session.run(None, inputs)[0], ours, rtol=1e-3, atol=1e-4)
    # The old address of the ONNX download leads to the ready file.
    assert dave.get(f"/models/candidate/{trained['child'].pk}/export/onnx/").status_code == 302


# transactional: the job's heartbeat writes on its own connection, which a test's open transaction would hold off for SQLite's 30 s
@pytest.mark.django_db(transaction=True)
def test_a_failed_export_leaves_nothing_behind_and_the_next_one_works(trained, client_for, studio_data_dir):
    from webapp.jobs.runner import run_job
    from webapp.review.models import Export
    from webapp.studio.models import Candidate

    child = trained["child"]
    good = child.checkpoint
    broken = studio_data_dir / "broken" / "checkpoint.pt"
    broken.parent.mkdir(exist_ok=True)
    broken.write_bytes(b"not a checkpoint at all")
    client = client_for(trained["bob"])
    Candidate.objects.filter(pk=child.pk).update(checkpoint=str(broken))
    exports = studio_data_dir / "exports"
    # The data folder is the session's: an earlier test's export may have left its own (ready) folder.
    folders_before = set(exports.iterdir()) if exports.exists() else set()
    code, failed = ask(client, child)
    assert code == 202
    assert run_job("export", failed["id"], worker="test:1") == "recorded"
    row = Export.objects.get(pk=failed["id"])
    assert row.status == "failed" and row.reason and row.path == "" and row.size_bytes is None
    assert leftovers(studio_data_dir) == [] and set(exports.iterdir() if exports.exists() else ()) == folders_before
    assert client.get(f"/exports/{row.pk}/download/").status_code == 409

    Candidate.objects.filter(pk=child.pk).update(checkpoint=good)
    code, next_one = ask(client, child)
    assert code == 202 and next_one["id"] != failed["id"]
    assert run_job("export", next_one["id"], worker="test:2") == "recorded"
    done = Export.objects.get(pk=next_one["id"])
    assert done.status == "ready" and done.size_bytes > 1000, done.reason
    assert leftovers(studio_data_dir) == []


@pytest.mark.django_db
def test_an_export_over_its_time_is_stopped_and_leaves_nothing(trained, client_for, studio_data_dir, settings):
    from webapp.jobs.runner import run_job
    from webapp.review.models import Export

    settings.STUDIO_EXPORT_TIMEOUT = 0.3
    code, row = ask(client_for(trained["bob"]), trained["child"])
    assert run_job("export", row["id"], worker="test:1") == "recorded"
    assert Export.objects.get(pk=row["id"]).status == "failed"
    assert "STUDIO_EXPORT_TIMEOUT" in Export.objects.get(pk=row["id"]).reason
    assert leftovers(studio_data_dir) == []


@pytest.mark.django_db
def test_a_team_runs_a_few_exports_at_once_and_the_answer_names_the_limit(trained, client_for, settings):
    from webapp.review.models import Export
    from webapp.review.services import subject_for_candidate

    settings.STUDIO_TEAM_MAX_ACTIVE_EXPORTS = 1
    Export.objects.create(subject=subject_for_candidate(trained["parent"]), filename="x.onnx", status=Export.Status.RUNNING)
    code, body = ask(client_for(trained["dave"]), trained["child"])
    assert code == 429 and body["field"] == "max_active_exports" and "max_active_exports = 1" in body["detail"]
    assert Export.objects.count() == 1


@pytest.mark.django_db
def test_only_an_evaluated_candidate_with_its_checkpoint_is_exported(world, client_for):
    code, body = ask(client_for(world["bob"]), world["parent"])  # evaluated, but no checkpoint on the server
    assert code == 400 and "checkpoint" in body["model"][0]
    response = client_for(world["bob"]).post(f"/api/models/version/{world['v1'].pk}/exports/", "{}", content_type="application/json")
    assert response.status_code == 400 and "no trained weights of its own" in response.json()["model"][0]
    response = client_for(world["bob"]).post(f"/api/models/candidate/{world['parent'].pk}/exports/", {"format": "pickle"},
                                             content_type="application/json")
    assert response.status_code == 400 and "Unknown export format 'pickle'" in response.json()["format"][0]


# transactional: the job's heartbeat writes on its own connection, which a test's open transaction would hold off for SQLite's 30 s
@pytest.mark.django_db(transaction=True)
def test_a_checkpoint_export_of_a_broken_file_fails_with_its_reason_and_leaves_nothing(trained, client_for, studio_data_dir):
    from webapp.jobs.runner import run_job
    from webapp.review.models import Export
    from webapp.studio.models import Candidate

    broken = studio_data_dir / "broken2" / "checkpoint.pt"
    broken.parent.mkdir(exist_ok=True)
    broken.write_bytes(b"garbage")
    Candidate.objects.filter(pk=trained["child"].pk).update(checkpoint=str(broken))
    exports = studio_data_dir / "exports"
    folders_before = set(exports.iterdir()) if exports.exists() else set()  # the session's: earlier tests' exports
    client = client_for(trained["dave"])
    response = client.post(f"/api/models/candidate/{trained['child'].pk}/exports/", {"format": "checkpoint"},
                           content_type="application/json")
    assert response.status_code == 202
    assert run_job("export", response.json()["id"], worker="test:1") == "recorded"
    row = Export.objects.get(pk=response.json()["id"])
    assert row.status == "failed" and row.reason and row.path == "" and row.size_bytes is None
    assert leftovers(studio_data_dir) == [] and set(exports.iterdir() if exports.exists() else ()) == folders_before
    # The old direct address says why there is nothing to download, and where to start one.
    answer = client.get(f"/models/candidate/{trained['child'].pk}/export/checkpoint/")
    assert answer.status_code == 409 and answer.json()["exports"] == f"/api/models/candidate/{trained['child'].pk}/exports/"
