"""EvaNet search space: validity, mutation behaviour, Optuna suggestions, diversity.

``analyze`` costs 0.05-0.8 s per EvaNet spec on CPU, so the property test runs on a
reduced space (<= 2 branches, <= 2 repeats) and checks the specs the space returns
against the real ``analyze`` calls the space made (recorded by a spy; analyze depends
only on the content hash's fields). Its parents come from a few cached samples; sampling
has its own property test, checked with direct ``analyze`` calls, and the full default
space is covered by fixed-seed tests.
"""
from __future__ import annotations

import random
import re
from unittest import mock

import optuna
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archsearch.spaces.evanet as evanet_module
from archsearch.spaces import make_space
from archsearch.spaces.base import Mutation, SpaceConfig
from archsearch.spaces.evanet import (
    BLOCK_IDS,
    EvaNetSpace,
    canonical_branch,
    diversity,
    genome,
)
from videomodels import ArchSpec, Budget, analyze, build_model

optuna.logging.set_verbosity(optuna.logging.WARNING)

FULL = SpaceConfig(num_classes=5, frames=8, size=32)
BAND = dict(min_params=180_000, max_params=900_000)  # rejects some reduced-space samples on both sides
_SPACES: dict[tuple, EvaNetSpace] = {}


def reduced_space(frames: int = 8, size: int = 32, num_classes: int = 5) -> EvaNetSpace:
    key = (frames, size, num_classes)
    if key not in _SPACES:
        config = SpaceConfig(num_classes=num_classes, frames=frames, size=size, **BAND)
        _SPACES[key] = EvaNetSpace(config, max_branches=2, max_repeats=2)
    return _SPACES[key]


def full_space() -> EvaNetSpace:
    if "full" not in _SPACES:
        _SPACES["full"] = EvaNetSpace(FULL)
    return _SPACES["full"]


def assert_in_band(spec: ArchSpec, config: SpaceConfig) -> int:
    params = analyze(spec, num_classes=config.num_classes, budget=Budget(max_params=config.max_params)).params
    assert config.min_params <= params <= config.max_params
    return params


def assert_canonical(spec: ArchSpec, space: EvaNetSpace) -> None:
    assert spec.family == "evanet"
    assert [n.id for n in spec.nodes if n.type == "evanet_block"] == list(BLOCK_IDS)
    for node in spec.nodes:
        if node.type == "evanet_block":
            assert 1 <= len(node.attrs["branches"]) <= space.max_branches
            assert 1 <= node.attrs["repeats"] <= space.max_repeats
            assert all(canonical_branch(b) == b for b in node.attrs["branches"])


class AnalyzeSpy:
    """Wraps the real analyze; remembers the content hash and params of every spec it accepted."""

    def __init__(self):
        self.accepted: dict[str, int] = {}

    def __call__(self, spec, **kwargs):
        analysis = analyze(spec, **kwargs)
        self.accepted[spec.content_hash()] = analysis.params
        return analysis


_PARENTS: dict[int, ArchSpec] = {}


def parent(index: int) -> ArchSpec:
    """A few sampled parents, shared by the property test's examples (sampling is checked below)."""
    if index not in _PARENTS:
        _PARENTS[index] = reduced_space().sample(random.Random(1000 + index))
    return _PARENTS[index]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    index=st.integers(0, 5),
    seed=st.integers(0, 2**32 - 1),
    progress=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=2),
)
def test_mutation_chains_stay_valid_and_in_band(index, seed, progress):
    space = reduced_space()
    config = space.config
    rng = random.Random(seed)
    spy = AnalyzeSpy()
    spec = parent(index)
    chain = []
    with mock.patch.object(evanet_module, "analyze", spy):
        for p in progress:
            before = spec.to_json()
            mutation = space.mutate(spec, rng, progress=p)
            assert spec.to_json() == before, "mutate modified its input"
            assert isinstance(mutation, Mutation)
            assert mutation.description.strip()
            assert mutation.details["operations"] >= 1
            assert mutation.spec.content_hash() != spec.content_hash()
            spec = mutation.spec
            chain.append(spec)
    for member in chain:
        assert_canonical(member, space)
        assert member.content_hash() in spy.accepted, "returned a spec the space never validated"
        assert config.min_params <= spy.accepted[member.content_hash()] <= config.max_params


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), frames=st.sampled_from([2, 4, 8]), size=st.sampled_from([16, 32]))
def test_samples_are_valid_and_in_band(seed, frames, size):
    space = reduced_space(frames, size)
    spec = space.sample(random.Random(seed))
    assert_canonical(spec, space)
    assert spec.inputs[0].frames == frames and spec.inputs[0].size == size
    assert_in_band(spec, space.config)


