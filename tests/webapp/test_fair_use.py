"""Fair use of the workers: each team's limits on steps, batch size and trainings queued at once,
enforced on every way of asking for training (evaluations, searches, ensembles, injected
candidates, starting and resuming), answered with a 4xx that names the limit, and shown to the
team's owner (the team page and /api/teams/<id>/). Nothing is written when a limit says no."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def counts():
    from webapp.architectures.evaluations import Evaluation
    from webapp.review.models import Ensemble
    from webapp.studio.models import Candidate, Experiment

    return (Evaluation.objects.count(), Experiment.objects.count(), Ensemble.objects.count(), Candidate.objects.count(),
            list(Experiment.objects.order_by("pk").values_list("status", flat=True)))


def test_the_owner_sees_the_limits_and_what_is_in_use(world, client_for, settings):
    from webapp.teams.models import Team

    Team.objects.filter(pk=world["a"].pk).update(max_steps=300)  # the admin's own limit for team A
    data = client_for(world["alice"]).get(f"/api/teams/{world['a'].pk}/").json()
    assert data["limits"] == {"max_steps": 300, "max_batch_size": settings.STUDIO_TEAM_LIMITS["max_batch_size"],
                              "max_queued_trainings": settings.STUDIO_TEAM_LIMITS["max_queued_trainings"],
                              "max_active_exports": settings.STUDIO_TEAM_MAX_ACTIVE_EXPORTS}
    assert data["usage"] == {"queued_trainings": 0}  # the world's search is queued, not running
    page = client_for(world["alice"]).get(f"/teams/{world['a'].pk}/").content.decode()
    assert 'data-limit="max_steps">300<' in page and 'data-limit="max_queued_trainings">0 / 16<' in page


@pytest.mark.parametrize("field,value,limit", [("steps", 301, "max_steps"), ("batch_size", 65, "max_batch_size")])
def test_an_evaluation_over_the_budget_limit_is_a_400_naming_it(world, client_for, field, value, limit):
    from webapp.teams.models import Team

    Team.objects.filter(pk=world["a"].pk).update(max_steps=300)
    before = counts()
    body = {"version": world["v1"].pk, "dataset": world["dataset"].pk, "steps": 20, "batch_size": 4, field: value}
    response = post(client_for(world["bob"]), "/api/evaluations/", body)
    assert response.status_code == 400 and limit in response.json()[field][0], response.json()
    assert counts() == before
    # One million steps, as the probe asked for, under the site's default limit.
    response = post(client_for(world["bob"]), "/api/evaluations/", {**body, field: 4, "steps": 1_000_000})
    assert response.status_code == 400 and "max_steps" in response.json()["steps"][0]


def test_a_search_over_the_budget_limit_is_refused_by_field(world, client_for):
    body = {"team": world["a"].pk, "family": "tvn", "dataset": world["dataset"].pk, "start": False, "low_steps": 6000,
            "high_steps": 0}
    response = post(client_for(world["bob"]), "/api/experiments/", body)
    assert response.status_code == 400 and "max_steps" in response.json()["low_steps"][0]
    response = post(client_for(world["bob"]), "/api/experiments/", {**body, "low_steps": 20, "batch_size": 512})
    assert response.status_code == 400 and "max_batch_size" in response.json()["batch_size"][0]
    form = client_for(world["bob"]).post("/experiments/new/", {
        "team": world["a"].pk, "family": "tvn", "dataset": world["dataset"].pk, "population": 2, "rounds": 1, "seed": 0,
        "low_steps": 9000, "high_steps": 0, "batch_size": 4, "parallelism": 1, "num_threads": 1})
    assert form.status_code == 400 and "max_steps" in form.content.decode()


def test_the_queue_cap_holds_for_every_kind_of_training_and_the_answer_names_it(world, client_for):
    from archsearch.config import SearchConfig
    from webapp.studio import services
    from webapp.studio.models import Candidate
    from webapp.teams.models import Team

    Team.objects.filter(pk=world["a"].pk).update(max_queued_trainings=3)
    Candidate.objects.filter(experiment=world["experiment"]).update(checkpoint="/trained/checkpoint.pt")
    bob = client_for(world["bob"])
    running = services.create_experiment(team=world["a"], user=world["alice"], name="running", dataset=world["dataset"],
                                         config=SearchConfig(family="tvn", population=2, rounds=1), parallelism=2, start=True)
    evaluation = {"version": world["v1"].pk, "dataset": world["dataset"].pk, "steps": 2, "batch_size": 4}
    assert post(bob, "/api/evaluations/", evaluation).status_code == 201  # 2 (the search) + 1 = 3: the last place
    before = counts()
    refusals = [
        post(bob, "/api/evaluations/", evaluation),
        post(bob, "/api/ensembles/", {"members": [world["parent"].pk, world["child"].pk]}),
        post(bob, f"/api/experiments/{running.pk}/inject/", {"version": world["v1"].pk}),
        post(bob, f"/api/experiments/{world['experiment'].pk}/start/", None),
        post(bob, "/api/experiments/", {"team": world["a"].pk, "family": "tvn", "dataset": world["dataset"].pk, "parallelism": 1}),
    ]
    for response in refusals:
        data = response.json()
        assert response.status_code == 429, data
        assert data["field"] == "max_queued_trainings" and "3 queued or running trainings" in data["detail"], data
    assert counts() == before
    # The page's buttons explain instead of failing.
    page = bob.post(f"/experiments/{world['experiment'].pk}/start/", follow=True).content.decode()
    assert "max_queued_trainings" in page
    # A search asking for more at once than the team may ever hold is refused at launch, by its field.
    response = post(bob, "/api/experiments/", {"team": world["a"].pk, "family": "tvn", "dataset": world["dataset"].pk,
                                               "start": False, "parallelism": 4})
    assert response.status_code == 400 and "max_queued_trainings" in response.json()["parallelism"][0]
    # Another team is not held back by team A's queue.
    assert client_for(world["charlie"]).get(f"/api/teams/{world['b'].pk}/").json()["usage"] == {"queued_trainings": 0}


def test_stopping_a_search_frees_its_places(world, client_for):
    from archsearch.config import SearchConfig
    from webapp.studio import services
    from webapp.studio.models import Experiment
    from webapp.teams.models import Team

    Team.objects.filter(pk=world["a"].pk).update(max_queued_trainings=2)
    running = services.create_experiment(team=world["a"], user=world["alice"], name="running", dataset=world["dataset"],
                                         config=SearchConfig(family="tvn", population=2, rounds=1), parallelism=2, start=True)
    bob = client_for(world["bob"])
    evaluation = {"version": world["v1"].pk, "dataset": world["dataset"].pk, "steps": 2, "batch_size": 4}
    assert post(bob, "/api/evaluations/", evaluation).status_code == 429
    assert post(bob, f"/api/experiments/{running.pk}/stop/", None).status_code == 200
    assert Experiment.objects.get(pk=running.pk).status == "stopped"  # nothing was training
    assert post(bob, "/api/evaluations/", evaluation).status_code == 201
