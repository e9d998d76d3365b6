"""The studio's side of issue 17, on the CPU: a candidate out of GPU memory (raised on purpose)
reported on its page and handled, the latency device on candidates, leaderboards and the Pareto
view, GPU latency refused without a GPU worker, and the workers page with a real Celery worker."""
from __future__ import annotations

import re

import pytest
import torch
from test_studio_driver import drain  # the captured task queue's inline runner (the queue fixture is in conftest)
from waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

OOM = "CUDA out of memory. Tried to allocate 3.00 GiB (GPU 0; 15.7 GiB total capacity)"


def out_of_memory_at(monkeypatch, *batch_sizes):
    """Trainings at these batch sizes run out of GPU memory, on purpose; returns the sizes tried."""
    from archsearch import evaluate

    tried = []
    real = evaluate.train_and_evaluate

    def training(spec, data, config, **kwargs):
        tried.append(config.batch_size)
        if config.batch_size in batch_sizes:
            raise torch.cuda.OutOfMemoryError(OOM)
        return real(spec, data, config, **kwargs)

    monkeypatch.setattr(evaluate, "train_and_evaluate", training)
    return tried


# ---------------------------------------------------------------------- out of memory
def test_a_candidate_out_of_gpu_memory_trains_at_half_the_batch_and_its_page_says_so(launch, queue, monkeypatch, client_for,
                                                                                      teams):
    tried = out_of_memory_at(monkeypatch, 8)
    experiment = launch(parallelism=1, population=2, rounds=0)
    drain(queue)
    experiment.refresh_from_db()
    assert experiment.status == "finished", experiment.error
    candidates = list(experiment.candidates.order_by("index"))
    assert [c.status for c in candidates] == ["evaluated", "evaluated"] and tried == [8, 4, 8, 4]
    first = candidates[0]
    assert first.reason.startswith("out of GPU memory in training at batch 8") and first.reason.endswith("trained at batch 4")
    assert first.metrics["batch_size"] == 4 and first.attempt == 1
    page = client_for(teams["alice"]).get(f"/candidates/{first.pk}/").content.decode()
    assert "<dt>Why</dt><dd>out of GPU memory in training at batch 8" in page
    api = client_for(teams["alice"]).get(f"/api/candidates/{first.pk}/").json()
    assert api["reason"] == first.reason and api["metrics"]["batch_size"] == 4


def test_a_candidate_out_of_memory_again_fails_with_the_reason_once(launch, queue, monkeypatch, client_for, teams):
    tried = out_of_memory_at(monkeypatch, 8, 4)
    experiment = launch(parallelism=1, population=2, rounds=0)
    drain(queue)
    experiment.refresh_from_db()
    failed = list(experiment.candidates.filter(status="failed").order_by("index"))
    # Three failures in a row stop the search (resumable), as any repeated error does; none is lost or retried forever.
    assert len(failed) == 3 and experiment.status == "failed" and "out of GPU memory" in experiment.error
    assert tried == [8, 4] * 3 and all(c.attempt == 1 for c in failed)
    assert all(c.reason.startswith("out of GPU memory in training at batch 8, and again at batch 4 (CUDA out of memory.")
               for c in failed)
    page = client_for(teams["alice"]).get(f"/candidates/{failed[0].pk}/").content.decode()
    assert "and again at batch 4" in page
    kinds = list(experiment.events.filter(type="candidate_failed").values_list("payload__reason", flat=True))
    assert len(kinds) == 3 and all("out of GPU memory" in reason for reason in kinds)