def test_make_space_returns_evanet_space():
    space = make_space("evanet", FULL)
    assert isinstance(space, EvaNetSpace) and space.family == "evanet"


def test_full_space_sample_runs_forward_and_mutates_validly():
    space = full_space()
    rng = random.Random(3)
    spec = space.sample(rng)
    assert_canonical(spec, space)
    analysis = analyze(spec, num_classes=5, budget=Budget(max_params=FULL.max_params))
    assert FULL.min_params <= analysis.params <= FULL.max_params
    model = build_model(spec, num_classes=5, analysis=analysis)
    model.eval()
    with torch.no_grad():
        logits = model(torch.randn(2, 3, FULL.frames, FULL.size, FULL.size))
    assert logits.shape == (2, 5)
    assert torch.isfinite(logits).all()
    mutation = space.mutate(spec, rng, progress=0.0)
    assert_canonical(mutation.spec, space)
    assert assert_in_band(mutation.spec, FULL) == mutation.details["params"]


def test_single_mutation_changes_the_block_it_names():
    space = reduced_space()
    parent = space.sample(random.Random(11))
    before = genome(parent)
    seen_ops = set()
    for seed in range(8):
        mutation = space.mutate(parent, random.Random(seed), progress=1.0)
        assert mutation.details["operations"] == 1
        (change,) = mutation.details["changes"]
        seen_ops.add(change["op"])
        assert mutation.spec.content_hash() != parent.content_hash()
        assert mutation.description == change["description"]
        assert mutation.description.startswith(change["block"])
        after = genome(mutation.spec)
        if change["block"] in BLOCK_IDS:
            assert after["blocks"][change["block"]] != before["blocks"][change["block"]]
            others = [b for b in BLOCK_IDS if b != change["block"]]
            assert all(after["blocks"][b] == before["blocks"][b] for b in others)
        else:
            assert after["stem"] != before["stem"] and after["blocks"] == before["blocks"]
    assert len(seen_ops) >= 3  # several operators are exercised


def test_descriptions_read_as_documented():
    space = reduced_space()
    parent = space.sample(random.Random(5))
    patterns = {
        "kind": r"^res\d branch \d kind \S+->\S+ \(",
        "conv_type": r"^res\d branch \d conv type2? (conv3d|conv2p1|itgm)->(conv3d|conv2p1|itgm)$",
        "temporal": r"^res\d branch \d \(\S+\) temporal2? \d+->\d+$",
        "add_branch": r"^res\d added branch \d ",
        "remove_branch": r"^res\d removed branch \d \(",
        "repeats": r"^res\d repeats \d->\d$",
        "stem": r"^stem (convop1|time1) \S+->\S+$",
        "pool_time": r"^pool\d(\+pool\d)? temporal \d+->\d+ \(max_pool\d_time\)$",
    }

    before = genome(parent)
    for seed in range(40):
        child = parent.copy()
        record = space._apply(child, random.Random(seed))
        assert re.match(patterns[record["op"]], record["description"]), record["description"]
        # every described operation really happened
        assert child.content_hash() != parent.content_hash()
        after = genome(child)
        if record["op"] in ("conv_type", "temporal"):
            new = record["description"].rsplit("->", 1)[1]
            assert str(after["blocks"][record["block"]]["branches"][record["branch"]][record["field"]]) == new
        elif record["block"] in BLOCK_IDS:
            assert after["blocks"][record["block"]] != before["blocks"][record["block"]]
        else:
            assert after["stem"] != before["stem"]


def test_early_progress_applies_more_operations_than_late():
    space = reduced_space()
    parent = space.sample(random.Random(2))
    early = [space.mutate(parent, random.Random(s), progress=0.0) for s in range(4)]
    late = [space.mutate(parent, random.Random(s), progress=1.0) for s in range(4)]
    early_ops = [m.details["operations"] for m in early]
    late_ops = [m.details["operations"] for m in late]
    assert sum(early_ops) / len(early_ops) > sum(late_ops) / len(late_ops)
    assert late_ops == [1] * len(late_ops)
    for m in early + late:
        if not m.details["fallback"]:
            assert len(m.description.split("; ")) == m.details["operations"]
    # the schedule itself: linear from max_ops to min_ops in expectation
    means = []
    for p in (0.0, 0.25, 0.5, 0.75, 1.0):
        rng = random.Random(0)
        means.append(sum(space.operation_count(p, rng) for _ in range(2000)) / 2000)
    assert means[0] == 3 and means[-1] == 1
    assert all(a > b for a, b in zip(means, means[1:]))
    assert abs(means[2] - 2.0) < 0.1


