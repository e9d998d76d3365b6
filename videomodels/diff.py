"""Structural diff of two ArchSpecs, of any family.

Nodes are matched in three passes, each bounded:
1. stable ids: pairs the caller already knows (``id_map``), then a node (or input
   stream) with the same id on both sides is the same node (search mutations keep ids);
2. exact structure: colour refinement (Weisfeiler-Lehman style, a fixed number of
   rounds) labels every unmatched node by its type, attributes and neighbourhood;
   nodes whose labels agree are paired, in topological order among equals;
3. similarity: what is still left is paired by a minimum-cost assignment
   (scipy's linear_sum_assignment, O(n^3)) per node type, on a cost mixing attribute
   difference, neighbour agreement and position; pairs above a threshold stay
   unmatched (reported as removed + added). Groups above MAX_ASSIGNMENT nodes are
   paired in topological order instead.
No exponential graph-edit-distance search is ever run.

The result (``SpecDiff``) is plain data: ``to_dict()`` is JSON, ``node_map`` maps
node ids of the first spec to the second so a UI can highlight both drawings.
"""
from __future__ import annotations

import copy
import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from videomodels.archspec import ArchSpec, Edge, Node
from videomodels.schema import REQUIRED, load_families
from videomodels.validation import Problem, SpecError, order_nodes

# Colour-refinement rounds: neighbourhoods up to this many hops take part in exact matching.
REFINEMENT_ROUNDS = 3
# Pairs whose similarity cost is above this stay unmatched (cost lies in [0, 1]).
MATCH_THRESHOLD = 0.5
# Assignment problems bigger than this (per node type) are paired in topological order
# instead, so a pathological spec cannot make the quadratic costs and cubic solve explode.
MAX_ASSIGNMENT = 300
# Attribute paths go this deep at most (attributes are shallow; hostile JSON need not be).
MAX_PATH_DEPTH = 16
_WEIGHTS = {"attrs": 0.35, "neighbours": 0.45, "position": 0.2}
_MISSING = "<missing>"  # shown for a key present on one side only


@dataclass
class ValueChange:
    """One changed value; ``path`` is relative to its owner (``filters``, ``branches[1].temporal_kernel``)."""

    path: str
    old: Any
    new: Any


@dataclass
class NodeRef:
    id: str
    type: str


@dataclass
class NodeChange:
    id_a: str
    id_b: str
    type_a: str
    type_b: str
    changes: list[ValueChange]


@dataclass
class EdgeRef:
    source: str
    target: str
    weight: float | None
    learnable: bool


@dataclass
class EdgeChange:
    """An edge present on both sides (endpoints given in each side's ids)."""

    source_a: str
    target_a: str
    source_b: str
    target_b: str
    weight_old: float | None
    weight_new: float | None
    weight_delta: float | None  # new - old when both are set
    learnable_old: bool
    learnable_new: bool


@dataclass
class InputChange:
    id_a: str
    id_b: str
    changes: list[ValueChange]


