import random

import optuna
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from videomodels import Budget, analyze, build_model
from videomodels.profile import example_inputs

from archsearch.spaces import SpaceConfig, make_space

CONFIG = SpaceConfig(num_classes=5, frames=8, size=32, max_params=400_000)
SPACE = make_space("tvn", CONFIG)


def assert_valid(spec):
    analysis = analyze(spec, num_classes=5, budget=Budget(max_params=CONFIG.max_params))
    assert analysis.output_shape == (5,)
    stream = spec.inputs[0]
    assert stream.frames * stream.frame_stride <= CONFIG.frames or stream.frames == 1
    assert stream.size <= CONFIG.size


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**6))
def test_samples_and_mutation_chains_stay_valid(seed):
    rng = random.Random(seed)
    spec = SPACE.sample(rng)
    assert_valid(spec)
    for _ in range(3):
        before = spec.to_json()
        mutation = SPACE.mutate(spec, rng, progress=rng.random())
        assert spec.to_json() == before  # the parent is never modified
        assert mutation.description
        assert mutation.spec.content_hash() != spec.content_hash()
        assert_valid(mutation.spec)
        spec = mutation.spec


def test_mutation_is_deterministic_and_names_what_changed():
    parent = SPACE.sample(random.Random(1))
    a = SPACE.mutate(parent, random.Random(2))
    b = SPACE.mutate(parent, random.Random(2))
    assert a.spec.content_hash() == b.spec.content_hash() and a.description == b.description
    descriptions = {SPACE.mutate(parent, random.Random(s)).description.split()[0] for s in range(30)}
    block_ids = {n.id for n in parent.nodes if n.type == "tvn_block"}
    assert descriptions & (block_ids | {"input", "added", "removed", "representation"})


def test_block_ids_survive_mutation_for_weight_inheritance():
    parent = SPACE.sample(random.Random(3))
    parent_ids = {n.id for n in parent.nodes if n.type == "tvn_block"}
    for seed in range(20):
        mutation = SPACE.mutate(parent, random.Random(seed))
        child_ids = {n.id for n in mutation.spec.nodes if n.type == "tvn_block"}
        if mutation.description.startswith("added block"):
            assert parent_ids < child_ids
        elif mutation.description.startswith("removed block"):
            assert child_ids < parent_ids
        else:
            assert child_ids == parent_ids


def test_optuna_suggestions_are_valid_specs():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(5):
        assert_valid(SPACE.suggest(study.ask()))


def test_sampled_networks_run():
    spec = SPACE.sample(random.Random(4))
    model = build_model(spec, num_classes=5)
    assert model(example_inputs(spec, batch=2)).shape == (2, 5)


def test_flow_gene_adds_representation_flow_before_the_blocks():
    specs = [SPACE.sample(random.Random(s)) for s in range(40)]
    with_flow = [s for s in specs if any(n.type == "representation_flow" for n in s.nodes)]
    assert with_flow and len(with_flow) < len(specs)
    spec = with_flow[0]
    assert [(e.source, e.target) for e in spec.edges][:2] == [("rgb", "flow"), ("flow", spec.nodes[1].id)]
    torch.manual_seed(0)
    assert build_model(spec, num_classes=5)(example_inputs(spec)).shape == (1, 5)
