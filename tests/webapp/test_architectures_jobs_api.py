"""The API of evaluations and seeding, for alice (owner, team A), bob (member), charlie (team B)
and anonymous visitors, with bad input (a 4xx naming the field, never a 500). No worker runs here:
jobs are created and queued (on commit, which these tests never reach)."""
from __future__ import annotations

import json

import pytest

from videomodels.presets import get_preset

TINY = {"population": 2, "rounds": 1, "low_steps": 2, "high_steps": 0, "batch_size": 8}  # conftest's TINY_SEARCH

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, json.dumps(body) if not isinstance(body, str) else body, content_type="application/json")


@pytest.fixture
def saved(teams, ready_dataset):
    from webapp.architectures import services
    from webapp.studio.models import Dataset

    version = services.create_architecture(user=teams["bob"], team=teams["a"], name="mine", spec=get_preset("tvn-small").to_dict(),
                                           origin="preset", preset="tvn-small")
    other = services.create_architecture(user=teams["charlie"], team=teams["b"], name="theirs",
                                         spec=get_preset("tvn-small").to_dict())
    dataset_b = Dataset.objects.create(team=teams["b"], name="motion-b", kind="synthetic", status="ready", frames=8, size=32,
                                       cache_path=ready_dataset.cache_path, num_classes=4)
    return {**teams, "version": version, "other": other, "dataset": ready_dataset, "dataset_b": dataset_b}


def test_owner_and_member_evaluate_outsider_and_anonymous_cannot(saved, client_for):
    from webapp.architectures.evaluations import Evaluation

    body = {"version": saved["version"].pk, "dataset": saved["dataset"].pk, "steps": 3, "batch_size": 4, "seed": 7}
    for user in ("alice", "bob"):
        response = post(client_for(saved[user]), "/api/evaluations/", body)
        assert response.status_code == 201, response.content
        data = response.json()
        assert data["status"] == "queued" and data["steps"] == 3 and data["spec"]["family"] == "tvn"
    assert post(client_for(None), "/api/evaluations/", body).status_code in (401, 403)
    outsider = post(client_for(saved["charlie"]), "/api/evaluations/", body)
    assert outsider.status_code == 400 and set(outsider.json()) == {"version", "dataset"}  # neither exists for charlie
    assert Evaluation.objects.count() == 2
    # Reading: the team sees them, the outsider does not.
    evaluation = Evaluation.objects.first()
    assert client_for(saved["bob"]).get(f"/api/evaluations/{evaluation.pk}/").json()["id"] == evaluation.pk
    assert client_for(saved["charlie"]).get(f"/api/evaluations/{evaluation.pk}/").status_code == 404
    assert client_for(saved["charlie"]).get("/api/evaluations/").json()["count"] == 0
    listed = client_for(saved["alice"]).get(f"/api/evaluations/?version={saved['version'].pk}").json()
    assert listed["count"] == 2 and "spec" not in listed["results"][0]


@pytest.mark.parametrize("changes, field", [
    ({"steps": 0}, "steps"), ({"steps": 10**9}, "steps"), ({"batch_size": 0}, "batch_size"), ({"seed": -1}, "seed"),
    ({"steps": "many"}, "steps"), ({"version": 2**70}, "version"), ({"version": "x"}, "version"), ({"dataset": None}, "dataset"),
])
def test_bad_evaluation_input_is_a_400_naming_the_field(saved, client_for, changes, field):
    body = {"version": saved["version"].pk, "dataset": saved["dataset"].pk, "steps": 3, "batch_size": 4, "seed": 0, **changes}
    response = post(client_for(saved["alice"]), "/api/evaluations/", body)
    assert response.status_code == 400 and field in response.json(), response.content


def test_another_teams_dataset_a_dataset_not_ready_and_hostile_bodies_are_refused(saved, client_for):
    from webapp.studio.models import Dataset

    alice = client_for(saved["alice"])
    pending = Dataset.objects.create(team=saved["a"], name="pending", kind="synthetic", status="pending")
    response = post(alice, "/api/evaluations/", {"version": saved["version"].pk, "dataset": pending.pk})
    assert response.status_code == 400 and "not ready" in response.json()["dataset"][0]
    assert post(alice, "/api/evaluations/", '{"version": NaN}').status_code == 400
    assert post(alice, "/api/evaluations/", "[" * 10000).status_code == 400
    assert alice.get("/api/evaluations/?version=abc").status_code == 400


def test_a_version_that_cannot_fit_the_data_is_refused_with_the_reason(saved, client_for):
    from webapp.architectures import services

    flow = services.create_architecture(user=saved["alice"], team=saved["a"], name="needs flow",
                                        spec=get_preset("assemblenet-small").to_dict())
    response = post(client_for(saved["alice"]), "/api/evaluations/", {"version": flow.pk, "dataset": saved["dataset"].pk})
    assert response.status_code == 400 and "optical flow" in response.json()["version"][0]


