"""The editor's fast analysis agrees with videomodels' own (it memoises per node), before and
after edits; search-space warnings come from the spaces' choices; oversized specs are refused
before the validator runs."""
from __future__ import annotations

import copy

import pytest

from videomodels.graph import analyze
from videomodels.presets import PUBLISHED_NAMES, get_preset
from videomodels.archspec import ArchSpec
from webapp.architectures.analysis import MAX_NODES, analyze_data


def same_as_videomodels(data: dict) -> None:
    report = analyze_data(data)
    truth = analyze(ArchSpec.from_dict(data))
    assert report.valid, report.problems
    assert (report.totals["params"], report.totals["macs"]) == (truth.params, truth.macs)
    assert report.totals["output_shape"] == list(truth.output_shape)
    for node_id, cost in truth.nodes.items():
        mine = report.nodes[node_id]
        assert (tuple(mine["output_shape"]), mine["params"], mine["macs"]) == (cost.output_shape, cost.params, cost.macs), node_id


@pytest.mark.parametrize("name", ["assemblenet-plus", "evanet-2", "tvn-mobile-1", "assemblenet-small"])
def test_matches_videomodels_on_presets_and_after_edits(name):
    data = get_preset(name).to_dict()
    for stream in data["inputs"]:  # small clips keep the test fast; the graphs stay the published ones
        stream["frames"], stream["size"] = min(stream["frames"], 8), min(stream["size"], 64)
    for node in data["nodes"]:
        if node["type"] == "representation_flow":
            node["attrs"]["iterations"] = 2
    same_as_videomodels(data)
    edited = copy.deepcopy(data)
    # An edit that changes shapes downstream: the input gets smaller, and one node changes.
    edited["inputs"][0]["size"] = edited["inputs"][0]["size"] // 2
    node = next(n for n in edited["nodes"] if n["type"] in ("asn_block", "evanet_block", "tvn_block"))
    node["attrs"]["filters"] = node["attrs"]["filters"] * 2
    same_as_videomodels(edited)


def test_matches_videomodels_when_edges_turn_learnable():
    # Learnable fusion weights are parameters, frozen ones buffers: a node's cost depends on its edges too.
    edited = get_preset("assemblenet-small").to_dict()
    same_as_videomodels(edited)
    for edge in edited["edges"]:
        if edge["weight"] is not None:
            edge["learnable"] = not edge["learnable"]
    same_as_videomodels(edited)


def test_search_space_warnings_name_the_attribute():
    data = get_preset("tvn-small").to_dict()
    assert analyze_data(data).warnings == []
    data["nodes"][0]["attrs"]["filters"] = 40
    warnings = analyze_data(data).warnings
    assert [w.location for w in warnings] == ["nodes[0].attrs.filters"]
    assert "(8, 16, 24, 32, 48, 64" in warnings[0].message
    assert warnings[0].message.startswith(f"node {data['nodes'][0]['id']!r}: ")  # named by id, not by its index


@pytest.mark.parametrize("name", PUBLISHED_NAMES)
def test_a_published_network_is_in_its_search_space(name):
    """The published networks are the full-size scale of the space: no warning just for being published."""
    report = analyze_data(get_preset(name).to_dict())
    assert report.valid and report.warnings == [], report.warnings


def test_an_edited_published_network_warns_by_node_id():
    data = get_preset("assemblenet-50").to_dict()
    block = next(n for n in data["nodes"] if n["type"] == "asn_block" and n["attrs"]["level"] == 1)
    block["attrs"]["filters"] = 48  # neither the scaled-down space's nor a published network's
    block["attrs"]["num_modules"] = 4  # AssembleNet-50's own value at level 1: no warning
    index = data["nodes"].index(block)
    warnings = analyze_data(data).warnings
    assert [w.location for w in warnings] == [f"nodes[{index}].attrs.filters"]
    assert warnings[0].message.startswith(f"node {block['id']!r}: level-1 filters 48 is outside the search space (8, 16, 32")
    assert "published networks also use 64, 128)" in warnings[0].message


def test_oversized_specs_are_refused_before_validation():
    data = get_preset("tvn-small").to_dict()
    data["nodes"] = [{"id": f"b{i}", "type": "tvn_block", "attrs": {"filters": 8}} for i in range(MAX_NODES + 1)]
    report = analyze_data(data)
    assert not report.valid and [p.location for p in report.problems] == ["nodes"]


def test_a_cycle_names_its_nodes_and_the_edge_that_closes_it():
    # A chain n0 -> ... -> n49 -> head, then n49 -> n10 closes a 40-node cycle; n3 -> nowhere is another problem.
    nodes = [{"id": f"n{i}", "type": "asn_block", "attrs": {"level": 0, "filters": 8}} for i in range(50)]
    nodes.append({"id": "head", "type": "classifier", "attrs": {}})
    edges = [{"source": "rgb", "target": "n0"}] + [{"source": f"n{i}", "target": f"n{i + 1}"} for i in range(49)]
    edges += [{"source": "n49", "target": "head"}, {"source": "n49", "target": "n10"}, {"source": "n3", "target": "nowhere"}]
    report = analyze_data({"family": "assemblenet", "inputs": [{"id": "rgb"}], "nodes": nodes, "edges": edges})
    problems = {p.location: p.message for p in report.problems}
    assert problems["edges[51]"].startswith("n49->n10 closes a cycle")
    assert problems["edges[52].target"] == "no node named 'nowhere'"  # located on the edges as sent
    assert {f"nodes[{i}]" for i in range(10, 50)} <= set(problems)
    assert all(problems[f"nodes[{i}]"] == f"'n{i}' is part of a cycle" for i in range(10, 50))
    assert not any(loc.startswith("edges[") and "cycle" in msg for loc, msg in problems.items() if loc != "edges[51]")
    assert "nodes[5]" not in problems  # before the cycle: fine
