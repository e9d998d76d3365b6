"""The team API (/api/teams/<id>/members/ and /invitations/): owners change roles, remove members and
invite; members and viewers are refused (403), outsiders see nothing (404); a team keeps one owner;
a bad role is a 400 naming the field; every change lands in the team's audit trail."""
from __future__ import annotations

import json

import pytest
from hashed_users import create_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(teams):
    """Team A: alice owns it, bob is a member, dave a viewer; charlie owns team B only."""
    from webapp.teams.models import Membership

    dave = create_user("dave", "dave-pass-123")
    Membership.objects.create(user=dave, team=teams["a"], role=Membership.Role.VIEWER)
    return {**teams, "dave": dave}


def patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


def members_url(w, user=None):
    return f"/api/teams/{w['a'].pk}/members/" + (f"{w[user].pk}/" if user else "")


def role_of(w, name):
    from webapp.teams.models import Membership

    return Membership.objects.filter(team=w["a"], user=w[name]).values_list("role", flat=True).first()


def test_anyone_in_the_team_lists_its_members_with_roles(team, client_for):
    for name in ("alice", "bob", "dave"):
        response = client_for(team[name]).get(members_url(team))
        assert response.status_code == 200, name
        assert [(m["username"], m["role"]) for m in response.json()] == [("alice", "owner"), ("bob", "member"), ("dave", "viewer")]
        assert response.json()[1]["user"] == team["bob"].pk
    assert client_for(team["charlie"]).get(members_url(team)).status_code == 404
    assert client_for(None).get(members_url(team)).status_code in (401, 403)


def test_an_owner_changes_a_role_and_removes_a_member(team, client_for):
    from webapp.review.models import AuditEntry

    alice = client_for(team["alice"])
    response = patch(alice, members_url(team, "bob"), {"role": "viewer"})
    assert response.status_code == 200 and response.json() == {**response.json(), "username": "bob", "role": "viewer"}
    assert role_of(team, "bob") == "viewer"
    left = alice.delete(members_url(team, "dave"))
    assert left.status_code == 200 and [m["username"] for m in left.json()] == ["alice", "bob"]
    assert role_of(team, "dave") is None
    actions = list(AuditEntry.objects.filter(team=team["a"]).order_by("pk").values_list("action", flat=True))
    assert actions == ["member.role", "member.removed"]


@pytest.mark.parametrize("who", ["bob", "dave"])
def test_members_and_viewers_are_refused_403_and_nothing_changes(team, client_for, who):
    client = client_for(team[who])
    assert patch(client, members_url(team, "alice"), {"role": "viewer"}).status_code == 403
    assert client.delete(members_url(team, "alice")).status_code == 403
    assert client.get(f"/api/teams/{team['a'].pk}/invitations/").status_code == 403
    response = client.post(f"/api/teams/{team['a'].pk}/invitations/", {"role": "owner"}, content_type="application/json")
    assert response.status_code == 403 and "owner" in response.json()["detail"]
    assert role_of(team, "alice") == "owner" and team["a"].invitations.count() == 0


def test_an_outsider_gets_404_as_for_a_team_that_does_not_exist(team, client_for):
    charlie = client_for(team["charlie"])  # an owner, of team B
    assert patch(charlie, members_url(team, "bob"), {"role": "owner"}).status_code == 404
    assert charlie.delete(members_url(team, "bob")).status_code == 404
    assert charlie.get(f"/api/teams/{team['a'].pk}/invitations/").status_code == 404
    assert charlie.get("/api/teams/999999/members/").status_code == 404
    assert role_of(team, "bob") == "member"
    # A user who is not in the team is "no such member", even for its owner.
    assert patch(client_for(team["alice"]), members_url(team, "charlie"), {"role": "viewer"}).status_code == 404


def test_the_last_owner_can_neither_step_down_nor_be_removed(team, client_for):
    alice = client_for(team["alice"])
    demoted = patch(alice, members_url(team, "alice"), {"role": "member"})
    assert demoted.status_code == 400 and "at least one owner" in demoted.json()["role"][0]
    removed = alice.delete(members_url(team, "alice"))
    assert removed.status_code == 400 and "at least one owner" in removed.json()["member"][0]
    assert role_of(team, "alice") == "owner"
    # With a second owner, the first may step down.
    assert patch(alice, members_url(team, "bob"), {"role": "owner"}).status_code == 200
    assert patch(alice, members_url(team, "alice"), {"role": "member"}).status_code == 200
    assert role_of(team, "alice") == "member" and role_of(team, "bob") == "owner"


@pytest.mark.parametrize("body", [{"role": "boss"}, {"role": ""}, {"role": 3}, {}])
def test_a_bad_role_is_a_400_naming_the_field(team, client_for, body):
    response = patch(client_for(team["alice"]), members_url(team, "bob"), body)
    assert response.status_code == 400 and list(response.json()) == ["role"]
    assert role_of(team, "bob") == "member"


def test_a_body_that_is_not_an_object_is_a_400(team, client_for):
    response = client_for(team["alice"]).patch(members_url(team, "bob"), "[1]", content_type="application/json")
    assert response.status_code == 400 and "JSON object" in response.json()["detail"]


def test_an_owner_invites_lists_and_withdraws_and_the_link_joins(team, client_for):
    from webapp.teams.models import Membership

    alice = client_for(team["alice"])
    url = f"/api/teams/{team['a'].pk}/invitations/"
    created = alice.post(url, {"role": "viewer", "days": 2, "note": "for erin"}, content_type="application/json")
    assert created.status_code == 201
    body = created.json()
    assert body["role"] == "viewer" and body["state"] == "open" and body["link"].endswith(f"/join/{body['token']}/")
    listed = alice.get(url).json()
    assert [(i["id"], i["note"], i["state"]) for i in listed] == [(body["id"], "for erin", "open")]
    assert "token" not in listed[0] and "digest" not in listed[0]  # the secret is shown once
    assert client_for(team["charlie"]).post(f"/join/{body['token']}/").status_code == 302
    assert Membership.objects.get(team=team["a"], user=team["charlie"]).role == "viewer"
    assert alice.get(url).json()[0]["state"] == "used"
    second = alice.post(url, {}, content_type="application/json").json()
    assert second["role"] == "member"  # the default
    withdrawn = alice.delete(f"{url}{second['id']}/")
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert alice.get(url).json()[0]["state"] == "withdrawn"
    assert alice.delete(f"{url}999999/").status_code == 404


@pytest.mark.parametrize("body, field", [({"role": "admin"}, "role"), ({"days": 0}, "days"), ({"days": 31}, "days"),
                                         ({"days": "soon"}, "days"), ({"note": "x" * 201}, "note")])
def test_bad_invitations_are_400s_naming_the_field(team, client_for, body, field):
    response = client_for(team["alice"]).post(f"/api/teams/{team['a'].pk}/invitations/", body, content_type="application/json")
    assert response.status_code == 400 and field in response.json()
    assert team["a"].invitations.count() == 0


def test_the_schema_documents_the_team_api(team, client_for):
    schema = client_for(team["alice"]).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    member = schema["paths"]["/api/teams/{id}/members/{user}/"]
    assert set(member) >= {"patch", "delete"} and {"400", "403", "404"} <= set(member["patch"]["responses"])
    assert "post" in schema["paths"]["/api/teams/{id}/invitations/"]
    assert "get" in schema["paths"]["/api/teams/{id}/members/"]
