"""AssembleNet search space: validity, connection-guided mutation, determinism, Optuna.

``analyze`` costs ~0.3 s per spec on the meta device, so the space's own call is
wrapped by a recorder: a spec counts as valid only if the real ``analyze`` accepted
exactly that content with this config's classes and budget (no second analyze).
"""
from __future__ import annotations

import functools
import math
import random
import re
from unittest import mock

import optuna
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archsearch.spaces.assemblenet as asn
from archsearch.spaces import make_space
from archsearch.spaces.assemblenet import (
    OPERATIONS,
    AssembleNetSpace,
    edge_weights_from_model,
    estimate_params,
    spec_from_structure,
)
from archsearch.spaces.base import SpaceConfig
from videomodels import ArchSpec, Budget, analyze, build_model

CONFIG = SpaceConfig(num_classes=5, frames=8, size=32)
BAND = SpaceConfig(num_classes=5, frames=8, size=32, min_params=500_000, max_params=1_300_000)
WEAK, STRONG = 0.05, 0.9
# Three stems, three L0, two L1, one L2, one L3 (spec_from_structure numbering n0..n9).
STRUCTURE = [
    [-1, 1], [-2, 1], [-1, 2],
    [0, [0, 1], 8, 1, 1],
    [0, [0, 1, 2], 8, 2, 1],
    [0, [1, 2], 8, 4, 1],
    [1, [3, 4, 5, 0], 16, 1, 2],
    [1, [4, 5], 16, 2, 2],
    [2, [6, 7, 3], 32, 1, 2],
    [3, [8, 6], 64, 1, 2],
]


class Recorder:
    """Wraps the real analyze; remembers the parameter count it accepted per content and config
    (one spec can be analysed under both configs: keyed by hash alone, the second would overwrite)."""

    def __init__(self):
        self.accepted: dict[tuple[str, int, int], int] = {}

    def __call__(self, spec, *, num_classes=None, budget=Budget()):
        analysis = analyze(spec, num_classes=num_classes, budget=budget)
        self.accepted[(spec.content_hash(), num_classes, budget.max_params)] = analysis.params
        return analysis


RECORDER = Recorder()


@pytest.fixture(scope="module", autouse=True)
def record_analyze():
    with mock.patch.object(asn, "analyze", RECORDER):
        yield


def assert_valid(spec: ArchSpec, config: SpaceConfig) -> int:
    """The real analyze accepted this spec for ``config``; params lie in the band; the
    graph has the space's shape. Returns the parameter count."""
    key = (spec.content_hash(), config.num_classes, config.max_params)
    params = RECORDER.accepted.get(key)
    if params is None:
        params = analyze(spec, num_classes=config.num_classes, budget=Budget(max_params=config.max_params)).params
    assert config.min_params <= params <= config.max_params
    assert estimate_params(spec, config.num_classes) == params
    position = {node.id: i for i, node in enumerate(spec.nodes)}
    for edge in spec.edges:
        if edge.source in position:
            assert position[edge.source] < position[edge.target], f"{edge} breaks the node order"
        assert edge.learnable
        assert edge.weight is None or 0.0 < edge.weight < 1.0
    finals = {n.id for n in spec.nodes if n.type == "asn_block" and n.attrs["level"] == 3}
    assert {e.source for e in spec.incoming("head")} == finals and finals
    assert len({spec.node(n).attrs["filters"] for n in finals}) == 1
    assert spec.nodes[-1].id == "head" and spec.nodes[-1].attrs["num_classes"] == config.num_classes
    return params


def fake_evaluation(spec: ArchSpec, rng: random.Random) -> dict:
    multi = {n.id for n in spec.nodes if n.type == "asn_block" and len(spec.incoming(n.id)) > 1}
    return {"edge_weights": [
        {"source": e.source, "target": e.target, "weight": rng.choice([rng.random(), rng.uniform(0.0, 0.25)])}
        for e in spec.edges if e.target in multi
    ]}


