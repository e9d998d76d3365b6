"""The one cost walk is incremental: after any edit its answer equals a walk from scratch,
and it re-costs only the edited node and the nodes whose inputs the edit changed."""
from __future__ import annotations

from collections import OrderedDict
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from videomodels import graph
from videomodels.archspec import ArchSpec
from videomodels.costcache import CountingLRU
from videomodels.graph import analyze
from videomodels.graphindex import Adjacency, reachable
from videomodels.presets import get_preset

BLOCKS = ["n3", "n4", "n5", "n6", "n7", "n8"]  # assemblenet-small's blocks; n0-n2 are stems
BLOCK_EDITS = {"filters": (4, 8, 16, 32), "temporal_dilation": (1, 2, 4), "num_modules": (1, 2), "attention": ("none", "peer")}


def small_assemblenet() -> ArchSpec:
    return get_preset("assemblenet-small")  # 8 frames of 32 px: a fast walk


def costs(analysis) -> dict:
    return {node_id: (tuple(map(tuple, c.input_shapes)), c.output_shape, c.params, c.macs) for node_id, c in analysis.nodes.items()}


def from_scratch(spec: ArchSpec):
    """A walk with empty caches (neither whole specs nor nodes remembered)."""
    with mock.patch.object(graph, "NODE_COSTS", CountingLRU(64)), mock.patch.object(graph, "_ANALYSES", OrderedDict()):
        return analyze(spec)


def apply(spec: ArchSpec, edit: tuple) -> None:
    kind, *args = edit
    if kind == "block":
        node_id, attr, value = args
        spec.node(node_id).attrs[attr] = value
    elif kind == "stem":
        node_id, filters = args
        spec.node(node_id).attrs["filters"] = filters
    elif kind == "edge":
        index, weight, learnable = args
        edge = spec.edges[index % len(spec.edges)]
        edge.weight, edge.learnable = weight, learnable
    else:
        spec.inputs[0].size = args[0]


block_edit = st.sampled_from(BLOCKS).flatmap(
    lambda node_id: st.sampled_from(sorted(BLOCK_EDITS)).flatmap(
        lambda attr: st.tuples(st.just("block"), st.just(node_id), st.just(attr), st.sampled_from(BLOCK_EDITS[attr]))))
edits = st.one_of(
    block_edit,
    st.tuples(st.just("stem"), st.sampled_from(["n0", "n1", "n2"]), st.sampled_from((8, 16, 42))),
    st.tuples(st.just("edge"), st.integers(0, 100), st.sampled_from((None, 0.2, 0.7)), st.booleans()),
    st.tuples(st.just("input"), st.sampled_from((24, 32, 40))),
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(edits, min_size=1, max_size=3))
def test_incremental_walk_equals_a_walk_from_scratch_after_random_edits(chain):
    spec = small_assemblenet()
    analyze(spec)  # warm: every node of the unedited spec is remembered
    for edit in chain:
        apply(spec, edit)
        incremental, cold = analyze(spec), from_scratch(spec)
        assert costs(incremental) == costs(cold), edit
        assert (incremental.params, incremental.macs, incremental.output_shape) == (cold.params, cold.macs, cold.output_shape)


def descendants(spec: ArchSpec, node_id: str) -> set[str]:
    graph_index = Adjacency([node.id for node in spec.nodes], spec.edges)
    return reachable(graph_index, [node_id]) - {node_id}


def recost(spec: ArchSpec) -> tuple[set[str], int]:
    """(ids of the nodes whose fusion or block the walk built and ran, cache misses) for one
    analysis; checks that every miss, and nothing else, was priced."""
    misses = graph.NODE_COSTS.misses
    with mock.patch.object(graph, "_price_fusion", wraps=graph._price_fusion) as fusions, \
            mock.patch.object(graph, "_price_block", wraps=graph._price_block) as blocks:
        analyze(spec)
    calls = fusions.call_args_list + blocks.call_args_list
    misses = graph.NODE_COSTS.misses - misses
    assert misses == len(calls)
    return {call.args[0].id for call in calls}, misses


@pytest.fixture
def empty_caches():
    with mock.patch.object(graph, "NODE_COSTS", CountingLRU(64)), mock.patch.object(graph, "_ANALYSES", OrderedDict()):
        yield


def test_an_edit_recosts_only_the_node_and_the_descendants_whose_inputs_changed(empty_caches):
    spec = small_assemblenet()
    assert recost(spec)[0] == {node.id for node in spec.nodes}
    assert recost(spec) == (set(), 0)  # the same spec again: the whole-spec cache answers

    # Temporal dilation keeps n4's output shape, so its consumers keep their keys; n4's
    # fusion reads only its inputs and edges, so only its block is re-costed.
    spec.node("n4").attrs["temporal_dilation"] = 4
    assert recost(spec) == ({"n4"}, 1)

    # Filters change n4's output channels: n5 and n6 read them; n7, n8 and the head see
    # unchanged inputs (n5 and n6 keep their own output shapes).
    spec.node("n4").attrs["filters"] = 16
    priced, misses = recost(spec)
    assert priced == {"n4", "n5", "n6"}
    assert priced <= {"n4"} | descendants(spec, "n4")

    # The RGB clip's size changes the RGB stems' shapes and what they feed; the flow stem keeps its key.
    spec.inputs[0].size = 40
    priced, misses = recost(spec)
    assert {"n0", "n1"} <= priced and "n2" not in priced


def test_a_fused_node_is_recosted_when_what_its_fusion_reads_changes(empty_caches):
    spec = small_assemblenet()
    analyze(spec)
    # Learnable fusion weights are parameters, frozen ones buffers: same shapes, other params.
    spec.edges[3].learnable = False  # n0 -> n3, one of n3's three inputs
    assert costs(analyze(spec)) == costs(from_scratch(spec))

    # Peer-attention reads every lower stem and block: n4's new width reaches n8 through
    # attention alone (n8's inputs n5, n6, n7 keep their shapes).
    spec.node("n8").attrs["attention"] = "peer"
    analyze(spec)
    spec.node("n4").attrs["filters"] = 16
    assert "n8" in recost(spec)[0]
    assert costs(analyze(spec)) == costs(from_scratch(spec))


def test_the_node_cost_cache_is_bounded_and_evicts_the_least_recently_used():
    cache = CountingLRU(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # now "b" is the least recently used
    cache.put("c", 3)
    assert (cache.get("b"), cache.get("a"), cache.get("c"), len(cache)) == (None, 1, 3, 2)
    assert (cache.hits, cache.misses) == (3, 1)
