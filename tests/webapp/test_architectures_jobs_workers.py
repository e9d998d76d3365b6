"""Back into training and search, with real services: a private Redis, real Celery worker processes
(solo pool), the test database in a file, and the WebSocket fed by the worker through Redis.

- evaluate a saved AssembleNet version: live progress and learned edge weights arrive, and the
  result lands on the evaluation;
- seed a version into a new search: it is trained there with its hand-edited lineage;
- inject a version into a running search and SIGKILL the worker meanwhile: one evaluation of it.
A worker killed mid-evaluation (the evaluation redone once, recorded once) is in test_jobs_workers,
with every other kind of job.
"""
from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from waiting import training_now, wait_until

from videomodels.presets import get_preset


pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(420)]


def save(teams, preset: str, name: str):
    from webapp.architectures import services

    return services.create_architecture(user=teams["bob"], team=teams["a"], name=name, spec=get_preset(preset).to_dict(),
                                        origin="preset", preset=preset)


def cookie_of(user) -> bytes:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def test_evaluate_a_version_live_progress_weights_and_result(teams, flow_dataset, worker):
    from webapp.architectures import jobs
    from webapp.architectures.evaluations import Evaluation
    from webapp.asgi import application

    version = save(teams, "assemblenet-small", "asn")  # the shared worker pushes weights every 0.1 s: a short run shows several
    cookie = cookie_of(teams["alice"])

    async def watch(evaluation_id):
        ws = WebsocketCommunicator(application, f"/ws/evaluations/{evaluation_id}/",
                                   headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", cookie)])
        assert (await ws.connect())[0]
        messages = []
        while True:
            message = await ws.receive_json_from(timeout=180)
            messages.append(message)
            if message["kind"] == "evaluation" and message["status"] in ("evaluated", "failed"):
                await ws.disconnect()
                return messages

    evaluation = jobs.create_evaluation(user=teams["alice"], version=version, dataset=flow_dataset, steps=8, batch_size=4, seed=1)
    messages = async_to_sync(watch)(evaluation.pk)
    evaluation = Evaluation.objects.get(pk=evaluation.pk)
    assert evaluation.status == "evaluated", (evaluation.reason, worker.output()[-3000:])
    from videomodels import ArchSpec, analyze

    assert 0 <= evaluation.accuracy <= 1 and evaluation.latency_ms > 0
    # What trained is the version fitted to the data: its classifier has the data's 4 classes.
    assert evaluation.params == analyze(ArchSpec.from_dict(evaluation.spec)).params != version.params
    assert evaluation.notes == ["head: 10 classes -> 4"]
    assert [s for s, _ in evaluation.losses] == list(range(1, 9)) and evaluation.attempt == 1
    # Learned weights: on the row (one per fused edge), and the final state carries them.
    fused = {(w["source"], w["target"]) for w in evaluation.edge_weights}
    assert fused and all(0 < w["weight"] < 1 for w in evaluation.edge_weights)
    assert messages[-1]["edge_weights"] == evaluation.edge_weights
    # Live: states with progress, and weight vectors aligned with the spec's edges that change as it learns.
    states = [m for m in messages if m["kind"] == "evaluation"]
    assert any(m["status"] == "running" for m in states)
    vectors = [m["weights"] for m in messages if m["kind"] == "weights"]
    assert len(vectors) >= 2 and all(len(v) == len(evaluation.spec["edges"]) for v in vectors)
    ends = [(e["source"], e["target"]) for e in evaluation.spec["edges"]]
    assert all((v is not None) == (end in fused) for v, end in zip(vectors[0], ends))
    assert vectors[0] != vectors[-1]


def test_seed_a_version_into_a_new_search(teams, ready_dataset, worker, launch):
    from webapp.architectures import jobs

    version = save(teams, "tvn-small", "mine")
    seeds = jobs.seeds_for(teams["alice"], [version], dataset=ready_dataset, family="tvn", max_params=2_000_000, population=2)
    experiment = launch(seeds=seeds)
    wait_until(lambda: type(experiment).objects.get(pk=experiment.pk).status == "finished", 240, "the search to finish", [worker])
    seeded = experiment.candidates.get(index=0)
    assert seeded.status == "evaluated" and seeded.parent is None and seeded.spec == seeds[0]["spec"]
    assert seeded.mutation == "hand-edited by bob from mine v1 (preset tvn-small); adapted: head: 10 classes -> 4"
    # A member of the population like any other: the next generation's children have parents among it.
    assert all(c.parent is not None for c in experiment.candidates.filter(generation=1))
    assert experiment.candidates.filter(status="evaluated").count() == 4


def test_inject_into_a_running_search_with_a_worker_killed_meanwhile(teams, redis_server, studio_data_dir, processes, launch):
    from webapp.architectures import jobs
    from webapp.studio import services
    from webapp.studio.models import Candidate

    version = save(teams, "tvn-small", "mine")
    worker = processes.worker("w1", redis_server.url, studio_data_dir)
    experiment = launch(parallelism=1, low_steps=30)
    injected = jobs.inject_version(user=teams["alice"], experiment_id=experiment.pk, version=version)
    training = Candidate.objects.filter(pk=injected.pk, status="running")
    wait_until(lambda: training.exists(), 240, "the injected candidate in training", [worker])
    wait_until(lambda: training_now("candidate", injected.pk), 60, "the worker busy with it", [worker])
    worker.kill()
    again = processes.worker("w1", redis_server.url, studio_data_dir)
    wait_until(lambda: type(experiment).objects.get(pk=experiment.pk).status == "finished", 300, "the search to finish", [again])
    experiment.refresh_from_db()
    injected.refresh_from_db()
    assert injected.status == "evaluated" and injected.attempt == 2 and injected.mutation.startswith("hand-edited by bob")
    candidates = list(experiment.candidates.order_by("index"))
    assert [c.index for c in candidates] == list(range(len(candidates)))
    assert sum(c.status == "evaluated" for c in candidates) == 4
    events = list(experiment.events.values_list("type", "payload"))
    assert sum(t == "candidate_evaluated" and p["candidate_id"] == injected.name for t, p in events) == 1
    # Replay: the engine rebuilt from the stored history (injected included) is the state the search had,
    # and proposes the same next candidates every time it is rebuilt.
    first, second = services.build_engine(experiment), services.build_engine(experiment)
    assert injected.name in [c["id"] for c in first.candidates]
    nxt = len(candidates)
    assert first.propose(index=nxt) == second.propose(index=nxt)


def test_an_assemblenet_candidate_pushes_its_learned_weights_live(teams, flow_dataset, worker):
    from archsearch.config import SearchConfig
    from webapp.asgi import application
    from webapp.studio import services

    experiment = services.create_experiment(
        team=teams["a"], user=teams["alice"], name="asn", dataset=flow_dataset, parallelism=1, start=False,
        config=SearchConfig(family="assemblenet", population=2, rounds=0, low_steps=6, high_steps=0, batch_size=4, num_threads=1,
                            latency_runs=2))
    cookie = cookie_of(teams["bob"])

    async def watch():
        from asgiref.sync import sync_to_async

        ws = WebsocketCommunicator(application, f"/ws/experiments/{experiment.pk}/",
                                   headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", cookie)])
        assert (await ws.connect())[0]
        await ws.send_json_to({"type": "replay", "after": 0})
        weights, started = [], False
        while True:
            message = await ws.receive_json_from(timeout=240)
            if message["kind"] == "replayed" and not started:
                started = True
                await sync_to_async(services.start_experiment)(experiment.pk)
            if message["kind"] == "weights":
                weights.append(message)
            if message["kind"] == "event" and message["type"] == "status" and message["payload"]["status"] in ("finished", "failed"):
                await ws.disconnect()
                return weights

    weights = async_to_sync(watch)()
    experiment.refresh_from_db()
    assert experiment.status == "finished", (experiment.error, worker.output()[-3000:])
    for candidate in experiment.candidates.all():
        mine = [m["weights"] for m in weights if m["candidate"] == candidate.pk]
        assert mine and all(len(v) == len(candidate.spec["edges"]) for v in mine)
        # The last pushed vector is close to the final stored weights (a few steps later at most).
        final = {(w["source"], w["target"]): w["weight"] for w in candidate.edge_weights}
        ends = [(e["source"], e["target"]) for e in candidate.spec["edges"]]
        assert {end for v, end in zip(mine[-1], ends) if v is not None} == set(final)