def test_launch_with_seed_versions(saved, client_for):
    from webapp.studio.models import Experiment

    body = {"family": "tvn", "dataset": saved["dataset"].pk, "start": False, **TINY, "seed_versions": [saved["version"].pk]}
    response = post(client_for(saved["bob"]), "/api/experiments/", body)
    assert response.status_code == 201, response.content
    seeds = Experiment.objects.get(pk=response.json()["id"]).config["seeds"]
    assert len(seeds) == 1 and seeds[0]["mutation"].startswith("hand-edited by bob from mine v1 (preset tvn-small)")
    # Another team's version does not exist; another family's is refused; more seeds than the population too.
    outsider = post(client_for(saved["alice"]), "/api/experiments/", {**body, "seed_versions": [saved["other"].pk]})
    assert outsider.status_code == 400 and "seed_versions" in outsider.json()
    evanet = post(client_for(saved["alice"]), "/api/experiments/", {**body, "family": "evanet"})
    assert evanet.status_code == 400 and "tvn architecture" in evanet.json()["seed_versions"][0]
    many = post(client_for(saved["alice"]), "/api/experiments/", {**body, "seed_versions": [saved["version"].pk] * 3})
    assert many.status_code == 400 and "At most 2" in many.json()["seed_versions"][0]
    assert post(client_for(saved["alice"]), "/api/experiments/", {**body, "seed_versions": "x"}).status_code == 400


def test_inject_into_a_running_search(saved, client_for, launch):
    from webapp.studio.models import Candidate

    experiment = launch(parallelism=1)
    url = f"/api/experiments/{experiment.pk}/inject/"
    response = post(client_for(saved["bob"]), url, {"version": saved["version"].pk})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["mutation"].startswith("hand-edited by bob from mine v1") and data["parent"] is None
    candidate = Candidate.objects.get(pk=data["id"])
    assert candidate.index == experiment.candidates.count() - 1 and candidate.status == "proposed"
    assert experiment.events.filter(type="candidate_sampled", payload__injected=True).count() == 1
    # Outsiders do not see the search; the version must be of the search's team; bad ids are 400s.
    assert post(client_for(saved["charlie"]), url, {"version": saved["other"].pk}).status_code == 404
    assert post(client_for(saved["alice"]), url, {"version": saved["other"].pk}).status_code == 400
    assert post(client_for(saved["alice"]), url, {"version": 2**64}).status_code == 400
    assert post(client_for(saved["alice"]), url, {}).status_code == 400
    assert post(client_for(None), url, {"version": saved["version"].pk}).status_code in (401, 403)
    # A search that is not running takes no candidate: a 409.
    from webapp.studio import services

    services.cancel_experiment(experiment.pk)
    assert post(client_for(saved["alice"]), url, {"version": saved["version"].pk}).status_code == 409


def test_inject_offers_only_versions_that_fit_and_refuses_a_copy_of_a_member(saved, client_for, launch):
    """The Inject list holds only what this search can take; an exact copy of a population member is refused, with why."""
    from webapp.architectures import jobs, services

    experiment = launch(parallelism=1)
    # The same network under another name and notes: a copy all the same once injected.
    renamed = {**get_preset("tvn-small").to_dict(), "name": "renamed", "meta": {"note": "by hand"}}
    twin = services.create_architecture(user=saved["bob"], team=saved["a"], name="twin", spec=renamed)
    big = services.create_architecture(user=saved["bob"], team=saved["a"], name="big", spec=get_preset("tvn-1").to_dict())
    evanet = services.create_architecture(user=saved["bob"], team=saved["a"], name="eva", spec=get_preset("evanet-1").to_dict())
    assert set(jobs.versions_for_search(experiment)) == {saved["version"], twin}  # not the over-budget one nor the other family
    page = client_for(saved["bob"]).get(f"/experiments/{experiment.pk}/").content.decode()
    assert "mine v1" in page and "twin v1" in page and "big v1" not in page and "eva v1" not in page

    url = f"/api/experiments/{experiment.pk}/inject/"
    refused = post(client_for(saved["bob"]), url, {"version": big.pk})
    assert refused.status_code == 400 and "max_params" in json.dumps(refused.json()), refused.json()
    refused = post(client_for(saved["bob"]), url, {"version": evanet.pk})
    assert refused.status_code == 400 and "evanet architecture" in json.dumps(refused.json())

    first = post(client_for(saved["bob"]), url, {"version": saved["version"].pk})
    assert first.status_code == 201
    member = first.json()["name"]
    for version in (saved["version"], twin):  # the member itself, and its renamed copy
        again = post(client_for(saved["bob"]), url, {"version": version.pk})
        assert again.status_code == 400 and f"exact copy of {member}" in json.dumps(again.json()), again.json()
    assert jobs.versions_for_search(experiment) == []
    # Nothing left to offer: the form says why for each saved version instead of disappearing.
    page = client_for(saved["bob"]).get(f"/experiments/{experiment.pk}/").content.decode()
    assert 'id="inject-form"' not in page and 'id="inject-none"' in page
    assert f"exact copy of {member}" in page and "max_params" in page and "eva v1" not in page
    assert experiment.candidates.filter(mutation_details__injected=True).count() == 1
    # The page's form says the same, without an error page.
    response = client_for(saved["bob"]).post(f"/experiments/{experiment.pk}/inject/", {"version": saved["version"].pk}, follow=True)
    assert response.status_code == 200 and f"exact copy of {member}" in response.content.decode()
