"""Structural diff: known pairs, renamed ids, every change kind, families, properties."""
from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsearch.spaces import SpaceConfig, make_space
from videomodels import ArchSpec, SpecError
from videomodels.cli import main as cli_main
from videomodels.diff import diff_specs, value_changes
from videomodels.presets import get_preset

MISSING = "<missing>"


def renamed(spec: ArchSpec, prefix: str = "z_", inputs: bool = False) -> tuple[ArchSpec, dict[str, str]]:
    """A copy with every node id (and optionally input id) renamed; returns it and the renaming."""
    copy = spec.copy()
    names = {node.id: f"{prefix}{index}" for index, node in enumerate(copy.nodes)}
    if inputs:
        names.update({stream.id: f"{prefix}in{index}" for index, stream in enumerate(copy.inputs)})
        for stream in copy.inputs:
            stream.id = names[stream.id]
    for node in copy.nodes:
        node.id = names[node.id]
    for edge in copy.edges:
        edge.source, edge.target = names.get(edge.source, edge.source), names.get(edge.target, edge.target)
    return copy, names


def value_at(data, path: str):
    """Follow a ValueChange path (``a.b[2].c``) into JSON data; MISSING when absent."""
    import re

    current = data
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        if name:
            if not isinstance(current, dict) or name not in current:
                return MISSING
            current = current[name]
        else:
            current = current[int(index)]
    return current


def assert_consistent(a: ArchSpec, b: ArchSpec, result) -> None:
    """Check the diff against the two specs independently of how it was computed:
    the mapping is one-to-one, every unreported attribute is equal, every reported
    change holds, and a's edges mapped through the diff plus its edits give b's edges."""
    from videomodels.diff import _with_defaults

    a, b = _with_defaults(a), _with_defaults(b)
    node_map, input_map = result.node_map, result.input_map
    assert len(set(node_map.values())) == len(node_map)
    assert {n.id for n in result.nodes_removed} == {n.id for n in a.nodes} - set(node_map)
    assert {n.id for n in result.nodes_added} == {n.id for n in b.nodes} - set(node_map.values())
    changed = {c.id_a: c for c in result.nodes_changed}
    for id_a, id_b in node_map.items():
        node_a, node_b = a.node(id_a), b.node(id_b)
        if id_a not in changed:
            assert node_a.type == node_b.type and node_a.attrs == node_b.attrs, (id_a, id_b)
            continue
        for change in changed[id_a].changes:
            if change.path == "type":
                assert (change.old, change.new) == (node_a.type, node_b.type)
            else:
                assert value_at(node_a.attrs, change.path) == change.old
                assert value_at(node_b.attrs, change.path) == change.new
    mapping = {**input_map, **node_map}
    known = {n.id for n in a.nodes} | {s.id for s in a.inputs}

    def to_b(endpoint):  # a dangling endpoint (no such node) keeps its name
        return mapping.get(endpoint) if endpoint in known else endpoint

    mapped = {(to_b(e.source), to_b(e.target)): e for e in a.edges}
    removed = {(e.source, e.target) for e in result.edges_removed}
    kept = {key: e for (key, e) in mapped.items() if (e.source, e.target) not in removed}
    rebuilt = set(kept) | {(e.source, e.target) for e in result.edges_added}
    assert rebuilt == {(e.source, e.target) for e in b.edges}
    weight_changes = {(c.source_b, c.target_b): c for c in result.edges_changed}
    b_edges = {(e.source, e.target): e for e in b.edges}
    for key, edge in kept.items():
        partner = b_edges[key]
        if key in weight_changes:
            change = weight_changes[key]
            assert (change.weight_old, change.weight_new) == (edge.weight, partner.weight)
            assert (change.learnable_old, change.learnable_new) == (edge.learnable, partner.learnable)
        else:
            assert (edge.weight, edge.learnable) == (partner.weight, partner.learnable)
    json.dumps(result.to_dict())  # plain data all the way down


# ---------------------------------------------------------------- known pairs


@pytest.mark.parametrize("family", ["tvn", "evanet", "assemblenet"])
def test_parent_child_from_a_real_mutation(family):
    space = make_space(family, SpaceConfig(num_classes=4, frames=8, size=32))
    rng = random.Random(3)
    parent = space.sample(rng)
    for _ in range(4):
        mutation = space.mutate(parent, rng)
        child = mutation.spec
        result = diff_specs(parent, child)
        assert_consistent(parent, child, result)
        assert not result.is_empty, mutation.description
        # Mutations keep ids: every surviving node is matched by its own id.
        survivors = {n.id for n in parent.nodes} & {n.id for n in child.nodes}
        assert {a for a, how in result.matched_by.items() if how == "id"} == survivors
        assert all(result.node_map[n] == n for n in survivors)
        parent = child


