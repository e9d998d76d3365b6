"""Validate and price a whole spec for the editor, fast enough to run on every edit.

The answer is the validator's located problems (``nodes[3].attrs.x``, ``edges[5]``), each
node's output shape, parameters and multiply-adds, the totals, an estimated CPU latency
and search-space warnings. Nothing here imports Django (it could move to videomodels).

Speed: ``videomodels.graph.analyze`` runs every node on the meta device, ~1 s for
AssembleNet-50; an edit changes one node, so the cost of a node is memoised by what it
depends on: its type, attributes and input shapes (node builders read nothing else).
Fusions look further (their edges' weights and sources, and for attention every node
computed before them), so their key holds all of that. The totals equal
``videomodels.graph.analyze``'s (tests compare them on every preset); saving a version
still runs the full analysis.
"""
from __future__ import annotations

import heapq
import json
import math
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from videomodels.archspec import ArchSpec
from videomodels.graph import DEFAULT_BUDGET, BuildContext, Budget, default_fusion, input_shape
from videomodels.schema import NODE_TYPES
from videomodels.validation import Problem, SpecError, check_structure, parse_spec

from .searchspace import space_warnings

# Hard limits on what the editor may send (checked on the raw JSON before any parsing work).
MAX_NODES = 1_000
MAX_EDGES = 4_000
MAX_INPUTS = 16
# An estimate, labelled as one: multiply-adds at the throughput measured for the published
# presets on this project's 2-core benchmark machine (docs/BENCHMARKS.md: ~30 GMAC/s).
ESTIMATE_GMACS_PER_S = 30.0
ESTIMATE_LABEL = f"estimate: multiply-adds at {ESTIMATE_GMACS_PER_S:g} GMAC/s (2-thread CPU, batch 1); not measured"

Shape = tuple[int, ...]


@dataclass
class Report:
    valid: bool
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    totals: dict[str, Any] | None = None
    spec: ArchSpec | None = None  # parsed (defaults filled) when it parsed

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "problems": [problem.to_dict() for problem in self.problems],
            "warnings": [warning.to_dict() for warning in self.warnings],
            "nodes": self.nodes,
            "totals": self.totals,
            "spec_hash": self.spec.content_hash() if self.spec is not None and self.valid else None,
        }


def check_size(data: Any) -> list[Problem]:
    """Refuse oversized specs before the validator (whose graph checks grow with nodes x edges)."""
    if not isinstance(data, dict):
        return []
    problems = []
    for key, limit in (("nodes", MAX_NODES), ("edges", MAX_EDGES), ("inputs", MAX_INPUTS)):
        value = data.get(key)
        if isinstance(value, list) and len(value) > limit:
            problems.append(Problem(key, f"too many {key}: {len(value):,} (the editor takes at most {limit:,})"))
    return problems


def analyze_data(data: Any, *, family: str | None = None, budget: Budget = DEFAULT_BUDGET) -> Report:
    """The editor's whole answer for one spec given as JSON data."""
    problems = check_size(data)
    if problems:
        return Report(False, problems)
    try:
        spec = parse_spec(data)
    except SpecError as error:
        return Report(False, error.problems)
    if family is not None and spec.family != family:
        return Report(False, [Problem("family", f"this architecture is {family!r}; a {spec.family!r} spec cannot be one of its versions")], spec=spec)
    clean, problems = check_structure_bounded(spec)
    if problems:
        return Report(False, problems, spec=spec)
    try:
        order = fast_order(clean)
        nodes = price(clean, order, budget=budget)
    except SpecError as error:
        return Report(False, error.problems, spec=clean)
    params = sum(node["params"] for node in nodes.values())
    macs = sum(node["macs"] for node in nodes.values())
    totals = {
        "params": params,
        "macs": macs,
        "output_shape": nodes[order[-1]]["output_shape"],
        "latency_ms_estimate": round(macs / (ESTIMATE_GMACS_PER_S * 1e9) * 1000.0, 2),
        "latency_note": ESTIMATE_LABEL,
    }
    for node in nodes.values():
        node["share"] = {"params": node["params"] / params if params else 0.0, "macs": node["macs"] / macs if macs else 0.0}
    return Report(True, [], space_warnings(clean), nodes, totals, clean)


