"""Spec parsing and structural validation, pure Python: every problem at once, with its location."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from videomodels.archspec import FORMAT, MODALITIES, ArchSpec, Edge, InputStream, Node
from videomodels.graphindex import Adjacency, nodes_on_cycles, order_nodes, reachable
from videomodels.schema import Attr, check_attrs, key_location, load_families

ID_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")

INPUT_SCHEMA = {
    "id": Attr("choice"),  # placeholder; ids are checked separately
    "modality": Attr("choice", "rgb", choices=MODALITIES),
    "channels": Attr("int", 3, minimum=1, maximum=1024),
    "frames": Attr("int", 8, minimum=1, maximum=4096),
    "frame_stride": Attr("int", 1, minimum=1, maximum=256),
    "size": Attr("int", 112, minimum=8, maximum=4096),
}


@dataclass(frozen=True)
class Problem:
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"location": self.location, "message": self.message}


class SpecError(ValueError):
    """Raised with every problem found in a spec; ``problems`` keeps them structured."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"invalid architecture spec ({len(self.problems)} problem(s)):\n{lines}")


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and bool(ID_PATTERN.match(value))


def parse_spec(data: Any) -> ArchSpec:
    """Turn JSON data into an ArchSpec, reporting malformed structure (not semantics)."""
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise SpecError([Problem("$", f"a spec must be a JSON object, got {type(data).__name__}")])
    known = {"format", "family", "name", "inputs", "nodes", "edges", "meta"}
    for key in data:
        if key not in known:
            problems.append(Problem(key_location("", key), f"unknown top-level key (known: {', '.join(sorted(known))})"))
    if data.get("format", FORMAT) != FORMAT:
        problems.append(Problem("format", f"unsupported format {data.get('format')!r}; expected {FORMAT!r}"))
    family = data.get("family")
    if not isinstance(family, str):
        problems.append(Problem("family", f"must be a string, got {family!r}"))
    name = data.get("name", "")
    if not isinstance(name, str):
        problems.append(Problem("name", "must be a string"))
        name = ""
    meta = data.get("meta", {})
    if not isinstance(meta, dict):
        problems.append(Problem("meta", "must be an object"))
        meta = {}

    inputs: list[InputStream] = []
    for index, raw in _list_of(data, "inputs", problems):
        where = f"inputs[{index}]"
        if not isinstance(raw, dict):
            problems.append(Problem(where, "must be an object"))
            continue
        schema = {key: attr for key, attr in INPUT_SCHEMA.items() if key != "id"}
        clean, found = check_attrs(schema, {k: v for k, v in raw.items() if k != "id"}, where)
        problems += [Problem(*item) for item in found]
        if not _is_id(raw.get("id")):
            problems.append(Problem(f"{where}.id", f"must be an identifier (letters, digits, _ or -), got {raw.get('id')!r}"))
        if not found:
            inputs.append(InputStream(id=str(raw.get("id")), **clean))

    nodes: list[Node] = []
    for index, raw in _list_of(data, "nodes", problems):
        where = f"nodes[{index}]"
        if not isinstance(raw, dict):
            problems.append(Problem(where, "must be an object"))
            continue
        for key in raw:
            if key not in ("id", "type", "attrs"):
                problems.append(Problem(key_location(where, key), "unknown key (known: id, type, attrs)"))
        if not _is_id(raw.get("id")):
            problems.append(Problem(f"{where}.id", f"must be an identifier (letters, digits, _ or -), got {raw.get('id')!r}"))
        if not isinstance(raw.get("type"), str):
            problems.append(Problem(f"{where}.type", f"must be a string, got {raw.get('type')!r}"))
        attrs = raw.get("attrs", {})
        if not isinstance(attrs, dict):
            problems.append(Problem(f"{where}.attrs", "must be an object"))
            attrs = {}
        nodes.append(Node(id=str(raw.get("id")), type=str(raw.get("type")), attrs=dict(attrs)))

    edges: list[Edge] = []
    for index, raw in _list_of(data, "edges", problems):
        where = f"edges[{index}]"
        if not isinstance(raw, dict):
            problems.append(Problem(where, "must be an object"))
            continue
        for key in raw:
            if key not in ("source", "target", "weight", "learnable"):
                problems.append(Problem(key_location(where, key), "unknown key (known: source, target, weight, learnable)"))
        ok = True
        for key in ("source", "target"):
            if not isinstance(raw.get(key), str):
                problems.append(Problem(f"{where}.{key}", f"must be a node or input id, got {raw.get(key)!r}"))
                ok = False
        weight = raw.get("weight")
        if weight is not None:
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0.0 < weight < 1.0:
                problems.append(Problem(f"{where}.weight", f"must be a number strictly between 0 and 1 (post-sigmoid), got {weight!r}"))
                ok = False
        learnable = raw.get("learnable", True)
        if not isinstance(learnable, bool):
            problems.append(Problem(f"{where}.learnable", f"must be true or false, got {learnable!r}"))
            ok = False
        if ok:
            edges.append(Edge(raw["source"], raw["target"], None if weight is None else float(weight), learnable))

    if problems:
        raise SpecError(problems)
    return ArchSpec(family=family, inputs=inputs, nodes=nodes, edges=edges, name=name, meta=meta)


def _list_of(data: dict, key: str, problems: list[Problem]):
    value = data.get(key)
    if not isinstance(value, list):
        problems.append(Problem(key, f"must be a list, got {type(value).__name__ if key in data else 'nothing'}"))
        return []
    return list(enumerate(value))


