"""Every page and endpoint for alice (owner, team A), bob (member, team A), charlie (team B only)
and an anonymous visitor: team A's objects are visible to alice and bob, 404 for charlie;
anonymous visitors are sent to the login page (pages) or get 401 (API)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(teams, ready_dataset):
    from archsearch.config import SearchConfig
    from webapp.studio import services
    from webapp.studio.models import Candidate

    experiment = services.create_experiment(team=teams["a"], user=teams["alice"], name="alpha", dataset=ready_dataset,
                                            config=SearchConfig(family="tvn", population=2, rounds=1), start=False)
    candidate = Candidate.objects.create(experiment=experiment, index=0, name="c0000", spec={"name": "x"}, params=10,
                                         status=Candidate.Status.EVALUATED, accuracy=0.5, latency_ms=3.0, completion_order=1)
    child = Candidate.objects.create(experiment=experiment, index=1, name="c0001", spec={"name": "y"}, parent=candidate,
                                     mutation="b0 skip on->off")
    return {**teams, "dataset": ready_dataset, "experiment": experiment, "candidate": candidate, "child": child}


def pages(w):
    e, d, c = w["experiment"].pk, w["dataset"].pk, w["candidate"].pk
    return [f"/datasets/{d}/", f"/experiments/{e}/", f"/candidates/{c}/", f"/candidates/{w['child'].pk}/"]


def api_objects(w):
    e, d, c = w["experiment"].pk, w["dataset"].pk, w["candidate"].pk
    return [f"/api/datasets/{d}/", f"/api/experiments/{e}/", f"/api/candidates/{c}/", f"/api/events/?experiment={e}"]


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_team_members_see_every_page_and_object(world, who, client_for):
    client = client_for(world[who])
    for url in ["/", "/datasets/", "/experiments/new/", *pages(world)]:
        response = client.get(url)
        assert response.status_code == 200, url
    for url in api_objects(world):
        assert client.get(url).status_code == 200, url
    assert "alpha" in client.get("/").content.decode()
    assert "motion-a" in client.get("/datasets/").content.decode()


def test_outsider_gets_404_for_every_object_of_another_team(world, client_for):
    client = client_for(world["charlie"])
    for url in pages(world) + api_objects(world):
        assert client.get(url).status_code == 404, url
    # Lists are filtered, not refused.
    assert "alpha" not in client.get("/").content.decode()
    assert "motion-a" not in client.get("/datasets/").content.decode()
    for url in ("/api/datasets/", "/api/experiments/", f"/api/candidates/?experiment={world['experiment'].pk}"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.json()["count"] == 0, url
    assert [t["name"] for t in client.get("/api/teams/").json()["results"]] == ["Team B"]


def test_outsider_cannot_act_on_another_teams_experiment(world, client_for):
    from webapp.studio.models import Experiment

    client = client_for(world["charlie"])
    e = world["experiment"].pk
    for action in ("start", "stop", "resume", "cancel"):
        assert client.post(f"/api/experiments/{e}/{action}/").status_code == 404
        assert client.post(f"/experiments/{e}/{action}/").status_code == 404
    assert Experiment.objects.get(pk=e).status == "queued"


def test_outsider_cannot_launch_on_another_teams_dataset(world, client_for):
    client = client_for(world["charlie"])
    response = client.post("/api/experiments/", {"family": "tvn", "dataset": world["dataset"].pk}, content_type="application/json")
    assert response.status_code == 400
    assert "dataset" in response.json()
    response = client.post("/api/experiments/", {"family": "tvn", "dataset": world["dataset"].pk, "team": world["a"].pk},
                           content_type="application/json")
    assert response.status_code == 400
    assert "team" in response.json()


def test_anonymous_is_sent_to_login_or_gets_401(world, client_for):
    client = client_for(None)
    for url in ["/", "/datasets/", "/experiments/new/", *pages(world)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url
    for url in ["/api/datasets/", "/api/experiments/", "/api/candidates/", "/api/teams/", "/api/schema/", *api_objects(world)]:
        assert client.get(url).status_code == 401, url
    assert client.post(f"/api/experiments/{world['experiment'].pk}/start/").status_code == 401


def test_member_can_act_and_gets_409_for_impossible_transitions(world, client_for):
    client = client_for(world["bob"])
    e = world["experiment"].pk
    response = client.post(f"/api/experiments/{e}/stop/")
    assert response.status_code == 409
    assert "running" in response.json()["detail"]
    response = client.post(f"/api/experiments/{e}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    # The page's no-JavaScript fallback explains instead of failing.
    response = client.post(f"/experiments/{e}/resume/", follow=True)
    assert response.status_code == 200
    assert "Only a stopped or failed experiment can be resumed" in response.content.decode()


def test_schema_lists_the_api(world, client_for):
    response = client_for(world["alice"]).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/datasets/", "/api/experiments/", "/api/experiments/{id}/stop/", "/api/candidates/{id}/", "/api/events/"):
        assert path in paths


def test_candidate_api_returns_spec_and_lineage(world, client_for):
    data = client_for(world["alice"]).get(f"/api/candidates/{world['child'].pk}/").json()
    assert data["spec"] == {"name": "y"}
    assert data["parent_name"] == "c0000"
    assert [c["name"] for c in data["lineage"]] == ["c0001", "c0000"]
    listed = client_for(world["alice"]).get(f"/api/candidates/?experiment={world['experiment'].pk}").json()
    assert [c["name"] for c in listed["results"]] == ["c0000", "c0001"]
    assert "spec" not in listed["results"][0]  # specs come one at a time


def test_events_api_lists_after_a_seq(world, client_for):
    from webapp.studio import progress
    from django.db import transaction

    experiment = world["experiment"]
    with transaction.atomic():
        locked = type(experiment).objects.select_for_update().get(pk=experiment.pk)
        for i in range(3):
            progress.record_event(locked, "note", {"i": i})
    client = client_for(world["alice"])
    events = client.get(f"/api/events/?experiment={experiment.pk}").json()["results"]
    assert [e["seq"] for e in events] == [1, 2, 3, 4]
    after = client.get(f"/api/events/?experiment={experiment.pk}&after=2").json()["results"]
    assert [(e["seq"], e["type"]) for e in after] == [(3, "note"), (4, "note")]
    assert client.get("/api/events/").status_code == 400
    assert client.get(f"/api/events/?experiment={experiment.pk}&after=x").status_code == 400
