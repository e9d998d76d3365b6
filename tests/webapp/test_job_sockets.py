"""Every job's page can follow it: /ws/jobs/<kind>/<id>/ sends the job's state on connect and each change
its kind records (claim, heartbeat, result), through the real ASGI stack and a Redis channel layer; who may
listen is decided like every team-scoped socket (4403 anonymous, 4404 another team's, missing or unknown kind).
An ensemble's page said "Queued" after its job had finished: its kind told nobody."""
from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from test_architectures_jobs_websocket import socket
from test_studio_websocket import refused_with

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ensemble(teams, ready_dataset, redis_server):
    from webapp.review.models import Ensemble

    return Ensemble.objects.create(team=teams["a"], created_by=teams["bob"], name="pair")  # no worker here: nothing is queued


@pytest.mark.parametrize("who, code", [(None, 4403), ("charlie", 4404)])
def test_anonymous_and_outsiders_are_refused(ensemble, cookies, who, code):
    assert async_to_sync(refused_with)(socket(f"/ws/jobs/ensemble/{ensemble.pk}/", cookies.get(who))) == code


def test_missing_ids_and_unknown_kinds_look_the_same(ensemble, cookies):
    for path in (f"/ws/jobs/ensemble/{ensemble.pk + 999}/", f"/ws/jobs/ensemble/{2**70}/", f"/ws/jobs/nothing/{ensemble.pk}/"):
        assert async_to_sync(refused_with)(socket(path, cookies["alice"])) == 4404


def test_state_on_connect_then_every_recorded_change(ensemble, cookies):
    from webapp.jobs.claims import claim, record
    from webapp.review.ensembles import ENSEMBLE

    async def run():
        ws = socket(f"/ws/jobs/ensemble/{ensemble.pk}/", cookies["dave"] if "dave" in cookies else cookies["bob"])
        assert (await ws.connect())[0]
        first = await ws.receive_json_from(timeout=5)
        assert (first["kind"], first["job"], first["status"], first["status_label"]) == ("job", "ensemble", "queued", "Queued")
        taken = await sync_to_async(claim)(ENSEMBLE, ensemble.pk, "test:1")
        running = await ws.receive_json_from(timeout=5)
        assert (running["status"], running["status_label"], running["stage"]) == ("running", "Evaluating", "starting")
        result = {"status": "evaluated", "accuracy": 0.5, "member_accuracy": {}}
        assert await sync_to_async(record)(ENSEMBLE, taken, result)
        done = await ws.receive_json_from(timeout=5)
        assert (done["status"], done["status_label"], done["progress"]) == ("evaluated", "Evaluated", 1.0)
        await ws.disconnect()

    async_to_sync(run)()