def levels(spec: ArchSpec) -> dict[str, tuple]:
    return {n.id: (n.type, n.attrs.get("level"), n.attrs.get("modality")) for n in spec.nodes}


# -- property-based ---------------------------------------------------------------
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), banded=st.booleans())
def test_samples_are_valid_and_in_band(seed, banded):
    config = BAND if banded else CONFIG
    spec = AssembleNetSpace(config).sample(random.Random(seed))
    assert_valid(spec, config)
    stems = [n for n in spec.nodes if n.type == "asn_stem"]
    assert 2 <= len(stems) <= 4 and {s.attrs["modality"] for s in stems} == {"rgb", "flow"}
    assert [s.id for s in spec.inputs] == ["rgb", "flow"]
    assert spec.input("flow").channels == 2 and spec.input("flow").frames == config.frames


# Parents for the chains, sampled once (analyze is the slow part): in BAND, hence
# also valid for CONFIG and for the same-level variant of the space.
PARENT_SEEDS = (101, 202, 303, 404)


@functools.cache
def chain_parent(index: int) -> ArchSpec:
    return AssembleNetSpace(BAND).sample(random.Random(PARENT_SEEDS[index]))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    parent=st.sampled_from(range(len(PARENT_SEEDS))),
    guided=st.lists(st.booleans(), min_size=2, max_size=2),
    banded=st.booleans(),
    same_level=st.booleans(),
)
def test_mutation_chains_stay_valid(seed, parent, guided, banded, same_level):
    config = BAND if banded else CONFIG
    space = AssembleNetSpace(config, same_level_inputs=same_level)
    rng = random.Random(seed)
    spec = chain_parent(parent).copy()
    assert_valid(spec, BAND)
    seen_ids = {n.id for n in spec.nodes}
    for with_weights in guided:
        before = spec.to_json()
        evaluation = fake_evaluation(spec, rng) if with_weights else None
        mutation = space.mutate(spec, rng, progress=0.5, evaluation=evaluation)
        assert spec.to_json() == before, "mutate modified its input"
        child = mutation.spec
        assert_valid(child, config)
        assert child.content_hash() != spec.content_hash()
        assert mutation.description and all(part.strip() for part in mutation.description.split(";"))
        # Ids are stable: a surviving id keeps its kind; a new id was never used before.
        parent_kinds, child_kinds = levels(spec), levels(child)
        for node_id, kind in child_kinds.items():
            if node_id in parent_kinds:
                assert parent_kinds[node_id] == kind
            else:
                assert node_id not in seen_ids
        seen_ids |= set(child_kinds)
        if with_weights:
            weights = {(e["source"], e["target"]): e["weight"] for e in evaluation["edge_weights"]}
            for record in mutation.details["dropped"]:
                assert weights[(record["source"], record["target"])] < space.drop_threshold
                assert f"dropped edge {record['source']}->{record['target']}" in mutation.description
            assert len(mutation.details["dropped"]) <= space.max_drops
        spec = child


# -- connection-learning-guided mutation --------------------------------------------
def structure_spec() -> ArchSpec:
    return spec_from_structure(STRUCTURE, CONFIG)


def evaluation_for(spec: ArchSpec, weak: set[tuple[str, str]]) -> dict:
    multi = {n.id for n in spec.nodes if len(spec.incoming(n.id)) > 1 and n.type == "asn_block"}
    return {"edge_weights": [
        {"source": e.source, "target": e.target, "weight": WEAK if (e.source, e.target) in weak else STRONG}
        for e in spec.edges if e.target in multi
    ]}


