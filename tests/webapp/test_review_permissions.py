"""The roles matrix: owner (alice), member (bob), viewer (dave) of team A, outsider (charlie, team B)
and an anonymous visitor, on every page and endpoint that reads or changes something.

Viewers read everything of their team and change nothing (403, the object unchanged); outsiders
see team A's objects as missing (404); anonymous visitors go to the login page or get 401."""
from __future__ import annotations

import json

import pytest
from review_world import small_spec

pytestmark = pytest.mark.django_db
MEMBERS = ["alice", "bob"]


def reads(w):
    e, d, c, a, v = w["experiment"].pk, w["dataset"].pk, w["candidate"].pk, w["architecture"].pk, w["v1"].pk
    pages = [f"/datasets/{d}/", f"/experiments/{e}/", f"/candidates/{c}/", f"/architectures/{a}/",
             f"/architectures/editor/?version={v}", f"/teams/{w['a'].pk}/"]
    api = [f"/api/datasets/{d}/", f"/api/experiments/{e}/", f"/api/candidates/{c}/", f"/api/events/?experiment={e}",
           f"/api/architectures/{a}/", f"/api/architectures/{a}/versions/", f"/api/versions/{v}/", f"/api/versions/{v}/export/"]
    return pages, api


def writes(w):
    """(method, url, body, form?) of every change; each must be refused to a viewer."""
    e, a, team = w["experiment"].pk, w["architecture"].pk, w["a"].pk
    synthetic = {"team": team, "name": "new-motion", "kind": "synthetic", "clips_per_class": 2}
    return [
        ("post", "/api/datasets/", synthetic, False),
        ("post", "/api/experiments/", {"team": team, "family": "tvn", "dataset": w["dataset"].pk, "start": False}, False),
        *[("post", f"/api/experiments/{e}/{action}/", None, False) for action in ("start", "stop", "resume", "cancel")],
        ("post", "/api/architectures/", {"team": team, "preset": "tvn-small"}, False),
        ("post", f"/api/architectures/{a}/versions/", {"spec": small_spec()}, False),
        ("patch", f"/api/architectures/{a}/", {"name": "renamed"}, False),
        ("post", "/api/architectures/import/", {"team": team, "config": small_spec()}, False),
        ("post", "/datasets/", {"synthetic-team": team, "synthetic-name": "form-motion", "synthetic-clips_per_class": 2}, True),
        ("post", "/experiments/new/", {"team": team, "family": "tvn", "dataset": w["dataset"].pk}, True),
        *[("post", f"/experiments/{e}/{action}/", {}, True) for action in ("start", "cancel")],
        ("post", "/architectures/", {"team": team, "format": "auto", "config": json.dumps(small_spec())}, True),
    ]


def send(client, method, url, body, form):
    if form:
        return getattr(client, method)(url, body or {})
    return getattr(client, method)(url, json.dumps(body) if body is not None else "", content_type="application/json")


def state(w):
    from webapp.architectures.models import Architecture, ArchitectureVersion
    from webapp.studio.models import Dataset, Experiment

    return (Dataset.objects.count(), Experiment.objects.count(), Experiment.objects.get(pk=w["experiment"].pk).status,
            Architecture.objects.count(), ArchitectureVersion.objects.count(), Architecture.objects.get(pk=w["architecture"].pk).name)


@pytest.mark.parametrize("who", ["alice", "bob", "dave"])
def test_every_role_of_the_team_reads_everything(world, who, client_for):
    client = client_for(world[who])
    pages, api = reads(world)
    for url in ["/", "/datasets/", "/architectures/", "/teams/", *pages]:
        assert client.get(url).status_code in (200, 302), url
    for url in pages:
        assert client.get(url).status_code == 200, url
    for url in api:
        assert client.get(url).status_code == 200, url


def test_outsider_and_anonymous_read_nothing(world, client_for):
    pages, api = reads(world)
    outsider, anonymous = client_for(world["charlie"]), client_for(None)
    for url in pages + api:
        assert outsider.get(url).status_code == 404, url
    for url in pages:
        response = anonymous.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    for url in api:
        assert anonymous.get(url).status_code == 401, url


def test_viewer_changes_nothing_anywhere(world, client_for):
    client = client_for(world["dave"])
    before = state(world)
    for method, url, body, form in writes(world):
        response = send(client, method, url, body, form)
        assert response.status_code == 403, (url, response.status_code, response.content[:300])
    assert state(world) == before
    # ...but analysing a spec (what the read-only drawing asks) is reading.
    response = client.post("/api/analyze/", json.dumps(small_spec()), content_type="application/json")
    assert response.status_code == 200


@pytest.mark.parametrize("who", MEMBERS)
def test_members_and_owners_may_change(world, who, client_for):
    client = client_for(world[who])
    refused = []
    for method, url, body, form in writes(world):
        response = send(client, method, url, body, form)
        if response.status_code in (401, 403, 404):
            refused.append((url, response.status_code))
    assert refused == []
    assert state(world) != (1, 1, "queued", 1, 1, "tiny tvn")


def test_outsider_changes_nothing_of_another_team(world, client_for):
    client = client_for(world["charlie"])
    before = state(world)
    for method, url, body, form in writes(world):
        response = send(client, method, url, body, form)
        # Another team's object is missing (404); naming another team or its dataset is a bad field (400 or a form error).
        assert response.status_code in (400, 404), (url, response.status_code)
    assert state(world) == before


def test_viewer_of_one_team_and_member_of_another_changes_only_the_second(world, client_for):
    from webapp.teams.models import Membership

    dave = world["dave"]
    Membership.objects.create(user=dave, team=world["b"], role=Membership.Role.MEMBER)
    client = client_for(dave)
    e = world["experiment"].pk
    assert client.post(f"/api/experiments/{e}/cancel/").status_code == 403
    assert client.post(f"/experiments/{e}/cancel/").status_code == 403
    response = client.post("/api/architectures/", json.dumps({"team": world["a"].pk, "preset": "tvn-small"}),
                           content_type="application/json")
    assert response.status_code == 403 and "member role" in response.json()["detail"]
    response = client.post("/api/architectures/", json.dumps({"team": world["b"].pk, "preset": "tvn-small"}),
                           content_type="application/json")
    assert response.status_code == 201


@pytest.mark.parametrize("who,allowed", [("alice", True), ("bob", False), ("dave", False)])
def test_only_owners_manage_the_team(world, who, allowed, client_for):
    from webapp.teams.models import Invitation

    client = client_for(world[who])
    response = client.post(f"/teams/{world['a'].pk}/", {"action": "invite", "invite-role": "member", "invite-days": 7})
    assert response.status_code == (302 if allowed else 403)
    assert Invitation.objects.filter(team=world["a"]).exists() == allowed
    # Nobody manages another team: it is missing.
    assert client.post(f"/teams/{world['b'].pk}/", {"action": "invite", "invite-role": "member", "invite-days": 7}).status_code == 404
