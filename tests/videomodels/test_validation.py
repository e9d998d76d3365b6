import time

import pytest

from videomodels import ArchSpec, Budget, SpecError, analyze, validate


def problems_of(data, **kwargs) -> dict[str, str]:
    with pytest.raises(SpecError) as info:
        validate(data, **kwargs)
    found: dict[str, str] = {}
    for problem in info.value.problems:
        found[problem.location] = " | ".join(filter(None, [found.get(problem.location), problem.message]))
    return found


def test_tiny_spec_is_valid_and_priced(tiny_tvn):
    analysis = validate(tiny_tvn)
    assert analysis.params > 0 and analysis.macs > 0
    assert analysis.output_shape == (5,)
    # 32 -> 16 -> 8 spatially; 4 frames -> 2 after the temporal max-pool (stride 2).
    assert analysis.nodes["b1"].output_shape == (16, 2, 8, 8)


def test_every_problem_is_reported_at_once_with_locations(tiny_tvn):
    tiny_tvn["nodes"][0]["attrs"]["temporal_kernel"] = "three"
    tiny_tvn["nodes"][0]["attrs"]["colour"] = "red"
    tiny_tvn["nodes"][1]["attrs"]["spatial_type"] = "hexagonal"
    tiny_tvn["nodes"][1]["attrs"]["squeeze"] = 1.5
    tiny_tvn["edges"].append({"source": "b9", "target": "head"})
    found = problems_of(tiny_tvn)
    assert "integer" in found["nodes[0].attrs.temporal_kernel"]
    assert "unknown attribute" in found["nodes[0].attrs.colour"]
    assert "hexagonal" in found["nodes[1].attrs.spatial_type"]
    assert "at most 1" in found["nodes[1].attrs.squeeze"]
    assert "b9" in found["edges[3].source"]


def test_unknown_node_type_names_the_legal_ones(tiny_tvn):
    tiny_tvn["nodes"][1]["type"] = "asn_block"
    found = problems_of(tiny_tvn)
    assert "unknown node type 'asn_block' for family 'tvn'" in found["nodes[1].type"]
    assert "tvn_block" in found["nodes[1].type"]


def test_odd_kernel_rule_for_evanet_branch():
    from videomodels.presets import get_preset

    data = get_preset("evanet-1").to_dict()
    index = next(i for i, n in enumerate(data["nodes"]) if n["type"] == "evanet_block")
    data["nodes"][index]["attrs"]["branches"][0]["temporal_kernel"] = 4
    found = problems_of(data)
    assert found[f"nodes[{index}].attrs.branches[0].temporal_kernel"] == "must be odd, got 4"


def test_cycle_is_reported(tiny_tvn):
    tiny_tvn["edges"].append({"source": "b1", "target": "b0"})
    found = problems_of(tiny_tvn)
    assert "cycle" in found["nodes[0]"] and "cycle" in found["nodes[1]"]


def test_unreachable_node_and_dangling_output(tiny_tvn):
    tiny_tvn["nodes"].insert(2, {"id": "island", "type": "tvn_block", "attrs": {"filters": 4}})
    found = problems_of(tiny_tvn)
    assert "unreachable" in found["nodes[2]"]


def test_output_never_used_is_reported(tiny_tvn):
    tiny_tvn["nodes"].insert(2, {"id": "spur", "type": "tvn_block", "attrs": {"filters": 4}})
    tiny_tvn["edges"].append({"source": "b0", "target": "spur"})
    found = problems_of(tiny_tvn)
    assert "never used" in found["nodes[2]"]


def test_no_output_is_reported(tiny_tvn):
    tiny_tvn["nodes"].pop()
    tiny_tvn["edges"].pop()
    found = problems_of(tiny_tvn)
    assert "no output" in found["nodes"]


def test_edge_to_missing_node_and_into_input(tiny_tvn):
    tiny_tvn["edges"].append({"source": "b0", "target": "ghost"})
    tiny_tvn["edges"].append({"source": "b0", "target": "rgb"})
    found = problems_of(tiny_tvn)
    assert "ghost" in found["edges[3].target"]
    assert "input cannot receive" in found["edges[4].target"]


def test_edge_weight_must_be_post_sigmoid(tiny_tvn):
    tiny_tvn["edges"][0]["weight"] = 1.5
    found = problems_of(tiny_tvn)
    assert "between 0 and 1" in found["edges[0].weight"]