def test_weak_edges_are_dropped_strong_ones_carried():
    parent = structure_spec()
    assert_valid(parent, CONFIG)
    weak = {("n0", "n6"), ("n4", "n7"), ("n5", "n7"), ("n3", "n8"), ("n7", "n8")}
    evaluation = evaluation_for(parent, weak)
    before = parent.to_json()
    space = AssembleNetSpace(CONFIG, structural_rate=0.0, max_drops=5)
    mutation = space.mutate(parent, random.Random(1), evaluation=evaluation)
    child = mutation.spec
    assert parent.to_json() == before
    assert_valid(child, CONFIG)
    pairs = {(e.source, e.target): e for e in child.edges}
    dropped = {("n0", "n6"), ("n4", "n7"), ("n3", "n8")}
    # n5->n7 is n7's last input once n4->n7 is gone; n7->n8 is n7's only consumer.
    assert {(d["source"], d["target"]) for d in mutation.details["dropped"]} == dropped
    assert not dropped & set(pairs)
    assert pairs[("n5", "n7")].weight == pytest.approx(WEAK) and pairs[("n7", "n8")].weight == pytest.approx(WEAK)
    kept = {(k["source"], k["target"]): k["reason"] for k in mutation.details["kept_weak"]}
    assert kept == {("n5", "n7"): "last input", ("n7", "n8"): "last consumer"}
    for entry in evaluation["edge_weights"]:
        if entry["weight"] == STRONG:
            edge = pairs[(entry["source"], entry["target"])]
            assert edge.weight == pytest.approx(STRONG) and edge.learnable
    for source, target in sorted(dropped):
        assert f"dropped edge {source}->{target} (w=0.05)" in mutation.description
    added = [(a["source"], a["target"]) for a in mutation.details["added"]]
    assert len(added) == 3 and not set(added) & dropped
    for pair in added:
        assert pairs[pair].weight is None and f"added edge {pair[0]}->{pair[1]}" in mutation.description
    assert set(pairs) == (set((e.source, e.target) for e in parent.edges) - dropped) | set(added)


def test_max_drops_keeps_the_weakest_first():
    parent = structure_spec()
    evaluation = evaluation_for(parent, set())
    for entry in evaluation["edge_weights"]:
        if (entry["source"], entry["target"]) == ("n3", "n8"):
            entry["weight"] = 0.01
        if (entry["source"], entry["target"]) == ("n0", "n6"):
            entry["weight"] = 0.1
    mutation = AssembleNetSpace(CONFIG, structural_rate=0.0, max_drops=1).mutate(parent, random.Random(0), evaluation=evaluation)
    assert mutation.details["dropped"] == [{"source": "n3", "target": "n8", "weight": 0.01}]
    assert mutation.details["kept_weak"] == [{"source": "n0", "target": "n6", "weight": 0.1, "reason": "max_drops"}]
    assert "dropped edge n3->n8 (w=0.01)" in mutation.description
    pairs = {(e.source, e.target): e.weight for e in mutation.spec.edges}
    assert ("n3", "n8") not in pairs and pairs[("n0", "n6")] == pytest.approx(0.1)


def test_all_strong_weights_drop_nothing():
    parent = structure_spec()
    mutation = AssembleNetSpace(CONFIG, structural_rate=0.0).mutate(parent, random.Random(2), evaluation=evaluation_for(parent, set()))
    assert mutation.details["dropped"] == [] and "dropped" not in mutation.description
    child_pairs = {(e.source, e.target) for e in mutation.spec.edges}
    assert {(e.source, e.target) for e in parent.edges} <= child_pairs
    assert len(mutation.details["added"]) == 1 and mutation.description.startswith("added edge ")
    assert mutation.details["carried_weights"] == len(evaluation_for(parent, set())["edge_weights"])


