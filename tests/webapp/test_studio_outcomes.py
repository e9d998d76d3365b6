"""Outcomes a user can understand: a search that gave up says so and why, coarse accuracy is
flagged, the ensemble and Pareto front are shown, names are distinct, counts need no replay,
the worker count is known, and the API has a readable docs page.

Searches run inline (the driver tests' captured queue), on the real test database.
"""
from __future__ import annotations

import re
import threading

import pytest
from test_studio_driver import drain, queue  # noqa: F401 - the captured task queue and its inline runner

pytestmark = pytest.mark.django_db(transaction=True)


# ---------------------------------------------------------------------- giving up
def test_a_search_whose_every_proposal_is_over_budget_gives_up_and_says_why(launch, queue, client_for, teams):  # noqa: F811
    experiment = launch(latency_budget_ms=1e-6, max_rejections=3)
    drain(queue)
    experiment.refresh_from_db()
    assert experiment.status == "gave_up", (experiment.status, experiment.error)
    rejected = list(experiment.candidates.filter(status="rejected"))
    # The limit is 3 in a row; a candidate already in flight then is rejected too and counts.
    assert len(rejected) >= 3 and experiment.candidates.filter(status="evaluated").count() == 0
    fastest = min(c.latency_ms for c in rejected)
    assert experiment.outcome == (f"gave up after {len(rejected)} proposals over the 1e-06 ms budget: "
                                  f"the fastest was {fastest:.3g} ms")
    assert experiment.finished_at is not None and experiment.summary["gave_up"] is True
    last = experiment.events.order_by("-seq").first()
    assert last.type == "status" and last.payload["status"] == "gave_up" and last.payload["outcome"] == experiment.outcome
    finished = experiment.events.get(type="run_finished")
    assert finished.payload["gave_up"] is True and finished.payload["outcome"] == experiment.outcome

    client = client_for(teams["alice"])
    page = client.get(f"/experiments/{experiment.pk}/").content.decode()
    assert 'id="status">Gave up<' in page and "Finished" not in page
    reason = experiment.outcome[0].upper() + experiment.outcome[1:]  # pages start it with a capital
    assert reason in page
    listing = client.get("/").content.decode()
    assert "Gave up" in listing and reason in listing
    body = client.get(f"/api/experiments/{experiment.pk}/").json()
    assert body["status"] == "gave_up" and body["outcome"] == experiment.outcome
    # Nothing left to do with it but read it.
    assert client.post(f"/api/experiments/{experiment.pk}/resume/").status_code == 409
    assert client.post(f"/api/experiments/{experiment.pk}/cancel/").status_code == 409


def test_a_budget_below_the_familys_fastest_network_is_warned_about_at_launch(ready_dataset, client_for, teams, redis_server):
    client = client_for(teams["alice"])
    body = {"family": "tvn", "dataset": ready_dataset.pk, "population": 2, "rounds": 0, "low_steps": 1, "high_steps": 0,
            "latency_budget_ms": 1e-6, "start": False}
    created = client.post("/api/experiments/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    warnings = created.json()["warnings"]
    assert len(warnings) == 1 and "latency budget of 1e-06 ms is below" in warnings[0]
    floor = float(re.search(r"about ([0-9.e-]+) ms", warnings[0]).group(1))
    assert floor > 1e-6
    # A budget well above it is not warned about; neither is no budget.
    relaxed = client.post("/api/experiments/", {**body, "latency_budget_ms": floor * 1000}, content_type="application/json")
    assert relaxed.status_code == 201 and relaxed.json()["warnings"] == []
    unbounded = client.post("/api/experiments/", {**body, "latency_budget_ms": None}, content_type="application/json")
    assert unbounded.status_code == 201 and unbounded.json()["warnings"] == []
    # The page form: the warning shows on the experiment page it lands on.
    form = {"team": teams["a"].pk, "family": "tvn", "dataset": ready_dataset.pk, "population": 2, "rounds": 0, "seed": 0,
            "low_steps": 1, "high_steps": 0, "batch_size": 8, "parallelism": 1, "num_threads": 1, "latency_budget_ms": "0.000001"}
    response = client.post("/experiments/new/", form, follow=True)
    assert response.status_code == 200
    assert "latency budget of 1e-06 ms is below" in response.content.decode()
