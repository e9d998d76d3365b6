"""Launch and dataset inputs: every mistake is a 400 with a message on the right field,
on the API and on the pages' forms; preparation reports bad files with their reasons."""
from __future__ import annotations

import shutil

import pytest

pytestmark = pytest.mark.django_db


def launch(client, **fields):
    return client.post("/api/experiments/", {"family": "tvn", "start": False, **fields}, content_type="application/json")


@pytest.mark.parametrize("fields, field, words", [
    ({"population": 1}, "population", "from 2 to 1000"),
    ({"rounds": -1}, "rounds", "from 0 to 1000"),
    ({"low_steps": 50, "high_steps": 10}, "high_steps", "at least low_steps"),
    ({"latency_budget_ms": -5}, "latency_budget_ms", "finite number above 0"),
    ({"batch_size": 0}, "batch_size", "from 1 to 4096"),
    ({"population": "many"}, "population", "valid integer"),
    ({"family": "resnet"}, "family", "not a valid choice"),
    ({"settings": {"bogus": 1}}, "settings", "Unknown search settings: bogus"),
    ({"settings": {"population": 4}}, "settings", "as their own fields"),
    ({"settings": {"num_threads": -2}}, "num_threads", "from 0"),
    ({"parallelism": 0}, "parallelism", "from 1 to 64"),
])
def test_api_launch_errors_name_the_field(teams, ready_dataset, client_for, fields, field, words):
    response = launch(client_for(teams["alice"]), dataset=ready_dataset.pk, **fields)
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert words in " ".join(errors[field]), errors


def test_api_launch_needs_a_ready_dataset_with_flow_for_assemblenet(teams, ready_dataset, client_for):
    client = client_for(teams["alice"])
    response = launch(client, dataset=ready_dataset.pk, family="assemblenet")
    assert response.status_code == 400
    assert "optical flow" in response.json()["dataset"][0]
    ready_dataset.status = "preparing"
    ready_dataset.save()
    response = launch(client, dataset=ready_dataset.pk)
    assert response.status_code == 400
    assert "not ready yet" in response.json()["dataset"][0]


def test_api_launch_stores_the_search_config_and_queues(teams, ready_dataset, client_for):
    from webapp.studio.models import Experiment

    response = launch(client_for(teams["bob"]), dataset=ready_dataset.pk, population=3, rounds=2, latency_budget_ms=40,
                      low_steps=5, high_steps=0, seed=7, settings={"objective": "pareto"}, name="first")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "queued"
    assert data["progress"]["total"] == 9
    experiment = Experiment.objects.get(pk=data["id"])
    assert experiment.team == teams["a"] and experiment.created_by == teams["bob"]
    assert experiment.config["latency_budget_ms"] == 40 and experiment.config["objective"] == "pareto"
    assert experiment.config["seed"] == 7 and experiment.family == "tvn"
    assert list(experiment.events.values_list("seq", "type")) == [(1, "status")]


def test_api_start_queues_the_driver_after_commit(teams, ready_dataset, client_for, django_capture_on_commit_callbacks, monkeypatch):
    from webapp.studio.services import task_names

    queued = []
    monkeypatch.setattr(task_names, "send", lambda name, args, countdown=None: queued.append(tuple(args)) if name == task_names.ADVANCE_EXPERIMENT else None)
    client = client_for(teams["alice"])
    experiment = launch(client, dataset=ready_dataset.pk).json()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/experiments/{experiment['id']}/start/")
    assert response.status_code == 200 and response.json()["status"] == "running"
    assert queued == [(experiment["id"], False)]


def test_experiment_form_shows_errors_next_to_fields(teams, ready_dataset, client_for):
    client = client_for(teams["alice"])
    form = {"team": teams["a"].pk, "family": "tvn", "dataset": ready_dataset.pk, "population": 1, "rounds": 1, "seed": 0,
            "low_steps": 10, "high_steps": 5, "batch_size": 8, "parallelism": 2, "num_threads": 0}
    response = client.post("/experiments/new/", form)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Must be an integer from 2 to 1000, got 1." in html
    assert "High_steps" not in html and "Must be 0 (no second fidelity) or at least low_steps (10), got 5." in html
    response = client.post("/experiments/new/", {**form, "population": "abc", "high_steps": 0})
    assert response.status_code == 400
    assert "Enter a whole number." in response.content.decode()


def test_experiment_form_launches(teams, ready_dataset, client_for):
    from webapp.studio.models import Experiment

    client = client_for(teams["alice"])
    form = {"team": teams["a"].pk, "family": "tvn", "dataset": ready_dataset.pk, "population": 2, "rounds": 1, "seed": 3,
            "low_steps": 2, "high_steps": 0, "batch_size": 8, "parallelism": 2, "num_threads": 1, "name": "from the form"}
    response = client.post("/experiments/new/", form)
    experiment = Experiment.objects.get(name="from the form")
    assert response.status_code == 302 and response["Location"] == f"/experiments/{experiment.pk}/"
    assert experiment.status == "queued"  # "Start at once" unticked
    assert experiment.config["num_threads"] == 1 and experiment.config["seed"] == 3