def _components(node_ids: list[str], successors: dict[str, list[str]]) -> dict[str, int]:
    """Strongly connected components (Tarjan's algorithm, iterative): node id -> component number."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    component: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    for root in node_ids:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            nexts = successors[node]
            if child < len(nexts):
                work.append((node, child + 1))
                target = nexts[child]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = index[node]
                    if member == node:
                        break
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return component


_EDGE_LOCATION = re.compile(r"^edges\[(\d+)\]")


def check_structure_bounded(spec: ArchSpec):
    """``check_structure``, kept fast on cyclic graphs, with the edges that close cycles located.

    The validator's own cycle report grows with (nodes on cycles)^2 x edges: a 1,000-node
    ring would hold a worker for minutes. So the back edges (found in linear time) are taken
    out before it runs, the nodes on cycles are reported here in its words, and its
    locations are mapped back onto the edges as sent.
    """
    back, cyclic = _cycles(spec)
    if not back:
        return check_structure(spec)
    kept = [i for i in range(len(spec.edges)) if i not in back]
    acyclic = ArchSpec(spec.family, spec.inputs, spec.nodes, [spec.edges[i] for i in kept], spec.name, spec.meta)
    clean, found = check_structure(acyclic)
    cyclic_locations = {f"nodes[{i}]" for i, node in enumerate(spec.nodes) if node.id in cyclic}
    problems = []
    for problem in found:
        if problem.location in cyclic_locations:
            continue  # "unreachable" or "never used" only because its cycle edge was taken out
        match = _EDGE_LOCATION.match(problem.location)
        if match:
            problem = Problem(f"edges[{kept[int(match.group(1))]}]" + problem.location[match.end():], problem.message)
        problems.append(problem)
    problems += [Problem(f"nodes[{i}]", f"{node.id!r} is part of a cycle") for i, node in enumerate(spec.nodes) if node.id in cyclic]
    for i in sorted(back):
        edge = spec.edges[i]
        problems.append(Problem(f"edges[{i}]", f"{edge.source}->{edge.target} closes a cycle (a path leads from {edge.target!r} back to {edge.source!r})"))
    clean.edges = list(spec.edges)
    return clean, problems


def cycle_edges(spec: ArchSpec) -> list[Problem]:
    back, _ = _cycles(spec)
    return [Problem(f"edges[{i}]", f"{spec.edges[i].source}->{spec.edges[i].target} closes a cycle") for i in sorted(back)]


def _cycles(spec: ArchSpec) -> tuple[set[int], set[str]]:
    """(indices of back edges, ids of nodes on cycles).

    Of the edges inside a cycle (same strongly connected component), the back edges point
    against the spec's node order (topological for presets and search candidates): in a
    graph that was acyclic before an edit, that is the edge the edit added. Every cycle has
    at least one, and without them the graph is acyclic. Linear in the graph.
    """
    node_ids = [node.id for node in spec.nodes]
    position = {node_id: i for i, node_id in enumerate(node_ids)}
    successors: dict[str, list[str]] = {node_id: [] for node_id in node_ids}
    for edge in spec.edges:
        if edge.source in position and edge.target in position:
            successors[edge.source].append(edge.target)
    component = _components(node_ids, successors)
    sizes: dict[int, int] = {}
    for number in component.values():
        sizes[number] = sizes.get(number, 0) + 1
    back = {i for i, edge in enumerate(spec.edges)
            if edge.source in position and edge.target in position and edge.source != edge.target
            and component[edge.source] == component[edge.target] and position[edge.target] <= position[edge.source]}
    cyclic = {node_id for node_id in node_ids if sizes[component[node_id]] > 1}
    return back, cyclic


# ---------------------------------------------------------------------- per-node pricing
_BLOCKS: "OrderedDict[tuple, tuple[Shape, int, int]]" = OrderedDict()
_FUSIONS: "OrderedDict[tuple, int]" = OrderedDict()
_CACHE_SIZE = 4096


def _remember(cache: OrderedDict, key, value):
    cache[key] = value
    if len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
    return value


def _recall(cache: OrderedDict, key):
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    return None


def _param_count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def _macs(module, args) -> tuple[Shape, int]:
    with FlopCounterMode(display=False) as counter:
        out = module(*args)
    return tuple(int(d) for d in out.shape[1:]), counter.get_total_flops() // 2


def fast_order(spec: ArchSpec) -> list[str]:
    """``videomodels.validation.topological_order`` (earliest listed first among the ready), in O(E log V)."""
    position = {node.id: index for index, node in enumerate(spec.nodes)}
    indegree = dict.fromkeys(position, 0)
    successors: dict[str, list[str]] = {node_id: [] for node_id in position}
    for edge in spec.edges:
        if edge.source in position and edge.target in position:
            indegree[edge.target] += 1
            successors[edge.source].append(edge.target)
    ready = [(position[n], n) for n, degree in indegree.items() if degree == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, current = heapq.heappop(ready)
        order.append(current)
        for target in successors[current]:
            indegree[target] -= 1
            if indegree[target] == 0:
                heapq.heappush(ready, (position[target], target))
    return order


def _fusion_key(spec: ArchSpec, node, edges, in_shapes, shapes, sources_by_id) -> tuple:
    """Everything a fusion builder reads: the node, its edges and their sources, and for
    attention the nodes computed before it (AssembleNet++ peers)."""
    def describe(source: str):
        if source in sources_by_id:
            found = sources_by_id[source]
            return (found.type, json.dumps(found.attrs, sort_keys=True))
        return ("input", spec.input(source).modality)

    key = (node.type, json.dumps(node.attrs, sort_keys=True), tuple(in_shapes),
           tuple((edge.weight, edge.learnable, describe(edge.source)) for edge in edges))
    if node.attrs.get("attention", "none") != "none":
        key += (tuple((n, sources_by_id[n].type, json.dumps(sources_by_id[n].attrs, sort_keys=True), shape)
                      for n, shape in shapes.items() if n in sources_by_id),)
    return key


def price(spec: ArchSpec, order: list[str] | None = None, *, budget: Budget = DEFAULT_BUDGET) -> dict[str, dict[str, Any]]:
    """Per node: input shapes, output shape, params, MACs. ``spec`` is structurally valid.

    Mirrors ``videomodels.graph._assemble`` (same shapes, budget checks and messages).
    """
    order = order if order is not None else fast_order(spec)
    by_id = {node.id: node for node in spec.nodes}
    index_of = {node.id: index for index, node in enumerate(spec.nodes)}
    incoming: dict[str, list] = {node.id: [] for node in spec.nodes}
    for edge in spec.edges:
        if edge.target in incoming:
            incoming[edge.target].append(edge)
    shapes: dict[str, Shape] = {stream.id: input_shape(spec, stream.id) for stream in spec.inputs}
    result: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    failed: set[str] = set()
    params = macs = 0
    with torch.device("meta"):
        for node_id in order:
            index = index_of[node_id]
            node = by_id[node_id]
            node_type = NODE_TYPES[node.type]
            edges = incoming[node_id]
            sources = [edge.source for edge in edges]
            where = f"nodes[{index}]"
            if any(source in failed for source in sources):
                failed.add(node_id)
                continue
            in_shapes = [shapes[source] for source in sources]
            try:
                fusion_params = fusion_macs = 0
                if node_type.fuse == "weighted" and len(sources) > 1:
                    key = _fusion_key(spec, node, edges, in_shapes, shapes, by_id)
                    cached = _recall(_FUSIONS, key)
                    if cached is None:
                        context = BuildContext(spec, node_id, index, edges, shapes)
                        fusion, peers = (node_type.make_fusion or default_fusion)(node_type, node.attrs, in_shapes, context)
                        xs = [torch.empty((1, *shape)) for shape in in_shapes]
                        ps = [torch.empty((1, *shapes[peer])) for peer in peers]
                        cached = _remember(_FUSIONS, key, (_param_count(fusion), _macs(fusion, (xs, ps))[1], fusion.out_channels))
                    fusion_params, fusion_macs, out_channels = cached
                    fused = [(out_channels, *(min(s[a] for s in in_shapes) for a in (1, 2, 3)))]
                else:
                    fused = in_shapes
                block_input = fused if node_type.fuse == "list" else fused[0]
                key = (node.type, json.dumps(node.attrs, sort_keys=True), tuple(fused))
                cached = _recall(_BLOCKS, key)
                if cached is None:
                    context = BuildContext(spec, node_id, index, edges, shapes)
                    block = node_type.build(node.attrs, block_input, context)
                    block_params = _param_count(block)
                    if params + fusion_params + block_params > budget.max_params:
                        raise SpecError(problems + [Problem(where, f"parameter budget exceeded: {params + fusion_params + block_params:,} > {budget.max_params:,} after {node_id!r}")])
                    arg = [torch.empty((1, *s)) for s in fused] if node_type.fuse == "list" else torch.empty((1, *fused[0]))
                    output_shape, block_macs = _macs(block, (arg,))
                    cached = _remember(_BLOCKS, key, (output_shape, block_params, block_macs))
                output_shape, block_params, block_macs = cached
            except SpecError:
                raise
            except (RuntimeError, ValueError, ZeroDivisionError) as exc:
                text = str(exc).strip().splitlines()
                shown = ", ".join("x".join(str(d) for d in s) for s in in_shapes) or "none"
                problems.append(Problem(where, f"{node.type} {node_id!r} does not fit its input {shown}: {text[0] if text else type(exc).__name__}"))
                failed.add(node_id)
                continue
            node_params = fusion_params + block_params
            node_macs = fusion_macs + block_macs
            shapes[node_id] = output_shape
            params += node_params
            macs += node_macs
            result[node_id] = {"type": node.type, "input_shapes": [list(s) for s in in_shapes], "output_shape": list(output_shape),
                               "params": node_params, "macs": node_macs}
            if params > budget.max_params:
                raise SpecError(problems + [Problem(where, f"parameter budget exceeded: {params:,} > {budget.max_params:,} after {node_id!r}")])
            if macs > budget.max_macs:
                raise SpecError(problems + [Problem(where, f"multiply-add budget exceeded: {macs:,} > {budget.max_macs:,} per clip after {node_id!r}")])
    if problems:
        raise SpecError(problems)
    return result


def finite_json(value: Any) -> bool:
    """True when ``value`` holds no NaN or infinity anywhere (json.dumps would write invalid JSON)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(finite_json(v) for v in value.values())
    if isinstance(value, list):
        return all(finite_json(v) for v in value)
    return True