def test_shapes_that_do_not_fit_name_the_node(tiny_tvn):
    # Two inputs with different channel counts (24 vs 16) into a classifier cannot be averaged.
    tiny_tvn["nodes"][0]["attrs"]["expand"] = 3
    tiny_tvn["edges"].append({"source": "b0", "target": "head"})
    found = problems_of(tiny_tvn)
    assert "does not fit" in found["nodes[2]"] and "channel" in found["nodes[2]"]


def test_malformed_top_level_is_reported_not_crashed():
    found = problems_of({"family": "tvn", "inputs": "rgb", "nodes": [3], "edges": None, "extra": 1})
    assert "must be a list" in found["inputs"]
    assert "must be an object" in found["nodes[0]"]
    assert "must be a list" in found["edges"]
    assert "unknown top-level key" in found["extra"]


def test_million_channels_refused_fast_without_allocating(tiny_tvn):
    tiny_tvn["nodes"][0]["attrs"]["filters"] = 1_000_000
    start = time.perf_counter()
    found = problems_of(tiny_tvn)
    assert time.perf_counter() - start < 5  # generous; the real figure is in the closing note
    assert "at most" in found["nodes[0].attrs.filters"]


def test_budget_refuses_before_allocation(tiny_tvn):
    with pytest.raises(SpecError) as info:
        validate(tiny_tvn, budget=Budget(max_params=1000))
    assert "parameter budget exceeded" in str(info.value)
    with pytest.raises(SpecError) as info:
        validate(tiny_tvn, budget=Budget(max_macs=1000))
    assert "multiply-add budget exceeded" in str(info.value)


def test_budget_check_on_huge_but_legal_spec_is_quick(tiny_tvn):
    # 8192 filters x 16 repeats at 4096 px is legal attribute-wise but far over budget.
    tiny_tvn["inputs"][0]["size"] = 4096
    tiny_tvn["nodes"][1]["attrs"].update(filters=8192, repeats=16, expand=16)
    start = time.perf_counter()
    with pytest.raises(SpecError) as info:
        analyze(ArchSpec.from_dict(tiny_tvn))
    assert time.perf_counter() - start < 10
    assert "budget exceeded" in str(info.value)


def test_defaults_are_filled_in(tiny_tvn):
    analysis = validate(tiny_tvn)
    attrs = analysis.spec.node("b0").attrs
    assert attrs["repeats"] == 1 and attrs["act"] == "relu" and attrs["skip"] is False


def test_non_local_is_refused_with_reason(tiny_tvn):
    tiny_tvn["nodes"][0]["attrs"]["non_local"] = 32
    found = problems_of(tiny_tvn)
    assert "not supported" in found["nodes[0].attrs.non_local"]


def test_a_memoised_analysis_still_enforces_a_smaller_budget():
    # Analysed once under a generous budget, the same spec must still be refused, with the
    # node named, under a budget it does not fit.
    from videomodels.presets import get_preset

    spec = get_preset("baseline-2d")
    params = analyze(spec, budget=Budget(max_params=10**8)).params
    assert analyze(spec, budget=Budget(max_params=params)).params == params
    with pytest.raises(SpecError, match="parameter budget exceeded"):
        analyze(spec, budget=Budget(max_params=params - 1))


def test_node_cost_cache_gives_the_same_analysis_as_a_cold_one():
    """Mutated children share nodes with their parents; a cached node cost must equal a measured one."""
    import random

    from archsearch.spaces import SpaceConfig, make_space
    from videomodels import graph

    rng = random.Random(5)
    for family in ("tvn", "evanet", "assemblenet"):
        space = make_space(family, SpaceConfig(num_classes=4, frames=8, size=32, max_params=2_000_000))
        parent = space.sample(rng)
        specs = [parent] + [space.mutate(parent, rng).spec for _ in range(3)]
        for spec in specs:
            graph._ANALYSES.clear()
            warm = analyze(spec, num_classes=4)
            graph._ANALYSES.clear()
            graph.NODE_COSTS.clear()
            cold = analyze(spec, num_classes=4)
            assert (warm.params, warm.macs, warm.output_shape) == (cold.params, cold.macs, cold.output_shape)
            assert {n: (c.output_shape, c.macs) for n, c in warm.nodes.items()} == {n: (c.output_shape, c.macs) for n, c in cold.nodes.items()}
