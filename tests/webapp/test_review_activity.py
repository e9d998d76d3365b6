"""The team activity WebSocket through the real ASGI stack and a real Redis channel layer: anonymous
users get 4403, another team 4404; a change of status, tag or pointer reaches the team's viewers
live after its transaction commits, and never another team's."""
from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie(user) -> bytes:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def communicator(team_id, cookie=None):
    from webapp.asgi import application

    headers = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]
    if cookie is not None:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, f"/ws/teams/{team_id}/", headers=headers)


async def refused_with(ws) -> int:
    connected, _ = await ws.connect()
    assert connected
    message = await ws.receive_output(timeout=5)
    assert message["type"] == "websocket.close"
    return message["code"]


@pytest.fixture
def setup(teams, redis_server):
    cookies = {name: session_cookie(teams[name]) for name in ("alice", "bob", "charlie")}
    return {**teams, "cookies": cookies}


@pytest.mark.parametrize("who, code", [(None, 4403), ("charlie", 4404)])
def test_anonymous_and_other_teams_are_refused(setup, who, code):
    ws = communicator(setup["a"].pk, setup["cookies"][who] if who else None)
    assert async_to_sync(refused_with)(ws) == code
    assert async_to_sync(refused_with)(communicator(10**30, setup["cookies"]["alice"])) == 4404


def test_changes_reach_the_team_live_and_only_the_team(setup, ready_dataset):
    from archsearch.config import SearchConfig
    from webapp.review import services
    from webapp.studio import services as studio
    from webapp.studio.models import Candidate

    experiment = studio.create_experiment(team=setup["a"], user=setup["alice"], name="ws", dataset=ready_dataset,
                                          config=SearchConfig(family="tvn", population=2, rounds=1), start=False)
    candidate = Candidate.objects.create(experiment=experiment, index=0, name="c0000", spec={}, status="evaluated", accuracy=0.5)

    def change():
        subject = services.subject_for_candidate(candidate)
        services.add_tag(subject, setup["bob"], "paper")
        services.move_pointer(subject, setup["bob"], "production")
        services.change_status(subject, setup["bob"], "request")

    async def scenario():
        alice = communicator(setup["a"].pk, setup["cookies"]["alice"])
        charlie = communicator(setup["b"].pk, setup["cookies"]["charlie"])
        assert (await alice.connect())[0] and (await charlie.connect())[0]
        await sync_to_async(change)()
        got = [await alice.receive_json_from(timeout=10) for _ in range(3)]
        assert await charlie.receive_nothing(timeout=0.5)
        await alice.send_to(text_data="hello")
        error = await alice.receive_json_from(timeout=5)
        await alice.disconnect()
        await charlie.disconnect()
        return got, error

    got, error = async_to_sync(scenario)()
    assert [m["action"] for m in got] == ["tag.added", "pointer.moved", "review.request"]
    assert all(m["actor"] == "bob" and m["kind"] == "activity" for m in got)
    assert error["kind"] == "error"