# ---------------------------------------------------------------------- the latency device, wherever latency shows
def test_candidates_record_their_latency_device_and_the_review_pages_say_which(launch, queue, client_for, teams):
    from webapp.studio.models import Candidate

    experiment = launch(parallelism=2, population=2, rounds=0)
    drain(queue)
    candidates = list(Candidate.objects.filter(experiment=experiment, status="evaluated"))
    assert len(candidates) == 2 and all(c.latency_device == "cpu" and c.latency_hardware == "cpu" for c in candidates)
    assert all(e.payload["latency_device"] == "cpu" for e in experiment.events.filter(type="candidate_evaluated"))
    client = client_for(teams["alice"])
    listed = client.get(f"/api/candidates/?experiment={experiment.pk}&status=evaluated").json()["results"]
    assert {(c["latency_device"], c["latency_hardware"]) for c in listed} == {("cpu", "cpu")}
    assert client.get(f"/api/experiments/{experiment.pk}/").json()["best"]["latency_device"] == "cpu"
    assert "<dt>Latency (CPU, batch 1)</dt>" in client.get(f"/candidates/{candidates[0].pk}/").content.decode()
    assert "Accuracy vs latency (CPU, batch 1)" in client.get(f"/experiments/{experiment.pk}/").content.decode()
    # One measured on a GPU: the leaderboard marks it, filters by device, and the Pareto view says the devices differ.
    Candidate.objects.filter(pk=candidates[0].pk).update(latency_device="cuda", latency_hardware="NVIDIA H200")
    gpu_search = launch(start=False, parallelism=1)
    gpu_search.config = {**gpu_search.config, "latency_device": "cuda"}
    gpu_search.save()
    rows = client.get(f"/api/leaderboard/?experiment={experiment.pk}").json()["results"]
    assert sorted(r["latency_device"] for r in rows) == ["cpu", "cuda"]
    gpu_only = client.get(f"/api/leaderboard/?experiment={experiment.pk}&latency_device=cuda").json()["results"]
    assert [r["id"] for r in gpu_only] == [candidates[0].pk]
    assert client.get("/api/leaderboard/?latency_device=tpu").status_code == 400
    assert client.get(f"/api/leaderboard/pareto/?experiment={experiment.pk}").json()["latency_devices"] == ["cpu"]
    assert client.get("/api/leaderboard/pareto/").json()["latency_devices"] == ["cpu", "cuda"]  # across both searches
    assert client.get(f"/api/leaderboard/pareto/?experiment={experiment.pk}&latency_device=cpu").json()["latency_devices"] == ["cpu"]
    board = client.get(f"/leaderboard/?experiment={experiment.pk}").content.decode()
    assert re.search(r'class="latency"><span[^>]*>[\d.]+ ms</span> <small class="muted">GPU</small>', board)
    assert '<option value="cuda" >GPU</option>' in board or 'value="cuda"' in board
    assert "Latency (GPU (NVIDIA H200), batch 1)" in client.get(f"/candidates/{candidates[0].pk}/").content.decode()
    model = client.get(f"/models/candidate/{candidates[0].pk}/")
    assert model.status_code == 200 and "Latency (GPU (NVIDIA H200), batch 1)" in model.content.decode()


# ---------------------------------------------------------------------- GPU latency needs a GPU worker
def fake_worker(monkeypatch, name: str, kind: str):
    """A worker's record as a real beacon writes it, for a device this machine does not have."""
    from webapp.studio.services import workers

    device = {"kind": kind, "label": "GPU 0 (NVIDIA H200)" if kind == "cuda" else "CPU", "gpu": "0"}
    monkeypatch.setattr(workers, "describe_device", lambda: device)
    beacon = workers.Beacon(name, ["train"])
    beacon.write()
    return beacon


def test_gpu_latency_is_refused_without_a_gpu_worker_and_accepted_with_one(teams, ready_dataset, client_for, redis_server,
                                                                          monkeypatch):
    from django.core.cache import cache

    from webapp.studio.services import workers

    for key in workers._redis().scan_iter(match=workers.KEY_PREFIX + "*"):
        workers._redis().delete(key)
    cache.clear()
    client = client_for(teams["alice"])
    form = {"team": teams["a"].pk, "family": "tvn", "dataset": ready_dataset.pk, "population": 2, "rounds": 0, "seed": 0,
            "low_steps": 2, "high_steps": 0, "batch_size": 8, "parallelism": 1, "num_threads": 1, "latency_device": "cuda"}
    response = client.post("/experiments/new/", form)
    assert response.status_code == 400
    assert "Latency on the GPU needs a training worker with a CUDA GPU: no training worker is running" in response.content.decode()
    api = client.post("/api/experiments/", {"family": "tvn", "dataset": ready_dataset.pk, "population": 2, "rounds": 0,
                                            "settings": {"latency_device": "cuda"}, "start": False}, content_type="application/json")
    assert api.status_code == 400 and "no training worker is running" in api.json()["latency_device"][0]
    cpu = fake_worker(monkeypatch, "cpu1@box", "cpu")
    api = client.post("/api/experiments/", {"family": "tvn", "dataset": ready_dataset.pk, "settings": {"latency_device": "cuda"},
                                            "start": False}, content_type="application/json")
    assert api.status_code == 400 and "none of the 1 training worker running has one" in api.json()["latency_device"][0]
    bad = client.post("/api/experiments/", {"family": "tvn", "dataset": ready_dataset.pk, "settings": {"latency_device": "tpu"},
                                            "start": False}, content_type="application/json")
    assert bad.status_code == 400 and "Must be one of cpu, cuda" in bad.json()["latency_device"][0]
    gpu = fake_worker(monkeypatch, "train-gpu0-1@box", "cuda")
    created = client.post("/api/experiments/", {"family": "tvn", "dataset": ready_dataset.pk, "population": 2, "rounds": 0,
                                                "settings": {"latency_device": "cuda", "precision": "bf16", "deterministic": True},
                                                "start": False}, content_type="application/json")
    assert created.status_code == 201, created.json()
    config = created.json()["config"]
    assert (config["latency_device"], config["precision"], config["deterministic"]) == ("cuda", "bf16", True)
    assert "no worker is running on the train queue" in created.json()["notice"]  # nobody answers Celery's broadcast here
    response = client.post("/experiments/new/", {**form, "precision": "fp16", "deterministic": "on", "start_now": ""})
    assert response.status_code == 302
    from webapp.studio.models import Experiment

    launched = Experiment.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))
    assert (launched.config["latency_device"], launched.config["precision"], launched.config["deterministic"]) == ("cuda", "fp16", True)
    page = client.get(f"/experiments/{launched.pk}/").content.decode()
    assert "<dt>latency_device</dt><dd>cuda</dd>" in page and "Accuracy vs latency (GPU, batch 1)" in page
    for beacon in (cpu, gpu):
        beacon.stop()


