"""Sockets follow membership: removing a member closes their open sockets at once (4404) and no
group message reaches them afterwards; lowering a role tells the socket (and it stays, since a
viewer still reads). Through the real ASGI stack (session auth, origin check) and a real Redis
channel layer, with the changes made by the services the team page calls."""
from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(teams, ready_dataset, redis_server):
    from archsearch.config import SearchConfig
    from webapp.studio import services

    experiment = services.create_experiment(team=teams["a"], user=teams["alice"], name="ws", dataset=ready_dataset,
                                            config=SearchConfig(family="tvn", population=2, rounds=1), start=False)
    return {**teams, "experiment": experiment}


def cookie_of(user) -> bytes:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def socket(path: str, cookie: bytes) -> WebsocketCommunicator:
    from webapp.asgi import application

    return WebsocketCommunicator(application, path, headers=[(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000"),
                                                              (b"cookie", cookie)])


def membership(world, name):
    from webapp.teams.models import Membership

    return Membership.objects.get(user=world[name], team=world["a"])


def remove(world, name):
    from webapp.teams import members

    members.remove_member(team=world["a"], by=world["alice"], membership=membership(world, name))


def demote(world, name, role):
    from webapp.teams import members

    members.set_role(team=world["a"], by=world["alice"], membership=membership(world, name), role=role)


def tag(world):
    """A change of team A that goes to the activity feed."""
    from webapp.review import services

    candidate, _ = world["experiment"].candidates.get_or_create(index=9, name="c0009", defaults={"spec": {}, "spec_hash": "h"})
    subject = services.subject_for_candidate(candidate)
    services.add_tag(subject, world["alice"], f"t{subject.tags.count()}")


def add_event(world):
    from django.db import transaction

    from webapp.studio import progress
    from webapp.studio.models import Experiment

    with transaction.atomic():
        return progress.record_event(Experiment.objects.select_for_update().get(pk=world["experiment"].pk), "note", {}).seq


async def output_until_close(ws, timeout=5.0) -> list[dict]:
    """Every frame the server sends, up to and including its close."""
    got = []
    while True:
        message = await ws.receive_output(timeout=timeout)
        got.append(message)
        if message["type"] == "websocket.close":
            return got


def test_a_removed_member_is_closed_at_once_and_hears_nothing_more(world):
    bob, alice = cookie_of(world["bob"]), cookie_of(world["alice"])
    team, experiment = world["a"].pk, world["experiment"].pk

    async def scenario():
        feed, events, watching = (socket(f"/ws/teams/{team}/", bob), socket(f"/ws/experiments/{experiment}/", bob),
                                  socket(f"/ws/teams/{team}/", alice))
        for ws in (feed, events, watching):
            assert (await ws.connect())[0]
        await events.send_json_to({"type": "replay", "after": 0})
        assert (await events.receive_json_from(timeout=5))["kind"] == "event"
        assert (await events.receive_json_from(timeout=5))["kind"] == "replayed"
        await sync_to_async(tag)(world)  # before the removal: bob may read it
        assert (await feed.receive_json_from(timeout=5))["action"] == "tag.added"
        assert (await watching.receive_json_from(timeout=5))["action"] == "tag.added"

        await sync_to_async(remove)(world, "bob")
        closed_feed = await output_until_close(feed)
        closed_events = await output_until_close(events)
        # alice, still a member, hears of the removal; then of the next change.
        assert (await watching.receive_json_from(timeout=5))["action"] == "member.removed"
        await sync_to_async(tag)(world)
        await sync_to_async(add_event)(world)
        assert (await watching.receive_json_from(timeout=5))["action"] == "tag.added"
        await watching.disconnect()
        return closed_feed, closed_events

    closed_feed, closed_events = async_to_sync(scenario)()
    # Not even the entry that announces the removal reached bob: the socket closed first.
    assert closed_feed == [{"type": "websocket.close", "code": 4404}]
    assert closed_events == [{"type": "websocket.close", "code": 4404}]


def test_a_removed_member_reconnecting_is_refused(world):
    bob = cookie_of(world["bob"])
    remove(world, "bob")

    async def scenario():
        ws = socket(f"/ws/teams/{world['a'].pk}/", bob)
        assert (await ws.connect())[0]
        return await output_until_close(ws)

    assert async_to_sync(scenario)() == [{"type": "websocket.close", "code": 4404}]


def test_a_lowered_role_is_told_and_the_socket_keeps_reading(world):
    bob = cookie_of(world["bob"])
    experiment = world["experiment"].pk

    async def scenario():
        ws = socket(f"/ws/experiments/{experiment}/", bob)
        assert (await ws.connect())[0]
        await ws.send_json_to({"type": "replay", "after": 0})
        await ws.receive_json_from(timeout=5)
        assert (await ws.receive_json_from(timeout=5))["kind"] == "replayed"
        await sync_to_async(demote)(world, "bob", "viewer")
        access = await ws.receive_json_from(timeout=5)
        seq = await sync_to_async(add_event)(world)
        event = await ws.receive_json_from(timeout=5)  # a viewer still reads the search
        await sync_to_async(demote)(world, "bob", "member")
        raised = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        return access, seq, event, raised

    access, seq, event, raised = async_to_sync(scenario)()
    assert access == {"kind": "access", "role": "viewer", "can_change": False}
    assert event["kind"] == "event" and event["seq"] == seq
    assert raised == {"kind": "access", "role": "member", "can_change": True}


def test_a_membership_deleted_anywhere_closes_the_sockets(world):
    """Not only through the team page: the admin, a deleted team or user, the ORM."""
    bob = cookie_of(world["bob"])

    async def scenario():
        ws = socket(f"/ws/experiments/{world['experiment'].pk}/", bob)
        assert (await ws.connect())[0]
        await ws.send_json_to({"type": "replay", "after": 0})  # listening for sure: it answers
        assert (await ws.receive_json_from(timeout=5))["kind"] == "event"
        assert (await ws.receive_json_from(timeout=5))["kind"] == "replayed"
        await sync_to_async(lambda: membership(world, "bob").delete())()
        return await output_until_close(ws)

    assert async_to_sync(scenario)() == [{"type": "websocket.close", "code": 4404}]


def test_a_frame_no_json_parser_accepts_is_an_error_not_a_crash(world):
    """A 5,000-digit integer (Python's json refuses it with ValueError), a NUL, deep nesting: the socket stays up."""
    bob = cookie_of(world["bob"])

    async def scenario():
        ws = socket(f"/ws/experiments/{world['experiment'].pk}/", bob)
        assert (await ws.connect())[0]
        answers = []
        for frame in ('{"type": "replay", "after": ' + "9" * 5000 + "}", '{"type": "replay\\u0000"}', "[" * 100000,
                      '"\\ud800"', "\xff"):
            await ws.send_to(text_data=frame)
            answers.append(await ws.receive_json_from(timeout=5))
        await ws.send_json_to({"type": "replay", "after": 0})
        answers.append(await ws.receive_json_from(timeout=5))
        await ws.disconnect()
        return answers

    answers = async_to_sync(scenario)()
    assert [a["kind"] for a in answers[:5]] == ["error"] * 5
    assert "digits" in answers[0]["detail"]
    assert answers[5]["kind"] == "event"  # still up and serving