@dataclass
class SpecDiff:
    family: ValueChange | None
    name: ValueChange | None
    node_map: dict[str, str]  # node id in a -> node id in b
    input_map: dict[str, str]  # input id in a -> input id in b
    matched_by: dict[str, str]  # node id in a -> "given" | "id" | "structure" | "similarity"
    nodes_added: list[NodeRef] = field(default_factory=list)
    nodes_removed: list[NodeRef] = field(default_factory=list)
    nodes_changed: list[NodeChange] = field(default_factory=list)
    edges_added: list[EdgeRef] = field(default_factory=list)
    edges_removed: list[EdgeRef] = field(default_factory=list)
    edges_changed: list[EdgeChange] = field(default_factory=list)
    inputs_added: list[dict[str, Any]] = field(default_factory=list)
    inputs_removed: list[dict[str, Any]] = field(default_factory=list)
    inputs_changed: list[InputChange] = field(default_factory=list)
    meta_changes: list[ValueChange] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """No architectural change: renamed ids alone (and the name/meta) do not count."""
        return not (self.family or self.nodes_added or self.nodes_removed or self.nodes_changed or self.edges_added
                    or self.edges_removed or self.edges_changed or self.inputs_added or self.inputs_removed
                    or self.inputs_changed)

    def node_fate(self, id_a: str) -> tuple[str, str | None]:
        """What became of node ``id_a`` of the first spec: ("unchanged" | "changed", its id in
        the second) or ("removed", None). For carrying anchored comments forward."""
        if id_a not in self.node_map:
            return "removed", None
        changed = any(change.id_a == id_a for change in self.nodes_changed)
        return ("changed" if changed else "unchanged"), self.node_map[id_a]

    def edge_fate(self, source_a: str, target_a: str) -> tuple[str, tuple[str, str] | None]:
        """Like ``node_fate`` for the edge source_a -> target_a (weight or learnable flag
        changes count as changed; the edge's endpoints keep their own fates)."""
        if any((e.source, e.target) == (source_a, target_a) for e in self.edges_removed):
            return "removed", None
        for change in self.edges_changed:
            if (change.source_a, change.target_a) == (source_a, target_a):
                return "changed", (change.source_b, change.target_b)
        mapping = {**self.input_map, **self.node_map}
        if source_a in mapping and target_a in mapping:
            return "unchanged", (mapping[source_a], mapping[target_a])
        return "removed", None

    def counts(self) -> dict[str, int]:
        return {
            "nodes_added": len(self.nodes_added), "nodes_removed": len(self.nodes_removed),
            "nodes_changed": len(self.nodes_changed), "edges_added": len(self.edges_added),
            "edges_removed": len(self.edges_removed), "edges_changed": len(self.edges_changed),
            "inputs_added": len(self.inputs_added), "inputs_removed": len(self.inputs_removed),
            "inputs_changed": len(self.inputs_changed), "meta_changed": len(self.meta_changes),
            "renamed": sum(1 for a, b in self.node_map.items() if a != b),
        }

    def summary(self) -> str:
        if self.is_empty:
            renamed = self.counts()["renamed"]
            return "no architectural change" + (f" ({renamed} node id(s) renamed)" if renamed else "")
        parts = []
        if self.family:
            parts.append(f"family {self.family.old} -> {self.family.new}")
        for key, label in (("nodes", "node"), ("edges", "edge"), ("inputs", "input")):
            counts = [(len(getattr(self, f"{key}_{kind}")), kind) for kind in ("added", "removed", "changed")]
            counts = [f"{n} {kind}" for n, kind in counts if n]
            if counts:
                parts.append(f"{label}s: " + ", ".join(counts))
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["summary"] = self.summary()
        data["counts"] = self.counts()
        data["is_empty"] = self.is_empty
        return data

    def lines(self) -> list[str]:
        """Human-readable change list (the CLI's output)."""
        out = [self.summary()]
        if self.family:
            out.append(f"~ family {self.family.old} -> {self.family.new}")
        if self.name:
            out.append(f"~ name {self.name.old!r} -> {self.name.new!r}")
        for change in self.inputs_changed:
            out.append(f"~ input {_pair(change.id_a, change.id_b)}: " + ", ".join(_fmt_change(c) for c in change.changes))
        out += [f"+ input {s['id']} ({s['modality']}, {s['frames']}x{s['size']}, stride {s['frame_stride']})" for s in self.inputs_added]
        out += [f"- input {s['id']} ({s['modality']}, {s['frames']}x{s['size']}, stride {s['frame_stride']})" for s in self.inputs_removed]
        out += [f"+ node {n.id} ({n.type})" for n in self.nodes_added]
        out += [f"- node {n.id} ({n.type})" for n in self.nodes_removed]
        for change in self.nodes_changed:
            out.append(f"~ node {_pair(change.id_a, change.id_b)} ({_pair(change.type_a, change.type_b)}): "
                       + ", ".join(_fmt_change(c) for c in change.changes))
        out += [f"+ edge {e.source} -> {e.target}{_fmt_weight(e)}" for e in self.edges_added]
        out += [f"- edge {e.source} -> {e.target}{_fmt_weight(e)}" for e in self.edges_removed]
        for e in self.edges_changed:
            what = []
            if e.weight_old != e.weight_new:
                delta = f" ({e.weight_delta:+.4g})" if e.weight_delta is not None else ""
                what.append(f"weight {_num(e.weight_old)} -> {_num(e.weight_new)}{delta}")
            if e.learnable_old != e.learnable_new:
                what.append(f"learnable {e.learnable_old} -> {e.learnable_new}")
            out.append(f"~ edge {_pair(e.source_a, e.source_b)} -> {_pair(e.target_a, e.target_b)}: {', '.join(what)}")
        out += [f"~ meta {_fmt_change(c)}" for c in self.meta_changes]
        return out