def test_assemblenet_mutation_details_show_up_in_the_diff():
    space = make_space("assemblenet", SpaceConfig(num_classes=4, frames=8, size=32))
    rng = random.Random(1)
    parent = space.sample(rng)
    seen_ops = set()
    for _ in range(12):
        mutation = space.mutate(parent, rng)
        result = diff_specs(parent, mutation.spec)
        added = {(e.source, e.target) for e in result.edges_added}
        removed_nodes = {n.id for n in result.nodes_removed}
        changed = {c.id_a: {ch.path: (ch.old, ch.new) for ch in c.changes} for c in result.nodes_changed}
        for op in mutation.details.get("operations", []):
            seen_ops.add(op["op"])
            if op["op"] == "add_edge":
                assert (op["source"], op["target"]) in added
            elif op["op"] == "merge":
                assert op["removed"] in removed_nodes
            elif op["op"] == "dilation":
                assert ("temporal_dilation" in changed[op["node"]]
                        and changed[op["node"]]["temporal_dilation"] == (op["old"], op["new"]))
        parent = mutation.spec
    assert seen_ops  # the loop checked something


@pytest.mark.parametrize("preset", ["assemblenet-101", "evanet-1", "tvn-2", "assemblenet-small"])
def test_structurally_equal_specs_with_renamed_ids_give_an_empty_diff(preset):
    a = get_preset(preset)
    b, names = renamed(a, inputs=True)
    for match_ids in (True, False):
        result = diff_specs(a, b, match_ids=match_ids)
        assert result.is_empty, result.lines()
        assert result.node_map == {k: v for k, v in names.items() if k in {n.id for n in a.nodes}}
        assert result.input_map == {s.id: names[s.id] for s in a.inputs}
        assert set(result.matched_by.values()) == {"structure"}
        assert "renamed" in result.summary()


def test_renamed_ids_and_one_change_matches_the_rest_by_structure():
    a = get_preset("assemblenet-101")
    b, names = renamed(a)
    target = b.nodes[6]
    old_filters = target.attrs["filters"]
    target.attrs["filters"] = old_filters * 2
    b.edges[9].weight = 0.25
    result = diff_specs(a, b)
    assert_consistent(a, b, result)
    assert result.node_map == {k: v for k, v in names.items()}
    [change] = result.nodes_changed
    assert change.id_b == target.id
    assert [(c.path, c.old, c.new) for c in change.changes] == [("filters", old_filters, old_filters * 2)]
    [edge] = result.edges_changed
    assert (edge.source_b, edge.target_b, edge.weight_new) == (b.edges[9].source, b.edges[9].target, 0.25)
    assert edge.weight_delta == pytest.approx(0.25 - a.edges[9].weight)


# ---------------------------------------------------------------- each change kind


def test_every_change_kind_is_reported(tiny_tvn):
    a = ArchSpec.from_dict(tiny_tvn)
    b = a.copy()
    first, second = b.nodes[0], b.nodes[1]
    first.attrs["temporal_kernel"] = 5
    b.edges[0].weight, b.edges[0].learnable = 0.7, False
    b.inputs[0].frames, b.inputs[0].size = 8, 48
    b.nodes.insert(2, type(first)("extra", first.type, dict(first.attrs)))
    b.edges = [e for e in b.edges if not (e.source == second.id)]
    b.edges += [type(b.edges[0])(second.id, "extra"), type(b.edges[0])("extra", b.nodes[-1].id)]
    b.meta["note"] = "edited"
    b.name = "edited"
    result = diff_specs(a, b)
    assert_consistent(a, b, result)
    assert [n.id for n in result.nodes_added] == ["extra"]
    assert result.nodes_removed == []
    assert [(c.path, c.old, c.new) for c in result.nodes_changed[0].changes] == [("temporal_kernel", a.nodes[0].attrs.get("temporal_kernel", 3), 5)]
    [edge] = result.edges_changed
    assert (edge.weight_old, edge.weight_new, edge.weight_delta) == (None, 0.7, None)
    assert (edge.learnable_old, edge.learnable_new) == (True, False)
    assert {(e.source, e.target) for e in result.edges_added} == {(second.id, "extra"), ("extra", b.nodes[-1].id)}
    assert {(e.source, e.target) for e in result.edges_removed} == {(second.id, b.nodes[-1].id)}
    [stream] = result.inputs_changed
    assert {(c.path, c.new) for c in stream.changes} == {("frames", 8), ("size", 48)}
    assert [(c.path, c.old, c.new) for c in result.meta_changes] == [("note", MISSING, "edited")]
    assert result.name.new == "edited"
    text = "\n".join(result.lines())
    assert "+ node extra" in text and "learnable True -> False" in text and "frames 4 -> 8" in text