# ---------------------------------------------------------------------- the workers page, with a real worker
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_workers_page_lists_each_worker_its_device_and_what_it_trains(teams, launch, client_for, redis_server,
                                                                          studio_data_dir, processes):
    from webapp.studio.models import Candidate
    from webapp.studio.services import workers

    for key in workers._redis().scan_iter(match=workers.KEY_PREFIX + "*"):
        workers._redis().delete(key)
    alice, charlie = client_for(teams["alice"]), client_for(teams["charlie"])
    empty = alice.get("/workers/").content.decode()
    assert 'id="no-train-worker"' in empty and "No training worker is running" in empty
    assert alice.get("/api/workers/").json()["train_workers"] == 0

    worker = processes.worker("w1", redis_server.url, studio_data_dir)
    listed = alice.get("/api/workers/").json()
    assert listed["known"] and listed["train_workers"] == 1 and listed["gpu_train_workers"] == 0
    (record,) = listed["workers"]
    assert record["name"].startswith("w1@") and record["host"] and record["pid"] > 0
    assert record["device"]["kind"] == "cpu" and record["device"]["label"] == "CPU"
    assert record["busy"] is False and record["task"] is None and record["trains"] and record["age_s"] < 10
    assert set(record["queues"]) == {"default", "train"}

    experiment = launch(parallelism=1, low_steps=60, population=2, rounds=0)
    wait_until(lambda: Candidate.objects.filter(experiment=experiment, status="running").exists(), 120, "a candidate in training",
               [worker])
    training = Candidate.objects.get(experiment=experiment, status="running")
    wait_until(lambda: alice.get("/api/workers/").json()["workers"][0]["busy"], 30, "the worker listed busy", [worker])
    (busy,) = alice.get("/api/workers/").json()["workers"]
    assert busy["busy"] and busy["task"]["kind"] == "candidate" and busy["task"]["id"] == training.pk
    assert busy["task"]["label"] == f"tiny · {training.name}" and busy["task"]["url"] == f"/candidates/{training.pk}/"
    page = alice.get("/workers/").content.decode()
    assert f'<a href="/candidates/{training.pk}/">tiny · {training.name}</a>' in page and 'data-busy="true"' in page
    assert 'data-device="cpu"' in page and "CPU" in page
    # Another team sees the worker busy, not what it trains.
    (hidden,) = charlie.get("/api/workers/").json()["workers"]
    assert hidden["busy"] and hidden["task"]["label"] == "another team's work" and hidden["task"]["url"] is None
    assert "id" not in hidden["task"] and training.name not in charlie.get("/workers/").content.decode()
    assert client_for(None).get("/api/workers/").status_code in (401, 403)
    assert client_for(None).get("/workers/").status_code == 302

    wait_until(lambda: type(experiment).objects.get(pk=experiment.pk).status == "finished", 200, "the search to finish", [worker])
    experiment.refresh_from_db()
    assert experiment.status == "finished", worker.output()[-3000:]
    wait_until(lambda: not alice.get("/api/workers/").json()["workers"][0]["busy"], 15, "the worker listed idle", [worker])
    (idle,) = alice.get("/api/workers/").json()["workers"]
    assert not idle["busy"] and idle["task"] is None and idle["tasks_done"] >= 2
    worker.stop()
    assert alice.get("/api/workers/").json()["workers"] == []  # a stopped worker leaves the list