def _pair(a: str, b: str) -> str:
    return a if a == b else f"{a}->{b}"


def _num(value: float | None) -> str:
    return "unset" if value is None else f"{value:.4g}"


def _fmt_weight(edge: EdgeRef) -> str:
    parts = ([f"w={edge.weight:.4g}"] if edge.weight is not None else []) + ([] if edge.learnable else ["frozen"])
    return f" ({', '.join(parts)})" if parts else ""


def _fmt_change(change: ValueChange) -> str:
    def show(value):
        return value if value == _MISSING else json.dumps(value, sort_keys=True)
    return f"{change.path} {show(change.old)} -> {show(change.new)}"


# ---------------------------------------------------------------- value diffs


def value_changes(old: Any, new: Any, path: str = "", _depth: int = 0) -> list[ValueChange]:
    """Leaf-level differences between two JSON values (dicts by key, equal-length lists by
    index); below MAX_PATH_DEPTH levels a changed value is reported whole."""
    if _depth >= MAX_PATH_DEPTH:
        return [] if _same(old, new) else [ValueChange(path or "$", copy.deepcopy(old), copy.deepcopy(new))]
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[ValueChange] = []
        for key in list(old) + [k for k in new if k not in old]:
            where = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.append(ValueChange(where, copy.deepcopy(old[key]), _MISSING))
            elif key not in old:
                out.append(ValueChange(where, _MISSING, copy.deepcopy(new[key])))
            else:
                out += value_changes(old[key], new[key], where, _depth + 1)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for index, (x, y) in enumerate(zip(old, new)):
            out += value_changes(x, y, f"{path}[{index}]", _depth + 1)
        return out
    if _same(old, new):
        return []
    return [ValueChange(path or "$", copy.deepcopy(old), copy.deepcopy(new))]


def _same(a: Any, b: Any) -> bool:
    # 1 and 1.0 are the same attribute value; True and 1 are not.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


# ---------------------------------------------------------------- preparation


@dataclass
class _Side:
    spec: ArchSpec
    nodes: dict[str, Node]
    inputs: set[str]
    order: list[str]  # topological (cycles and leftovers appended in list order)
    rank: dict[str, float]  # position in order, scaled to [0, 1]
    incoming: dict[str, list[str]]
    outgoing: dict[str, list[str]]


def _with_defaults(spec: ArchSpec) -> ArchSpec:
    """A copy where every node carries its type's default attributes, so an omitted default
    and the same value written out are not a change."""
    spec = spec.copy()
    family = load_families().get(spec.family)
    for node in spec.nodes:
        node_type = family.node_types.get(node.type) if family else None
        if node_type is None:
            continue
        defaults = {k: copy.deepcopy(a.default) for k, a in node_type.attrs.items() if a.default is not REQUIRED}
        node.attrs = {**defaults, **node.attrs}
    return spec


def _check_ids(spec: ArchSpec, label: str) -> None:
    seen: dict[str, str] = {}
    problems = []
    for kind, items in (("inputs", spec.inputs), ("nodes", spec.nodes)):
        for index, item in enumerate(items):
            where = f"{label}.{kind}[{index}].id"
            if item.id in seen:
                problems.append(Problem(where, f"duplicate id {item.id!r} (also {seen[item.id]}); a diff needs unique ids"))
            seen.setdefault(item.id, where)
    if problems:
        raise SpecError(problems)


