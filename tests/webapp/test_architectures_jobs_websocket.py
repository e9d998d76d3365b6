"""The evaluation socket (/ws/evaluations/<id>/) and the live-weights messages of the experiment
socket, through the real ASGI stack and a Redis channel layer: who may listen (4403 anonymous,
4404 another team's or missing, as on the experiment socket), the state on connect, live states
and weight vectors."""
from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from videomodels.presets import get_preset

from test_studio_websocket import refused_with

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def evaluation(teams, ready_dataset, redis_server):
    from webapp.architectures import services
    from webapp.architectures.evaluations import Evaluation

    version = services.create_architecture(user=teams["bob"], team=teams["a"], name="mine", spec=get_preset("tvn-small").to_dict())
    # Created directly: no worker in these tests, and nothing is queued.
    return Evaluation.objects.create(version=version, dataset=ready_dataset, steps=3, batch_size=4, spec=version.spec)


def socket(path, cookie=None):
    from webapp.asgi import application

    headers = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]
    if cookie is not None:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, path, headers=headers)


@pytest.mark.parametrize("who, code", [(None, 4403), ("charlie", 4404)])
def test_anonymous_and_outsiders_are_refused(evaluation, cookies, who, code):
    assert async_to_sync(refused_with)(socket(f"/ws/evaluations/{evaluation.pk}/", cookies.get(who))) == code


def test_missing_and_huge_ids_look_the_same(evaluation, cookies):
    for pk in (evaluation.pk + 999, 2**70):
        assert async_to_sync(refused_with)(socket(f"/ws/evaluations/{pk}/", cookies["alice"])) == 4404


def test_state_on_connect_then_live_states_and_weights(evaluation, cookies):
    from django.db import transaction

    from webapp.architectures.evaluation_job import publish_state
    from webapp.jobs.publisher import EvaluationWeights, send

    async def run():
        ws = socket(f"/ws/evaluations/{evaluation.pk}/", cookies["bob"])
        assert (await ws.connect())[0]
        first = await ws.receive_json_from(timeout=5)
        assert first["kind"] == "evaluation" and first["status"] == "queued" and first["steps"] == 3

        def change():
            with transaction.atomic():
                evaluation.status, evaluation.step = "running", 2
                evaluation.save()
                publish_state(evaluation)
            send(EvaluationWeights(evaluation.pk, 2, [0.5, None]))

        from asgiref.sync import sync_to_async

        await sync_to_async(change)()
        state = await ws.receive_json_from(timeout=5)
        weights = await ws.receive_json_from(timeout=5)
        assert (state["status"], state["step"]) == ("running", 2)
        assert weights == {"kind": "weights", "step": 2, "weights": [0.5, None]}
        await ws.send_to(text_data="hello")
        assert (await ws.receive_json_from(timeout=5))["kind"] == "error"
        await ws.disconnect()

    async_to_sync(run)()


def test_experiment_socket_carries_live_weights_after_the_replay(experiment, cookies):
    from webapp.jobs.publisher import ExperimentWeights, send

    async def run():
        ws = socket(f"/ws/experiments/{experiment.pk}/", cookies["alice"])
        assert (await ws.connect())[0]
        await ws.send_json_to({"type": "replay", "after": experiment.last_seq})
        assert (await ws.receive_json_from(timeout=5))["kind"] == "replayed"
        from asgiref.sync import sync_to_async

        await sync_to_async(send)(ExperimentWeights(experiment.pk, 7, 3, [0.25]))
        assert await ws.receive_json_from(timeout=5) == {"kind": "weights", "candidate": 7, "step": 3, "weights": [0.25]}
        await ws.disconnect()

    async_to_sync(run)()


def test_weights_vector_follows_the_spec_edges():
    from webapp.studio.live import LiveWeights, weights_vector

    spec = {"edges": [{"source": "a", "target": "c"}, {"source": "b", "target": "c"}, {"source": "c", "target": "d"}]}
    assert weights_vector(spec, [{"source": "b", "target": "c", "weight": 0.123456}, {"source": "a", "target": "c", "weight": 0.9}]) \
        == [0.9, 0.1235, None]
    sent = []
    live = LiveWeights(spec, lambda vector, step: sent.append(step), interval=3600)
    live.on_model(object())  # no fusion weights: nothing to send
    live.on_step(1, 1, 0.5, 0.1)
    assert sent == []


def test_watchdog_requeues_a_silent_workers_evaluation_and_leaves_a_live_one(evaluation, settings):
    from datetime import timedelta

    from django.utils import timezone

    from webapp.architectures.evaluations import Evaluation
    from webapp.jobs.recovery import watchdog

    Evaluation.objects.filter(pk=evaluation.pk).update(status="running", claimed_by="w9@host:1", attempt=1,
                                                       heartbeat_at=timezone.now())
    assert watchdog("evaluation", evaluation.pk) == "alive"
    stale = timezone.now() - timedelta(seconds=settings.STUDIO_HEARTBEAT_TIMEOUT + 1)
    Evaluation.objects.filter(pk=evaluation.pk).update(heartbeat_at=stale)
    assert watchdog("evaluation", evaluation.pk) == "requeued"
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.claimed_by) == ("queued", "")
    assert watchdog("evaluation", evaluation.pk) == "done"