def test_removed_node_and_removed_input():
    a = get_preset("assemblenet-small")
    b = a.copy()
    flow = next(s for s in b.inputs if s.modality == "flow")
    gone = {e.target for e in b.edges if e.source == flow.id}
    b.inputs.remove(flow)
    b.nodes = [n for n in b.nodes if n.id not in gone]
    b.edges = [e for e in b.edges if e.source != flow.id and e.source not in gone and e.target not in gone]
    result = diff_specs(a, b)
    assert_consistent(a, b, result)
    assert [s["id"] for s in result.inputs_removed] == [flow.id]
    assert {n.id for n in result.nodes_removed} == gone
    assert result.nodes_added == [] and result.edges_added == []


def test_nested_attribute_paths_for_evanet_branches():
    a = get_preset("evanet-1")
    b = a.copy()
    block = next(n for n in b.nodes if n.type == "evanet_block")
    block.attrs["branches"][1]["temporal_kernel"] = 9
    result = diff_specs(a, b)
    [change] = result.nodes_changed
    assert [(c.path, c.new) for c in change.changes] == [("branches[1].temporal_kernel", 9)]
    block.attrs["branches"].append(dict(block.attrs["branches"][0]))  # a different count: the whole list
    [change] = diff_specs(a, b).nodes_changed
    assert [c.path for c in change.changes] == ["branches"]


def test_omitted_defaults_are_not_changes(tiny_tvn):
    a = ArchSpec.from_dict(tiny_tvn)
    analysis_spec = __import__("videomodels").analyze(a).spec  # every default written out
    assert diff_specs(a, analysis_spec).is_empty


def test_different_families():
    a, b = get_preset("tvn-small"), get_preset("baseline-r3d")
    result = diff_specs(a, b)
    assert_consistent(a, b, result)
    assert (result.family.old, result.family.new) == ("tvn", "evanet")
    # Only the classifier exists in both vocabularies.
    assert {n.type for n in result.nodes_removed} == {"tvn_block"}
    assert "classifier" not in {n.type for n in result.nodes_added}
    assert "family tvn -> evanet" in result.summary()


def test_duplicate_ids_are_refused(tiny_tvn):
    tiny_tvn["nodes"].append(dict(tiny_tvn["nodes"][0]))
    with pytest.raises(SpecError) as error:
        diff_specs(tiny_tvn, tiny_tvn)
    assert "a.nodes[" in str(error.value) and "duplicate id" in str(error.value)


def test_value_changes_treats_bool_and_int_apart():
    assert value_changes({"x": 1}, {"x": 1.0}) == []
    assert [c.path for c in value_changes({"x": 1}, {"x": True})] == ["x"]


# ---------------------------------------------------------------- properties

NODE_TYPES = ["tvn_block", "classifier", "pool3d", "evanet_block"]
ATTR_VALUES = st.one_of(st.integers(-3, 3), st.sampled_from(["a", "b"]), st.booleans(), st.lists(st.integers(0, 2), max_size=2))


@st.composite
def random_specs(draw):
    """Any parseable spec: random DAG-ish graphs (cycles and dangling edges allowed), random attrs."""
    count = draw(st.integers(0, 9))
    nodes = [{"id": f"n{i}", "type": draw(st.sampled_from(NODE_TYPES)),
              "attrs": draw(st.dictionaries(st.sampled_from(["k", "filters", "w", "mode"]), ATTR_VALUES, max_size=3))}
             for i in range(count)]
    ids = ["rgb"] + [n["id"] for n in nodes]
    pairs = draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids + ["ghost"])), max_size=14, unique=True))
    edges = [{"source": s, "target": t, "weight": draw(st.one_of(st.none(), st.floats(0.01, 0.99))),
              "learnable": draw(st.booleans())} for s, t in pairs if s != t]
    return ArchSpec.from_dict({"family": draw(st.sampled_from(["tvn", "evanet", "nope"])),
                               "inputs": [{"id": "rgb"}], "nodes": nodes, "edges": edges})


@settings(max_examples=40, deadline=None)
@given(random_specs(), st.booleans())
def test_diff_of_a_spec_with_itself_is_empty(spec, match_ids):
    result = diff_specs(spec, spec, match_ids=match_ids)
    assert result.is_empty, result.lines()
    assert_consistent(spec, spec, result)
    if match_ids:
        assert result.node_map == {n.id: n.id for n in spec.nodes}


