"""The validator's graph checks are linear in nodes + edges.

Deterministic, not timed: every read of an edge's or a node's id is counted. A check
that scans the edge list once per node (or sorts the ready list per step, or searches a
cycle per blocked node) reads ids in proportion to nodes x edges; a linear one reads each
id a bounded number of times, whatever the size.
"""
from __future__ import annotations

import pytest

from videomodels.archspec import ArchSpec, Edge, InputStream, Node
from videomodels.validation import check_structure, topological_order

READS = [0]


class CountedEdge(Edge):
    def __getattribute__(self, name):
        if name in ("source", "target"):
            READS[0] += 1
        return object.__getattribute__(self, name)


class CountedNode(Node):
    def __getattribute__(self, name):
        if name == "id":
            READS[0] += 1
        return object.__getattribute__(self, name)


def chain_with_skips(blocks: int, *, cycle: bool = False) -> ArchSpec:
    """rgb -> stem -> b0 -> b1 -> ... -> head, each block also fed from two back, every
    tenth with peer-attention (the family's implicit uses); ``cycle`` adds a back edge."""
    nodes = [CountedNode("stem", "asn_stem", {"filters": 8})]
    edges = [CountedEdge("rgb", "stem")]
    previous = ["stem", "stem"]
    for i in range(blocks):
        node_id = f"b{i}"
        attention = "peer" if i % 10 == 9 else "none"
        nodes.append(CountedNode(node_id, "asn_block", {"level": min(3, 4 * i // blocks), "filters": 8, "attention": attention}))
        edges += [CountedEdge(source, node_id) for source in sorted(set(previous))]
        previous = [previous[1], node_id]
    nodes.append(CountedNode("head", "classifier", {}))
    edges.append(CountedEdge(previous[1], "head"))
    if cycle:
        edges.append(CountedEdge(f"b{blocks - 1}", f"b{blocks // 2}"))
    return ArchSpec("assemblenet", [InputStream("rgb", size=32)], nodes, edges)


def reads_per_element(blocks: int, **kwargs) -> float:
    spec = chain_with_skips(blocks, **kwargs)
    READS[0] = 0
    clean, problems = check_structure(spec)
    order = topological_order(spec)
    assert (not problems and len(order) == len(spec.nodes)) or kwargs.get("cycle")
    return READS[0] / (len(spec.nodes) + len(spec.edges))


@pytest.mark.parametrize("cycle", [False, True], ids=["acyclic", "with a cycle"])
def test_graph_checks_read_each_id_a_bounded_number_of_times(cycle):
    small, large = reads_per_element(500, cycle=cycle), reads_per_element(4000, cycle=cycle)
    # Quadratic checks would read ~8x more per element on the 8x larger graph (thousands of times).
    assert large <= small * 1.1 + 1
    assert large < 40


def test_a_cycle_in_a_large_graph_names_only_its_nodes():
    spec = chain_with_skips(4000, cycle=True)
    _, problems = check_structure(spec)
    on_cycle = {p.location for p in problems if p.message.endswith("is part of a cycle")}
    # b2000 ... b3999 lie on the cycle; b0 ... b1999 and the head only hang off it.
    assert on_cycle == {f"nodes[{i + 1}]" for i in range(2000, 4000)}
