"""The experiment WebSocket through the real ASGI stack (origin check, session auth) and a real
Redis channel layer: who may listen, replay after a seq, live events, gaps and duplicates."""
from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

pytestmark = pytest.mark.django_db(transaction=True)


def communicator(experiment_id, cookie=None, origin=b"http://127.0.0.1:8000"):
    from webapp.asgi import application

    headers = [(b"origin", origin), (b"host", b"127.0.0.1:8000")]
    if cookie is not None:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, f"/ws/experiments/{experiment_id}/", headers=headers)


def add_events(experiment, count, publish=True):
    """Store ``count`` events; with publish=False they are stored only (as if the publish was lost)."""
    from django.db import transaction

    from webapp.studio import progress
    from webapp.studio.models import Event, Experiment

    with transaction.atomic():
        locked = Experiment.objects.select_for_update().get(pk=experiment.pk)
        if publish:
            return [progress.record_event(locked, "note", {"n": i}).seq for i in range(count)]
        seqs = []
        for i in range(count):
            locked.last_seq += 1
            Event.objects.create(experiment=locked, seq=locked.last_seq, type="note", payload={"n": i})
            seqs.append(locked.last_seq)
        locked.save(update_fields=["last_seq"])
        return seqs


async def receive_events(ws, until_seq, timeout=10.0):
    """Every message until the event with seq ``until_seq`` arrives."""
    got = []
    while True:
        message = await ws.receive_json_from(timeout=timeout)
        got.append(message)
        if message.get("kind") == "event" and message["seq"] >= until_seq:
            return got


async def refused_with(ws) -> int:
    connected, _ = await ws.connect()
    assert connected  # accepted, then closed with a reason the browser can read
    message = await ws.receive_output(timeout=5)
    assert message["type"] == "websocket.close"
    await ws.wait()
    return message["code"]


@pytest.mark.parametrize("who, code", [(None, 4403), ("charlie", 4404)])
def test_anonymous_and_outsiders_are_refused(experiment, cookies, who, code):
    ws = communicator(experiment.pk, cookies[who] if who else None)
    assert async_to_sync(refused_with)(ws) == code


def test_unknown_experiment_and_foreign_origin_are_refused(experiment, cookies):
    assert async_to_sync(refused_with)(communicator(experiment.pk + 999, cookies["alice"])) == 4404

    async def foreign():
        ws = communicator(experiment.pk, cookies["alice"], origin=b"http://evil.example")
        connected, _ = await ws.connect()
        await ws.disconnect()
        return connected

    assert async_to_sync(foreign)() is False


def test_outsider_receives_nothing_of_another_team(experiment, cookies):
    """charlie is refused; alice, connected at the same time, gets the event."""

    async def scenario():
        alice = communicator(experiment.pk, cookies["alice"])
        assert (await alice.connect())[0]
        await alice.send_json_to({"type": "replay", "after": experiment.last_seq})
        assert (await alice.receive_json_from(timeout=5)) == {"kind": "replayed", "last_seq": experiment.last_seq}
        charlie = communicator(experiment.pk, cookies["charlie"])
        assert await refused_with(charlie) == 4404
        (seq,) = await sync_to_async(add_events)(experiment, 1)
        got = await receive_events(alice, seq)
        await alice.disconnect()
        return got

    got = async_to_sync(scenario)()
    assert [m["seq"] for m in got] == [experiment.last_seq + 1]


def test_replay_then_live_then_reconnect_sees_every_event_once(experiment, cookies):
    async def scenario():
        stored = await sync_to_async(add_events)(experiment, 3)  # before anyone listens: seq 2..4
        bob = communicator(experiment.pk, cookies["bob"])
        assert (await bob.connect())[0]
        await bob.send_json_to({"type": "replay", "after": 0})
        replayed = await receive_events(bob, stored[-1])
        assert await bob.receive_json_from(timeout=5) == {"kind": "replayed", "last_seq": stored[-1]}
        live = await sync_to_async(add_events)(experiment, 2)
        got_live = await receive_events(bob, live[-1])
        await bob.disconnect()
        # Offline: two more events happen; a reconnect from the last seq gets exactly those.
        missed = await sync_to_async(add_events)(experiment, 2)
        again = communicator(experiment.pk, cookies["bob"])
        assert (await again.connect())[0]
        await again.send_json_to({"type": "replay", "after": live[-1]})
        got_again = await receive_events(again, missed[-1])
        assert await again.receive_json_from(timeout=5) == {"kind": "replayed", "last_seq": missed[-1]}
        assert await again.receive_nothing(timeout=0.3)
        await again.disconnect()
        return replayed, got_live, got_again, stored, live, missed

    replayed, got_live, got_again, stored, live, missed = async_to_sync(scenario)()
    assert [m["seq"] for m in replayed] == [1, *stored]
    assert replayed[0]["type"] == "status" and replayed[1] == {**replayed[1], "kind": "event", "type": "note", "payload": {"n": 0}}
    assert [m["seq"] for m in got_live] == live
    assert [m["seq"] for m in got_again] == missed