def test_same_seed_gives_same_sample_and_child():
    space = reduced_space()
    a, b = space.sample(random.Random(42)), space.sample(random.Random(42))
    assert a.to_json() == b.to_json()
    m1 = space.mutate(a, random.Random(7), progress=0.3)
    m2 = space.mutate(b, random.Random(7), progress=0.3)
    assert m1.spec.to_json() == m2.spec.to_json()
    assert m1.description == m2.description and m1.details == m2.details


def test_suggest_with_optuna_trials_yields_valid_specs():
    space = reduced_space()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    hashes = set()
    for _ in range(3):
        trial = study.ask()
        spec = space.suggest(trial)
        assert_canonical(spec, space)
        assert_in_band(spec, space.config)
        hashes.add(spec.content_hash())
        params = trial.params
        assert {"stem.convop1", "stem.time1", "res2.n_branches", "res2.repeats", "res2.b0.kind"} <= set(params)
        if not spec.meta.get("suggest_fallback"):
            for block in BLOCK_IDS:
                node = spec.node(block)
                assert len(node.attrs["branches"]) == params[f"{block}.n_branches"]
                assert node.attrs["repeats"] == params[f"{block}.repeats"]
                assert node.attrs["branches"][0]["kind"] == params[f"{block}.b0.kind"]
            assert spec.node("stem").attrs["conv_type"] == params["stem.convop1"]
        study.tell(trial, 0.5)
    assert len(hashes) == 3


def test_suggest_falls_back_when_the_suggestion_is_out_of_band():
    config = SpaceConfig(num_classes=5, min_params=0, max_params=110_000)
    space = EvaNetSpace(config)
    trial = optuna.trial.FixedTrial(
        {"stem.convop1": "conv3d", "stem.time1": 3, "stem.max_pool1_time": 1, "stem.max_pool3_time": 1, "stem.max_pool4_time": 1,
         **{f"{b}.{k}": v for b in BLOCK_IDS for k, v in (("repeats", 3), ("n_branches", 1), ("b0.kind", "conv"), ("b0.conv_type", "conv3d"), ("b0.time", 11))}}
    )
    spec = space.suggest(trial)
    assert spec.meta.get("suggest_fallback") is True
    assert_in_band(spec, config)


def _genome_spec(space, rng):
    return space.build(space.random_genome(rng))


def test_diversity_is_zero_for_equal_positive_for_different_and_symmetric():
    space = full_space()
    rng = random.Random(9)
    specs = [_genome_spec(space, rng) for _ in range(6)]
    for a in specs:
        assert diversity(a, a) == 0.0
        assert diversity(a, a.copy()) == 0.0
        for b in specs:
            assert diversity(a, b) == diversity(b, a)
            assert 0.0 <= diversity(a, b) <= 1.0
            if a.content_hash() != b.content_hash():
                assert diversity(a, b) > 0.0
    # branch order does not change the network's function, so it does not count
    a = specs[0]
    shuffled = a.copy()
    for node in shuffled.nodes:
        if node.type == "evanet_block":
            node.attrs["branches"] = list(reversed(node.attrs["branches"]))
    assert diversity(a, shuffled) == 0.0
    # one changed gene is closer than a whole new genome
    one = a.copy()
    one.node("stem").attrs["temporal_kernel"] = 1 if a.node("stem").attrs["temporal_kernel"] != 1 else 3
    assert 0.0 < diversity(a, one) < max(diversity(a, b) for b in specs[1:])


def test_tight_band_uses_the_fallbacks_and_stays_valid():
    config = SpaceConfig(num_classes=5, max_params=100_000)
    space = EvaNetSpace(config)
    spec = space.sample(random.Random(0))
    assert_in_band(spec, config)
    mutation = space.mutate(spec, random.Random(0), progress=0.0)
    assert mutation.spec.content_hash() != spec.content_hash()
    assert assert_in_band(mutation.spec, config) == mutation.details["params"]
    assert mutation.details["fallback"] or mutation.details["operations"] >= 1


def test_impossible_budget_and_foreign_specs_are_refused():
    with pytest.raises(ValueError, match="max_params"):
        EvaNetSpace(SpaceConfig(num_classes=5, max_params=1_000))
    space = reduced_space()
    spec = space.sample(random.Random(1))
    foreign = spec.copy()
    foreign.family = "tvn"
    with pytest.raises(ValueError, match="tvn"):
        space.mutate(foreign, random.Random(0))


def test_quick_params_matches_analyze():
    space = reduced_space(frames=4, size=16)
    rng = random.Random(4)
    for _ in range(4):
        spec = _genome_spec(space, rng)
        assert space.quick_params(spec) == analyze(spec, num_classes=5).params
    foreign = spec.copy()
    foreign.edges = list(reversed(foreign.edges))
    assert space.quick_params(foreign) is None