def test_edge_weights_from_a_real_model_feed_mutation():
    spec = AssembleNetSpace(CONFIG).sample(random.Random(5))
    model = build_model(spec, num_classes=CONFIG.num_classes)
    expected = {}
    with torch.no_grad():
        for node_id, fusion in model.fusions.items():
            values = torch.linspace(-3.0, 3.0, fusion.learned_logits.numel())
            fusion.learned_logits.copy_(values)
            for edge, value in zip(spec.incoming(node_id), values.tolist()):
                expected[(edge.source, edge.target)] = 1.0 / (1.0 + math.exp(-value))
    entries = edge_weights_from_model(model)
    multi = {(e.source, e.target) for e in spec.edges if e.target != "head" and len(spec.incoming(e.target)) > 1}
    assert multi and {(e["source"], e["target"]) for e in entries} == multi
    for entry in entries:
        assert set(entry) == {"source", "target", "weight"} and isinstance(entry["weight"], float)
        assert entry["weight"] == pytest.approx(expected[(entry["source"], entry["target"])], abs=1e-5)
    mutation = AssembleNetSpace(CONFIG, structural_rate=0.0).mutate(spec, random.Random(0), evaluation={"edge_weights": entries})
    assert_valid(mutation.spec, CONFIG)
    weights = {(e["source"], e["target"]): e["weight"] for e in entries}
    assert mutation.details["carried_weights"] == len(entries)
    for edge in mutation.spec.edges:
        if (edge.source, edge.target) in weights:
            assert edge.weight == pytest.approx(weights[(edge.source, edge.target)])
    weak = {pair for pair, w in weights.items() if w < 0.2}
    handled = mutation.details["dropped"] + mutation.details["kept_weak"]
    assert weak and {(d["source"], d["target"]) for d in handled} == weak
    assert mutation.details["dropped"]


# -- each operation ------------------------------------------------------------------
@pytest.fixture(scope="module")
def parent() -> ArchSpec:
    return structure_spec()


@pytest.mark.parametrize("op", OPERATIONS)
def test_each_operation(parent, op):
    space = AssembleNetSpace(CONFIG, op_weights={op: 1.0})
    mutation = space.mutate(parent, random.Random(3))
    child, text = mutation.spec, mutation.description
    assert_valid(child, CONFIG)
    assert mutation.details["operations"][0]["op"] == op and "fallback" not in mutation.details
    old_pairs = {(e.source, e.target) for e in parent.edges}
    new_pairs = {(e.source, e.target) for e in child.edges}
    if op == "add_edge":
        (source, target), = new_pairs - old_pairs
        assert text == f"added edge {source}->{target}" and old_pairs < new_pairs
        assert child.node(target).type == "asn_block"
    elif op == "split":
        node, new = re.fullmatch(r"split (n\d+) into \1, (n\d+)", text).groups()
        assert new not in levels(parent) and int(new[1:]) >= 10
        assert levels(child)[new] == levels(parent)[node]
        consumers = {t for s, t in old_pairs if s == node}
        assert {t for s, t in new_pairs if s == new} == consumers == {t for s, t in new_pairs if s == node}
        assert {s for s, t in new_pairs if t in (node, new)} == {s for s, t in old_pairs if t == node}
    elif op == "merge":
        gone, keep = re.fullmatch(r"merged (n\d+) into (n\d+)", text).groups()
        assert gone not in levels(child) and levels(parent)[gone] == levels(parent)[keep]
        assert {t for s, t in old_pairs if s in (gone, keep)} == {t for s, t in new_pairs if s == keep}
        assert {s for s, t in old_pairs if t in (gone, keep)} - {keep} == {s for s, t in new_pairs if t == keep}
    elif op in ("dilation", "stem_dilation"):
        node, old, new = re.fullmatch(r"(?:stem )?(n\d+) dilation (\d+)->(\d+)", text).groups()
        assert child.node(node).attrs["temporal_dilation"] == int(new) != int(old)
        assert parent.node(node).attrs["temporal_dilation"] == int(old)
        assert (child.node(node).type == "asn_stem") == (op == "stem_dilation")
        if op == "stem_dilation":
            assert child.node(node).attrs["modality"] == "rgb"
        assert old_pairs == new_pairs
    elif op == "filters":
        for node, old, new in re.findall(r"(n\d+) filters (\d+)->(\d+)", text):
            assert parent.node(node).attrs["filters"] == int(old) and child.node(node).attrs["filters"] == int(new)
        assert re.fullmatch(r"(n\d+ filters \d+->\d+)(; n\d+ filters \d+->\d+)*", text)


