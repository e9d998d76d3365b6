"""Real services: a private Redis, real Celery worker processes (solo pool) and the test database
in a file. Events go worker -> Redis -> the consumer; a worker killed with SIGKILL mid-candidate
loses nothing and duplicates nothing."""
from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from waiting import training_now, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(420)]


def test_two_workers_run_a_search_and_a_viewer_sees_every_event_once(teams, launch, redis_server, studio_data_dir,
                                                                     processes, client_for):
    from django.test import Client

    from webapp.asgi import application
    from webapp.studio import services

    w1 = processes.worker("w1", redis_server.url, studio_data_dir)
    w2 = processes.worker("w2", redis_server.url, studio_data_dir)
    experiment = launch(start=False)
    client = Client()
    client.force_login(teams["bob"])
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()

    async def watch():
        ws = WebsocketCommunicator(application, f"/ws/experiments/{experiment.pk}/",
                                   headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", cookie)])
        assert (await ws.connect())[0]
        await ws.send_json_to({"type": "replay", "after": 0})
        events = []
        started = False
        while True:
            message = await ws.receive_json_from(timeout=240)
            if message["kind"] == "replayed" and not started:
                started = True
                await sync_to_async(services.start_experiment)(experiment.pk)
            if message["kind"] != "event":
                continue
            events.append(message)
            if message["type"] == "status" and message["payload"]["status"] in ("finished", "failed"):
                await ws.disconnect()
                return events

    events = async_to_sync(watch)()
    experiment.refresh_from_db()
    assert experiment.status == "finished", (experiment.error, w1.output()[-2000:], w2.output()[-2000:])
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, experiment.last_seq + 1))  # every stored event, once, in order
    evaluated = [e for e in events if e["type"] == "candidate_evaluated"]
    assert len(evaluated) == 4 and all(0 <= e["payload"]["accuracy"] <= 1 for e in evaluated)
    assert evaluated[-1]["payload"]["progress"]["evaluated"] == 4
    workers = {e["payload"]["worker"].split("@")[0] for e in events if e["type"] == "candidate_started"}
    assert workers == {"w1", "w2"}  # two candidates evaluated at once, one per worker
    assert experiment.candidates.filter(status="evaluated").count() == 4
    # The API shows the same result.
    data = client_for(teams["alice"]).get(f"/api/experiments/{experiment.pk}/").json()
    assert data["status"] == "finished" and data["progress"]["evaluated"] == 4 and data["best"]["accuracy"] is not None


def test_a_worker_killed_mid_candidate_loses_nothing(launch, redis_server, studio_data_dir, processes):
    from webapp.studio.models import Candidate

    worker = processes.worker("w1", redis_server.url, studio_data_dir)
    # One candidate at a time, long enough to be caught in training.
    experiment = launch(parallelism=1, low_steps=40)
    training = Candidate.objects.filter(experiment=experiment, status="running")
    wait_until(lambda: training.exists(), 120, "a candidate in training", [worker])
    victim = training.get()
    wait_until(lambda: training_now("candidate", victim.pk), 60, "the worker busy with it", [worker])
    worker.kill()  # SIGKILL: no clean-up, the message stays unacknowledged
    victim.refresh_from_db()
    assert victim.status == "running" and victim.claimed_by.startswith("w1@")
    # The whole stack comes back: the same worker name again.
    again = processes.worker("w1", redis_server.url, studio_data_dir)
    wait_until(lambda: type(experiment).objects.get(pk=experiment.pk).status == "finished", 300, "the search to finish", [again])
    experiment.refresh_from_db()
    candidates = list(experiment.candidates.order_by("index"))
    config = experiment.search_config()
    assert sum(c.status == "evaluated" for c in candidates) == config.population * (config.rounds + 1)
    assert [c.index for c in candidates] == list(range(len(candidates)))  # no duplicate and no hole
    victim.refresh_from_db()
    assert victim.status == "evaluated" and victim.attempt == 2
    events = list(experiment.events.values_list("seq", "type", "payload"))
    assert [seq for seq, _, _ in events] == list(range(1, experiment.last_seq + 1))
    assert any(t == "candidate_interrupted" and p["candidate_id"] == victim.name for _, t, p in events)
    assert sum(t == "candidate_evaluated" and p["candidate_id"] == victim.name for _, t, p in events) == 1