def check_structure(spec: ArchSpec) -> tuple[ArchSpec, list[Problem]]:
    """Check types, attributes and graph shape. Returns a copy with defaults filled in."""
    families = load_families()
    problems: list[Problem] = []
    family = families.get(spec.family)
    if family is None:
        problems.append(Problem("family", f"unknown family {spec.family!r} (known: {', '.join(sorted(families))})"))
    if not spec.inputs:
        problems.append(Problem("inputs", "a network needs at least one input stream"))

    seen: dict[str, str] = {}
    for index, stream in enumerate(spec.inputs):
        if stream.id in seen:
            problems.append(Problem(f"inputs[{index}].id", f"duplicate id {stream.id!r} (also {seen[stream.id]})"))
        seen.setdefault(stream.id, f"inputs[{index}]")
    clean_nodes: list[Node] = []
    for index, node in enumerate(spec.nodes):
        where = f"nodes[{index}]"
        if node.id in seen:
            problems.append(Problem(f"{where}.id", f"duplicate id {node.id!r} (also {seen[node.id]})"))
        seen.setdefault(node.id, where)
        node_type = family.node_types.get(node.type) if family else None
        if family and node_type is None:
            legal = ", ".join(sorted(family.node_types))
            problems.append(Problem(f"{where}.type", f"unknown node type {node.type!r} for family {spec.family!r} (known: {legal})"))
            clean_nodes.append(node)
            continue
        if node_type is None:
            clean_nodes.append(node)
            continue
        attrs, found = check_attrs(node_type.attrs, node.attrs, f"{where}.attrs")
        problems += [Problem(*item) for item in found]
        if not found and node_type.check:
            problems += [Problem(*item) for item in node_type.check(attrs, f"{where}.attrs")]
        clean_nodes.append(Node(node.id, node.type, attrs))

    input_ids = {stream.id for stream in spec.inputs}
    node_ids = {node.id for node in spec.nodes}
    pairs: dict[tuple[str, str], int] = {}
    good_edges: list[Edge] = []
    for index, edge in enumerate(spec.edges):
        where = f"edges[{index}]"
        bad = False
        if edge.source not in input_ids and edge.source not in node_ids:
            problems.append(Problem(f"{where}.source", f"no node or input named {edge.source!r}"))
            bad = True
        if edge.target not in node_ids:
            what = "an input cannot receive edges" if edge.target in input_ids else f"no node named {edge.target!r}"
            problems.append(Problem(f"{where}.target", what))
            bad = True
        if edge.source == edge.target:
            problems.append(Problem(where, f"self-loop on {edge.source!r}"))
            bad = True
        key = (edge.source, edge.target)
        if key in pairs:
            problems.append(Problem(where, f"duplicate edge {edge.source}->{edge.target} (also edges[{pairs[key]}])"))
            bad = True
        pairs.setdefault(key, index)
        if not bad:
            good_edges.append(edge)

    by_id = {node.id: (index, node) for index, node in enumerate(clean_nodes)}
    node_types = family.node_types if family else {}
    graph = Adjacency([node.id for node in clean_nodes], good_edges, sources=input_ids)
    for node_id, (index, node) in by_id.items():
        node_type = node_types.get(node.type)
        if node_type is None:
            continue
        count = len(graph.incoming[node_id])
        if count < node_type.min_inputs:
            problems.append(Problem(f"nodes[{index}]", f"{node.type} {node_id!r} needs at least {node_type.min_inputs} input(s), has {count}"))
        if node_type.max_inputs is not None and count > node_type.max_inputs:
            problems.append(Problem(f"nodes[{index}]", f"{node.type} {node_id!r} takes at most {node_type.max_inputs} input(s), has {count}"))

    cyclic = nodes_on_cycles(graph)
    for node_id, (index, node) in by_id.items():
        if node_id in cyclic:
            problems.append(Problem(f"nodes[{index}]", f"{node_id!r} is part of a cycle"))

    reached = reachable(graph, input_ids)
    for node_id, (index, node) in by_id.items():
        if node_id not in reached and node_id not in cyclic:
            problems.append(Problem(f"nodes[{index}]", f"{node_id!r} is unreachable from the network inputs"))

    heads = [node for node in clean_nodes if node_types.get(node.type) and node_types[node.type].is_head]
    sources = {edge.source for edge in good_edges}
    if family and family.implicit_uses:
        sources |= family.implicit_uses(ArchSpec(spec.family, spec.inputs, clean_nodes, good_edges))
    if not heads:
        problems.append(Problem("nodes", "no output: the network needs a classifier node"))
    elif len(heads) > 1:
        ids = ", ".join(repr(node.id) for node in heads)
        problems.append(Problem("nodes", f"more than one output (classifier nodes {ids}); keep exactly one"))
    for node_id, (index, node) in by_id.items():
        node_type = node_types.get(node.type)
        if node_type and node_type.is_head and node_id in sources:
            problems.append(Problem(f"nodes[{index}]", f"the classifier {node_id!r} must be the last node; it feeds other nodes"))
        elif node_type and not node_type.is_head and node_id not in sources:
            problems.append(Problem(f"nodes[{index}]", f"the output of {node_id!r} is never used (no outgoing edge)"))
    for index, stream in enumerate(spec.inputs):
        if stream.id not in sources:
            problems.append(Problem(f"inputs[{index}]", f"input {stream.id!r} is not connected to any node"))

    clean = ArchSpec(spec.family, list(spec.inputs), clean_nodes, list(spec.edges), spec.name, dict(spec.meta))
    return clean, problems


def topological_order(spec: ArchSpec) -> list[str]:
    """Node ids in an order where every node comes after its inputs (spec order breaks ties)."""
    return order_nodes([node.id for node in spec.nodes], spec.edges)