# -- determinism, suggest, forward ---------------------------------------------------
def test_same_seed_same_child():
    space = AssembleNetSpace(CONFIG)
    first = space.sample(random.Random(11))
    assert AssembleNetSpace(CONFIG).sample(random.Random(11)).to_json() == first.to_json()
    evaluation = fake_evaluation(first, random.Random(4))
    a = space.mutate(first, random.Random(9), evaluation=evaluation)
    b = AssembleNetSpace(CONFIG).mutate(first, random.Random(9), evaluation=evaluation)
    assert a.spec.to_json() == b.spec.to_json() and a.description == b.description and a.details == b.details
    others = {space.mutate(first, random.Random(seed)).spec.content_hash() for seed in range(3)}
    assert len(others) > 1


@pytest.mark.parametrize("config", [CONFIG, SpaceConfig(num_classes=7, frames=8, size=32, max_params=700_000)])
def test_suggest_with_optuna(config):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    space = AssembleNetSpace(config)
    repairs = []
    for _ in range(3):
        trial = study.ask()
        spec = space.suggest(trial)
        assert_valid(spec, config)
        assert {"stems", "l0_nodes", "l3_filters"} <= set(trial.params)
        assert any("_from_" in name for name in trial.params)
        repairs += trial.user_attrs.get("assemblenet_repairs", [])
        study.tell(trial, 0.0)
    assert not any("replaced" in note for note in repairs)  # repaired in place, not resampled
    if config.max_params < CONFIG.max_params:
        assert any(re.fullmatch(r"n\d+ filters \d+->\d+", note) for note in repairs)


def test_sampled_model_runs_forward():
    space = make_space("assemblenet", CONFIG)
    assert isinstance(space, AssembleNetSpace) and space.family == "assemblenet"
    spec = space.sample(random.Random(0))
    model = build_model(spec, num_classes=CONFIG.num_classes).eval()
    with torch.no_grad():
        logits = model({"rgb": torch.randn(2, 3, 8, 32, 32), "flow": torch.randn(2, 2, 8, 32, 32)})
    assert logits.shape == (2, 5) and torch.isfinite(logits).all()


def test_representation_flow_option():
    space = AssembleNetSpace(CONFIG, flow="repflow")
    spec = space.sample(random.Random(2))
    assert_valid(spec, CONFIG)
    assert [s.id for s in spec.inputs] == ["rgb"]
    flow_stems = [n.id for n in spec.nodes if n.type == "asn_stem" and n.attrs["modality"] == "flow"]
    assert flow_stems and all(e.source == "repflow" for n in flow_stems for e in spec.incoming(n))
    child = space.mutate(spec, random.Random(0), evaluation=fake_evaluation(spec, random.Random(0))).spec
    assert_valid(child, CONFIG)
    assert spec.node("repflow").type == "representation_flow"


def test_bad_options_and_unreachable_band_are_refused():
    with pytest.raises(ValueError):
        AssembleNetSpace(CONFIG, flow="tvl1")
    with pytest.raises(ValueError):
        AssembleNetSpace(CONFIG, op_weights={"grow": 1.0})
    with pytest.raises(ValueError):
        AssembleNetSpace(SpaceConfig(num_classes=5, max_params=1_000), max_attempts=1).sample(random.Random(0))


def test_out_of_band_mutations_fall_back_to_a_dilation_change():
    parent = structure_spec()
    params = assert_valid(parent, CONFIG)
    tight = SpaceConfig(num_classes=5, frames=8, size=32, min_params=params - 10, max_params=params + 10)
    mutation = AssembleNetSpace(tight, op_weights={"split": 1.0}, max_attempts=3).mutate(parent, random.Random(0))
    assert mutation.details["fallback"] is True
    node, old, new = re.fullmatch(r"(n\d+) dilation (\d+)->(\d+)", mutation.description).groups()
    assert mutation.spec.node(node).attrs["temporal_dilation"] == int(new) != int(old)
    assert assert_valid(mutation.spec, tight) == params