def test_lost_publish_is_filled_from_the_database_and_duplicates_are_dropped(experiment, cookies):
    from webapp.studio import progress
    from webapp.studio.models import Event

    async def scenario():
        ws = communicator(experiment.pk, cookies["alice"])
        assert (await ws.connect())[0]
        await ws.send_json_to({"type": "replay", "after": 0})
        await receive_events(ws, 1)
        await ws.receive_json_from(timeout=5)  # replayed
        lost = await sync_to_async(add_events)(experiment, 2, publish=False)  # seq 2, 3 never published
        (seq,) = await sync_to_async(add_events)(experiment, 1)  # seq 4 published
        got = await receive_events(ws, seq)
        # A duplicate of an event already sent (a retried publish) is not forwarded.
        message = (await sync_to_async(Event.objects.get)(experiment=experiment, seq=seq)).message()
        await sync_to_async(progress.publish)(experiment.pk, message)
        assert await ws.receive_nothing(timeout=0.5)
        await ws.disconnect()
        return lost, seq, got

    lost, seq, got = async_to_sync(scenario)()
    assert [m["seq"] for m in got] == [*lost, seq]


def test_bad_messages_get_an_error_not_a_crash(experiment, cookies):
    async def scenario():
        ws = communicator(experiment.pk, cookies["alice"])
        assert (await ws.connect())[0]
        await ws.send_json_to({"type": "replay", "after": -3})
        first = await ws.receive_json_from(timeout=5)
        await ws.send_json_to({"hello": 1})
        second = await ws.receive_json_from(timeout=5)
        await ws.send_json_to({"type": "replay", "after": 0})
        third = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        return first, second, third

    first, second, third = async_to_sync(scenario)()
    assert first["kind"] == "error" and "after" in first["detail"]
    assert second["kind"] == "error"
    assert third["kind"] == "event" and third["seq"] == 1


def test_idle_connection_survives_longer_than_a_socket_timeout(experiment, cookies, settings):
    """channels_redis#422: with redis-py's 5 s default socket timeout an idle consumer died."""
    assert settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["socket_timeout"] is None

    async def scenario():
        ws = communicator(experiment.pk, cookies["alice"])
        assert (await ws.connect())[0]
        await ws.send_json_to({"type": "replay", "after": experiment.last_seq})
        await ws.receive_json_from(timeout=5)
        await asyncio.sleep(6)
        (seq,) = await sync_to_async(add_events)(experiment, 1)
        got = await receive_events(ws, seq)
        await ws.disconnect()
        return seq, got

    seq, got = async_to_sync(scenario)()
    assert [m["seq"] for m in got] == [seq]


def test_another_teams_experiment_looks_like_one_that_does_not_exist(experiment, cookies):
    foreign = async_to_sync(refused_with)(communicator(experiment.pk, cookies["charlie"]))
    missing = async_to_sync(refused_with)(communicator(experiment.pk + 999, cookies["charlie"]))
    huge = async_to_sync(refused_with)(communicator(10**30, cookies["charlie"]))
    assert foreign == missing == huge == 4404


def test_hostile_frames_are_answered_and_the_socket_stays_up(experiment, cookies, caplog):
    frames = ["not json", '{"type": "replay", "after": NaN}', "[" * 100_000 + "]" * 100_000, '{"type": "replay", "after": 1e400}',
              '{"type": "replay", "after": 99999999999999999999999}', '"just a string"', '{"a": ' * 20 + "1" + "}" * 20]

    async def scenario():
        ws = communicator(experiment.pk, cookies["alice"])
        assert (await ws.connect())[0]
        answers = []
        for frame in frames:
            await ws.send_to(text_data=frame)
            answers.append(await ws.receive_json_from(timeout=5))
        await ws.send_to(bytes_data=b"\x00\xff binary")
        answers.append(await ws.receive_json_from(timeout=5))
        await ws.send_json_to({"type": "replay", "after": 0})
        replay = await receive_events(ws, experiment.last_seq)
        await ws.disconnect()
        return answers, replay

    answers, replay = async_to_sync(scenario)()
    assert [a["kind"] for a in answers] == ["error"] * (len(frames) + 1), answers
    assert [m["seq"] for m in replay if m.get("kind") == "event"] == list(range(1, experiment.last_seq + 1))
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")], caplog.text