def _side(spec: ArchSpec) -> _Side:
    nodes = {node.id: node for node in spec.nodes}
    ids = [node.id for node in spec.nodes]
    order = order_nodes(ids, spec.edges)
    placed = set(order)
    order += [node_id for node_id in ids if node_id not in placed]  # nodes on cycles keep list order
    scale = max(1, len(order) - 1)
    incoming: dict[str, list[str]] = defaultdict(list)
    outgoing: dict[str, list[str]] = defaultdict(list)
    for edge in spec.edges:
        incoming[edge.target].append(edge.source)
        outgoing[edge.source].append(edge.target)
    return _Side(spec, nodes, {s.id for s in spec.inputs}, order, {n: i / scale for i, n in enumerate(order)},
                 incoming, outgoing)


def _as_spec(spec: ArchSpec | dict[str, Any]) -> ArchSpec:
    return spec if isinstance(spec, ArchSpec) else ArchSpec.from_dict(spec)


# ---------------------------------------------------------------- matching


def _match_inputs(a: ArchSpec, b: ArchSpec, match_ids: bool) -> dict[str, str]:
    mapping: dict[str, str] = {}
    b_ids = {s.id for s in b.inputs}
    if match_ids:
        mapping = {s.id: s.id for s in a.inputs if s.id in b_ids}
    left_a = [s for s in a.inputs if s.id not in mapping]
    left_b = [s for s in b.inputs if s.id not in set(mapping.values())]
    # Same modality first (in stream order), then whatever is left, pairwise.
    for same_modality in (True, False):
        for stream in list(left_a):
            partner = next((s for s in left_b if not same_modality or s.modality == stream.modality), None)
            if partner is not None:
                mapping[stream.id] = partner.id
                left_a.remove(stream)
                left_b.remove(partner)
    return mapping


def _digest(*parts: Any) -> str:
    return hashlib.blake2b(json.dumps(parts, sort_keys=True, default=str).encode(), digest_size=12).hexdigest()


def _refined_colours(side: _Side, anchors: dict[str, str], free: set[str]) -> dict[str, str]:
    """Colour of every free node after REFINEMENT_ROUNDS rounds; matched nodes and inputs are
    fixed colours named after their partner, so they anchor the refinement."""
    colours: dict[str, str] = {}
    for node_id in side.inputs | set(side.nodes):
        if node_id in anchors:
            colours[node_id] = "anchor:" + anchors[node_id]
        elif node_id in side.nodes:
            node = side.nodes[node_id]
            colours[node_id] = _digest(node.type, node.attrs)
        else:
            colours[node_id] = "input?"  # an unmatched input
    for _ in range(REFINEMENT_ROUNDS):
        updated = dict(colours)
        for node_id in free:
            ins = sorted(colours.get(s, "dangling:" + s) for s in side.incoming.get(node_id, ()))
            outs = sorted(colours.get(t, "dangling:" + t) for t in side.outgoing.get(node_id, ()))
            updated[node_id] = _digest(colours[node_id], ins, outs)
        colours = updated
    return {node_id: colours[node_id] for node_id in free}


def _neighbour_tokens(side: _Side, node_id: str, anchors: dict[str, str], direction: str) -> Counter:
    neighbours = side.incoming if direction == "in" else side.outgoing
    tokens: Counter = Counter()
    for other in neighbours.get(node_id, ()):
        if other in anchors:
            tokens["=" + anchors[other]] += 1
        elif other in side.nodes:
            tokens["type:" + side.nodes[other].type] += 1
        else:
            tokens["input"] += 1
    return tokens


def _jaccard_distance(x: Counter, y: Counter) -> float:
    union = sum((x | y).values())
    return 0.0 if union == 0 else 1.0 - sum((x & y).values()) / union


def _attr_distance(x: dict, y: dict) -> float:
    keys = set(x) | set(y)
    if not keys:
        return 0.0
    return sum(1 for key in keys if key not in x or key not in y or not _same(x[key], y[key])) / len(keys)


def _pair_cost(sa: _Side, sb: _Side, u: str, v: str, anchors_a: dict[str, str], anchors_b: dict[str, str]) -> float:
    neighbours = 0.5 * (
        _jaccard_distance(_neighbour_tokens(sa, u, anchors_a, "in"), _neighbour_tokens(sb, v, anchors_b, "in"))
        + _jaccard_distance(_neighbour_tokens(sa, u, anchors_a, "out"), _neighbour_tokens(sb, v, anchors_b, "out"))
    )
    return (_WEIGHTS["attrs"] * _attr_distance(sa.nodes[u].attrs, sb.nodes[v].attrs)
            + _WEIGHTS["neighbours"] * neighbours
            + _WEIGHTS["position"] * abs(sa.rank[u] - sb.rank[v]))


