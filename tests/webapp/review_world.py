"""Shared data of the review tests: team A (alice owner, bob member, dave viewer), team B (charlie),
a search of team A with a parent/child pair of candidates, and team A's architecture with two versions."""
from __future__ import annotations

import pytest


def small_spec():
    from videomodels.presets import get_preset

    return get_preset("tvn-small").to_dict()


@pytest.fixture
def world(teams, ready_dataset):
    from django.contrib.auth.models import User

    from archsearch.config import SearchConfig
    from webapp.architectures import services as arch_services
    from webapp.studio import services
    from webapp.studio.models import Candidate, Dataset
    from webapp.teams.models import Membership

    dave = User.objects.create_user("dave", password="dave-pass-123")
    Membership.objects.create(user=dave, team=teams["a"], role=Membership.Role.VIEWER)
    experiment = services.create_experiment(team=teams["a"], user=teams["alice"], name="alpha", dataset=ready_dataset,
                                            config=SearchConfig(family="tvn", population=2, rounds=1), start=False)
    spec = small_spec()
    parent = Candidate.objects.create(experiment=experiment, index=0, name="c0000", spec=spec, spec_hash="h0", params=1000,
                                      macs=5000, status=Candidate.Status.EVALUATED, accuracy=0.5, latency_ms=3.0, completion_order=1)
    child_spec = small_spec()
    child_spec["nodes"][0]["attrs"]["filters"] = 24
    child = Candidate.objects.create(experiment=experiment, index=1, name="c0001", spec=child_spec, spec_hash="h1", parent=parent,
                                     mutation="b0 filters 16->24", params=2000, macs=9000, status=Candidate.Status.EVALUATED,
                                     accuracy=0.75, latency_ms=5.0, completion_order=2)
    v1 = arch_services.create_architecture(user=teams["alice"], team=teams["a"], name="tiny tvn", spec=small_spec(),
                                           origin="preset", preset="tvn-small")
    other_dataset = Dataset.objects.create(team=teams["b"], name="motion-b", kind=Dataset.Kind.SYNTHETIC)
    return {**teams, "dave": dave, "dataset": ready_dataset, "experiment": experiment, "parent": parent, "child": child,
            "candidate": parent, "architecture": v1.architecture, "v1": v1, "other_dataset": other_dataset}


@pytest.fixture(scope="session")
def trained_result(studio_data_dir, tiny_cache):
    """One real, tiny evaluation of the child's architecture (2 steps), shared by the tests that export it."""
    from archsearch.evaluate import EvalBudget, evaluate_candidate

    spec = small_spec()
    spec["nodes"][0]["attrs"]["filters"] = 24
    result = evaluate_candidate(spec, tiny_cache, EvalBudget(low_steps=2, high_steps=0, batch_size=8, num_threads=1,
                                                             latency_runs=2), 0, out_dir=studio_data_dir / "review-trained")
    assert result["status"] == "evaluated", result
    return result


@pytest.fixture
def trained(world, trained_result):
    """The world with its child candidate really trained (checkpoint and metrics.json in the data folder)."""
    child = world["child"]
    for key in ("accuracy", "latency_ms", "params", "macs", "fidelity", "metrics", "edge_weights", "checkpoint"):
        setattr(child, key, trained_result.get(key))
    child.save()
    return world