@settings(max_examples=40, deadline=None)
@given(random_specs())
def test_renaming_every_id_keeps_the_diff_empty(spec):
    other, _ = renamed(spec, inputs=True)
    result = diff_specs(spec, other)
    assert result.is_empty, result.lines()
    assert_consistent(spec, other, result)
    # The mapping is an isomorphism: it carries every edge of a onto one of b.
    mapping = {**result.input_map, **result.node_map}
    assert sorted((mapping.get(e.source, e.source), mapping.get(e.target, e.target)) for e in spec.edges) == \
        sorted((e.source, e.target) for e in other.edges)


@settings(max_examples=40, deadline=None)
@given(random_specs(), random_specs())
def test_any_two_specs_give_a_consistent_diff(a, b):
    assert_consistent(a, b, diff_specs(a, b))
    assert_consistent(a, b, diff_specs(a, b, match_ids=False))


# ---------------------------------------------------------------- command line


def test_cli_diff_text_and_json(tmp_path, capsys, tiny_tvn):
    a = tmp_path / "a.json"
    a.write_text(json.dumps(tiny_tvn))
    tiny_tvn["nodes"][0]["attrs"]["temporal_kernel"] = 5
    b = tmp_path / "b.json"
    b.write_text(json.dumps(tiny_tvn))
    assert cli_main(["diff", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "nodes: 1 changed" in out and "temporal_kernel" in out
    assert cli_main(["diff", str(a), str(b), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"]["nodes_changed"] == 1 and data["node_map"]
    assert cli_main(["diff", "tvn-1", "tvn-1"]) == 0
    assert "no architectural change" in capsys.readouterr().out
    assert cli_main(["diff", str(a), str(tmp_path / "missing.json")]) == 2
    assert "missing.json" in capsys.readouterr().err


def test_huge_leftover_groups_are_paired_without_the_cubic_step(monkeypatch):
    import videomodels.diff as diff_module

    a = get_preset("tvn-2")
    b, names = renamed(a)
    b.nodes[2].attrs["filters"] = 7  # breaks exact structure for its neighbourhood
    monkeypatch.setattr(diff_module, "MAX_ASSIGNMENT", 1)
    monkeypatch.setattr(diff_module, "_assign", lambda costs: pytest.fail("the assignment must not run"))
    result = diff_specs(a, b)
    assert_consistent(a, b, result)
    assert result.node_map == names and len(result.nodes_changed) == 1


def test_fates_of_nodes_and_edges_for_anchored_comments(tiny_tvn):
    a = ArchSpec.from_dict(tiny_tvn)
    b, names = renamed(a)
    b.nodes[0].attrs["temporal_kernel"] = 5
    b.edges[1].weight = 0.3
    dropped = b.edges.pop(2)
    result = diff_specs(a, b)
    first, second = a.nodes[0].id, a.nodes[1].id
    assert result.node_fate(first) == ("changed", names[first])
    assert result.node_fate(second) == ("unchanged", names[second])
    assert result.node_fate("nope") == ("removed", None)
    e1, e2 = a.edges[1], a.edges[2]
    assert result.edge_fate(e1.source, e1.target) == ("changed", (names.get(e1.source, e1.source), names[e1.target]))
    assert result.edge_fate(e2.source, e2.target) == ("removed", None)
    assert (dropped.source, dropped.target) == (names[e2.source], names[e2.target])
    e0 = a.edges[0]
    assert result.edge_fate(e0.source, e0.target) == ("unchanged", (e0.source, names[e0.target]))


def test_a_given_id_map_is_trusted_first(tiny_tvn):
    a = ArchSpec.from_dict(tiny_tvn)
    b, names = renamed(a)
    first, second = a.nodes[0].id, a.nodes[1].id
    # Deliberately cross two nodes: the diff must follow the caller and report what that implies.
    crossed = {first: names[second], second: names[first]}
    result = diff_specs(a, b, id_map=crossed)
    assert_consistent(a, b, result)
    assert result.node_map[first] == names[second] and result.matched_by[first] == "given"
    assert not result.is_empty
    assert diff_specs(a, b, id_map={first: names[first], "ghost": "nowhere"}).matched_by[first] == "given"


def test_deeply_nested_attributes_are_reported_whole_below_a_depth():
    deep_a, deep_b = 1, 2
    for _ in range(200):
        deep_a, deep_b = {"x": deep_a}, {"x": deep_b}
    [change] = value_changes({"k": deep_a}, {"k": deep_b})
    assert change.path == "k" + ".x" * 15 and isinstance(change.old, dict)