def _assign(costs: list[list[float]]) -> list[tuple[int, int]]:
    """Minimum-cost one-to-one pairing of rows and columns (rectangular is fine)."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(np.asarray(costs, dtype=float))
    return list(zip(rows.tolist(), cols.tolist()))


def _match_nodes(sa: _Side, sb: _Side, input_map: dict[str, str], match_ids: bool,
                 id_map: dict[str, str] | None) -> tuple[dict[str, str], dict[str, str]]:
    node_map: dict[str, str] = {}
    how: dict[str, str] = {}
    for id_a, id_b in (id_map or {}).items():  # a caller's known correspondences come first
        if id_a in sa.nodes and id_b in sb.nodes and id_b not in node_map.values():
            node_map[id_a] = id_b
            how[id_a] = "given"
    if match_ids:
        taken = set(node_map.values())
        for node_id in sa.order:
            if node_id in sb.nodes and node_id not in node_map and node_id not in taken:
                node_map[node_id] = node_id
                how[node_id] = "id"

    def anchors() -> tuple[dict[str, str], dict[str, str]]:
        a_side = {**input_map, **node_map}
        return a_side, {b: b for b in a_side.values()}  # a node of b is anchored by its own id

    # Pass 2: exact structure, repeated while it finds pairs (each pass anchors more).
    while True:
        free_a = [n for n in sa.order if n not in node_map]
        taken = set(node_map.values())
        free_b = [n for n in sb.order if n not in taken]
        if not free_a or not free_b:
            break
        anchors_a, anchors_b = anchors()
        colours_a = _refined_colours(sa, anchors_a, set(free_a))
        colours_b = _refined_colours(sb, anchors_b, set(free_b))
        by_colour: dict[str, list[str]] = defaultdict(list)
        for node_id in free_b:  # topological order
            by_colour[colours_b[node_id]].append(node_id)
        found = 0
        for node_id in free_a:
            bucket = by_colour.get(colours_a[node_id])
            if bucket:
                node_map[node_id] = bucket.pop(0)
                how[node_id] = "structure"
                found += 1
        if not found:
            break

    # Pass 3: minimum-cost assignment per node type on what is left.
    free_a = [n for n in sa.order if n not in node_map]
    taken = set(node_map.values())
    free_b = [n for n in sb.order if n not in taken]
    anchors_a, anchors_b = anchors()
    by_type_a: dict[str, list[str]] = defaultdict(list)
    by_type_b: dict[str, list[str]] = defaultdict(list)
    for node_id in free_a:
        by_type_a[sa.nodes[node_id].type].append(node_id)
    for node_id in free_b:
        by_type_b[sb.nodes[node_id].type].append(node_id)
    for node_type, group_a in by_type_a.items():
        group_b = by_type_b.get(node_type, [])
        if not group_b:
            continue
        if max(len(group_a), len(group_b)) > MAX_ASSIGNMENT:
            # Far beyond any real network: pair in topological order instead (linear, not cubic).
            pairs = [(u, v, _pair_cost(sa, sb, u, v, anchors_a, anchors_b)) for u, v in zip(group_a, group_b)]
        else:
            costs = [[_pair_cost(sa, sb, u, v, anchors_a, anchors_b) for v in group_b] for u in group_a]
            pairs = [(group_a[i], group_b[j], costs[i][j]) for i, j in _assign(costs)]
        for u, v, cost in pairs:
            if cost <= MATCH_THRESHOLD:
                node_map[u] = v
                how[u] = "similarity"
    return node_map, how


# ---------------------------------------------------------------- the diff


def diff_specs(a: ArchSpec | dict[str, Any], b: ArchSpec | dict[str, Any], *, match_ids: bool = True,
               id_map: dict[str, str] | None = None) -> SpecDiff:
    """Structural differences from ``a`` to ``b``.

    ``a``/``b``: ArchSpecs or their JSON dicts (they need not be valid networks, only have
    unique ids). ``match_ids=False`` ignores ids and matches by structure alone (for two
    specs whose ids mean nothing to each other). ``id_map``: node correspondences known
    beforehand (a mutation's or an editor's id map, a -> b), trusted before anything else.
    Raises SpecError for duplicate ids or unparseable dicts.
    """
    a, b = _as_spec(a), _as_spec(b)
    _check_ids(a, "a")
    _check_ids(b, "b")
    a, b = _with_defaults(a), _with_defaults(b)
    sa, sb = _side(a), _side(b)
    input_map = _match_inputs(a, b, match_ids)
    node_map, how = _match_nodes(sa, sb, input_map, match_ids, id_map)
    node_map = {n: node_map[n] for n in sa.order if n in node_map}  # stable, topological order

    result = SpecDiff(
        family=ValueChange("family", a.family, b.family) if a.family != b.family else None,
        name=ValueChange("name", a.name, b.name) if a.name != b.name else None,
        node_map=node_map,
        input_map=input_map,
        matched_by={n: how[n] for n in node_map},
        meta_changes=value_changes(a.meta, b.meta),
    )
    mapped_b = set(node_map.values())
    result.nodes_removed = [NodeRef(n, sa.nodes[n].type) for n in sa.order if n not in node_map]
    result.nodes_added = [NodeRef(n, sb.nodes[n].type) for n in sb.order if n not in mapped_b]
    for id_a, id_b in node_map.items():
        node_a, node_b = sa.nodes[id_a], sb.nodes[id_b]
        changes = ([ValueChange("type", node_a.type, node_b.type)] if node_a.type != node_b.type else [])
        changes += value_changes(node_a.attrs, node_b.attrs)
        if changes:
            result.nodes_changed.append(NodeChange(id_a, id_b, node_a.type, node_b.type, changes))

    b_inputs = {s.id: s for s in b.inputs}
    mapped_inputs = set(input_map.values())
    for stream in a.inputs:
        if stream.id not in input_map:
            result.inputs_removed.append(stream.to_dict())
            continue
        old, new = stream.to_dict(), b_inputs[input_map[stream.id]].to_dict()
        old.pop("id"), new.pop("id")
        changes = value_changes(old, new)
        if changes:
            result.inputs_changed.append(InputChange(stream.id, input_map[stream.id], changes))
    result.inputs_added = [s.to_dict() for s in b.inputs if s.id not in mapped_inputs]

    _diff_edges(result, a, b, {**input_map, **node_map}, sa.inputs | set(sa.nodes))
    return result


def _diff_edges(result: SpecDiff, a: ArchSpec, b: ArchSpec, mapping: dict[str, str], known_a: set[str]) -> None:
    def to_b(endpoint: str) -> str | None:
        if endpoint in mapping:
            return mapping[endpoint]
        # A dangling endpoint (no such node or input) keeps its name; an unmatched real one has no image.
        return None if endpoint in known_a else endpoint

    # Lists per endpoint pair, so even duplicate edges (an invalid spec) pair up one to one.
    b_edges: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for edge in b.edges:
        b_edges[(edge.source, edge.target)].append(edge)
    for edge in a.edges:
        key = (to_b(edge.source), to_b(edge.target))
        candidates = b_edges.get(key) if None not in key else None
        if not candidates:
            result.edges_removed.append(EdgeRef(edge.source, edge.target, edge.weight, edge.learnable))
            continue
        partner = candidates.pop(0)
        if not _same(edge.weight, partner.weight) or edge.learnable != partner.learnable:
            delta = partner.weight - edge.weight if edge.weight is not None and partner.weight is not None else None
            result.edges_changed.append(EdgeChange(edge.source, edge.target, partner.source, partner.target,
                                                   edge.weight, partner.weight, delta, edge.learnable, partner.learnable))
    unmatched = {id(e) for edges in b_edges.values() for e in edges}
    result.edges_added = [EdgeRef(e.source, e.target, e.weight, e.learnable) for e in b.edges if id(e) in unmatched]