@pytest.mark.parametrize("fields, field, words", [
    ({"kind": "folder", "source_path": "/etc"}, "source_path", "not a folder or CSV manifest you may register"),
    ({"kind": "folder", "source_path": "relative/path"}, "source_path", "absolute path"),
    ({"kind": "synthetic", "clips_per_class": 1}, "clips_per_class", "from 2 to 1000"),
    ({"kind": "synthetic", "clips_per_class": 4, "classes": ["move_left", "dance"]}, "classes", "Unknown motion classes: dance"),
    ({"kind": "synthetic", "clips_per_class": 4, "frames": 0}, "frames", "from 1 to 256"),
    ({"kind": "tape"}, "kind", "not a valid choice"),
])
def test_api_dataset_errors_name_the_field(teams, studio_data_dir, client_for, fields, field, words):
    response = client_for(teams["alice"]).post("/api/datasets/", {"name": "d", **fields}, content_type="application/json")
    assert response.status_code == 400, response.content
    assert words in " ".join(response.json()[field]), response.json()


def test_api_dataset_missing_folder_and_duplicate_name(teams, ready_dataset, shared_videos, client_for):
    client = client_for(teams["alice"])
    response = client.post("/api/datasets/", {"name": "x", "kind": "folder", "source_path": str(shared_videos / "nope")},
                           content_type="application/json")
    message = response.json()["source_path"][0]
    assert response.status_code == 400 and "not a folder or CSV manifest you may register" in message
    assert str(shared_videos) in message.partition("shared folders are")[2]
    response = client.post("/api/datasets/", {"name": "motion-a", "kind": "synthetic", "clips_per_class": 3},
                           content_type="application/json")
    assert response.status_code == 400 and "already has a dataset" in response.json()["name"][0]


def test_dataset_pages_register_and_prepare_with_bad_files(teams, shared_videos, tiny_cache, client_for,
                                                          django_capture_on_commit_callbacks, monkeypatch, prepare):
    """A server folder with one broken video: prepared, and the broken file listed with its reason."""
    from webapp.jobs import queueing
    from webapp.studio.models import Dataset

    source = shared_videos / "uploads" / "two-classes"
    for label in ("move_left", "zoom_in"):
        (source / label).mkdir(parents=True, exist_ok=True)
        for video in sorted((tiny_cache.parent / "videos" / label).iterdir())[:4]:
            shutil.copy(video, source / label / video.name)
    (source / "zoom_in" / "broken.mp4").write_bytes(b"this is not a video")
    sent = []
    monkeypatch.setattr(queueing, "dispatch", lambda kind, job_id, queue: sent.append((kind, queue)))
    client = client_for(teams["bob"])
    form = {"folder-team": teams["a"].pk, "folder-name": "uploads", "folder-source_path": str(source), "folder-frames": 8,
            "folder-size": 32}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/datasets/", form)
    dataset = Dataset.objects.get(name="uploads")
    assert response.status_code == 302 and response["Location"] == f"/datasets/{dataset.pk}/"
    assert sent == [("dataset-preparation", "default")] and dataset.status == "pending"  # sent once the row commits
    dataset = prepare(dataset)
    assert dataset.status == "ready", dataset.error
    assert dataset.num_classes == 2 and dataset.report["num_prepared"] == 8
    assert [b["path"].endswith("broken.mp4") for b in dataset.bad_files] == [True]
    html = client.get(f"/datasets/{dataset.pk}/").content.decode()
    assert "broken.mp4" in html and dataset.bad_files[0]["reason"] in html
    # The same form again: a clear error, no second dataset.
    response = client.post("/datasets/", form)
    assert response.status_code == 400 and "already has a dataset called" in response.content.decode()


def test_synthetic_dataset_is_generated_and_prepared(teams, studio_data_dir, client_for, prepare):
    from webapp.studio.models import Dataset

    response = client_for(teams["alice"]).post("/api/datasets/", {
        "name": "synth", "kind": "synthetic", "clips_per_class": 3, "classes": ["move_left", "move_right"], "frames": 4, "size": 16},
        content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending"
    dataset = prepare(Dataset.objects.get(pk=response.json()["id"]))
    assert dataset.status == Dataset.Status.READY, dataset.error
    assert dataset.class_names == ["move_left", "move_right"] and dataset.frames == 4
    assert dataset.report["num_prepared"] == 6 and dataset.bad_files == []
