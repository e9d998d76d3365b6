"""Turn a validated spec into a network: shape inference, cost and the graph executor.

Shapes, parameters and multiply-adds come from building each node on PyTorch's
``meta`` device, where no tensor memory is allocated: the same builder code that
trains also prices the spec, and an oversized spec is refused before any real
allocation. ``analyze`` is the project's one cost walk (the editor, the search spaces
and the builder all use it), and it is incremental: see ``NODE_COSTS``.
"""
from __future__ import annotations

from collections import OrderedDict
import copy
import json
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import nn

from videomodels.archspec import ArchSpec, Edge, Node
from videomodels.costcache import CountingLRU
from videomodels.graphindex import Adjacency
from videomodels.macs import MacCounter
from videomodels.ops import WeightedFusion
from videomodels.schema import NODE_TYPES, NodeType
from videomodels.validation import Problem, SpecError, check_structure, topological_order

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Budget:
    """Refuse specs above these sizes (per clip at the spec's input size)."""

    max_params: int = 500_000_000
    max_macs: int = 5_000_000_000_000


DEFAULT_BUDGET = Budget()


@dataclass
class NodeCost:
    id: str
    type: str
    input_shapes: list[Shape]
    output_shape: Shape
    params: int
    macs: int


@dataclass
class Analysis:
    spec: ArchSpec  # with every default filled in
    order: list[str]
    nodes: dict[str, NodeCost] = field(default_factory=dict)

    @property
    def params(self) -> int:
        return sum(node.params for node in self.nodes.values())

    @property
    def macs(self) -> int:
        return sum(node.macs for node in self.nodes.values())

    @property
    def output_id(self) -> str:
        return self.order[-1]

    @property
    def output_shape(self) -> Shape:
        return self.nodes[self.output_id].output_shape


@dataclass
class BuildContext:
    """What a node builder may look at besides its own attributes and input shapes."""

    spec: ArchSpec
    node_id: str
    index: int
    edges: list[Edge]
    shapes: dict[str, Shape]  # of the inputs and of every node computed before this one
    nodes_by_id: dict[str, Node]


def input_shape(spec: ArchSpec, input_id: str) -> Shape:
    stream = spec.input(input_id)
    return (stream.channels, stream.frames, stream.size, stream.size)


def with_num_classes(spec: ArchSpec, num_classes: int | None) -> ArchSpec:
    if num_classes is None:
        return spec
    spec = spec.copy()
    for node in spec.nodes:
        node_type = NODE_TYPES.get(node.type)
        if node_type is not None and node_type.is_head:
            node.attrs["num_classes"] = int(num_classes)
    return spec


def default_fusion(node_type: NodeType, attrs: dict, in_shapes: list[Shape], context: BuildContext):
    fusion = WeightedFusion(
        [shape[0] for shape in in_shapes],
        [edge.weight for edge in context.edges],
        [edge.learnable for edge in context.edges],
    )
    return fusion, []


def _param_count(*modules: nn.Module | None) -> int:
    return sum(p.numel() for module in modules if module is not None for p in module.parameters())


class GraphNet(nn.Module):
    """Runs the nodes of a spec in topological order.

    ``forward`` takes a tensor [B, C, T, H, W] (single-input specs) or a dict from
    input id to tensor, and returns the classifier's logits [B, num_classes].
    """

    def __init__(self, analysis: Analysis, blocks: dict[str, nn.Module], fusions: dict[str, nn.Module], peers: dict[str, list[str]]):
        super().__init__()
        spec = analysis.spec
        self.spec_json = spec.to_json(indent=None)
        self.input_ids = [stream.id for stream in spec.inputs]
        self.order = list(analysis.order)
        incoming = Adjacency([node.id for node in spec.nodes], spec.edges, sources=self.input_ids).incoming
        self.sources = {node_id: [edge.source for edge in incoming[node_id]] for node_id in self.order}
        self.list_input = {node.id for node in spec.nodes if NODE_TYPES[node.type].fuse == "list"}
        self.peers = peers
        self.blocks = nn.ModuleDict(blocks)
        self.fusions = nn.ModuleDict(fusions)
        # Free each intermediate as soon as its last consumer has run.
        last_use: dict[str, int] = {}
        for step, node_id in enumerate(self.order):
            for source in self.sources[node_id] + peers.get(node_id, []):
                last_use[source] = step
        self.release_after: dict[int, list[str]] = {}
        for name, step in last_use.items():
            self.release_after.setdefault(step, []).append(name)

    @property
    def spec(self) -> ArchSpec:
        return ArchSpec.from_json(self.spec_json)

    def forward(self, inputs: torch.Tensor | dict[str, torch.Tensor]) -> torch.Tensor:
        if isinstance(inputs, torch.Tensor):
            if len(self.input_ids) != 1:
                raise ValueError(f"this network takes several inputs {self.input_ids}; pass a dict")
            values = {self.input_ids[0]: inputs}
        else:
            missing = [key for key in self.input_ids if key not in inputs]
            if missing:
                raise ValueError(f"missing network inputs: {missing}")
            values = {key: inputs[key] for key in self.input_ids}
        for step, node_id in enumerate(self.order):
            xs = [values[source] for source in self.sources[node_id]]
            if node_id in self.fusions:
                x = self.fusions[node_id](xs, [values[peer] for peer in self.peers.get(node_id, [])])
            elif node_id in self.list_input:
                x = xs
            else:
                x = xs[0]
            values[node_id] = self.blocks[node_id](x)
            for name in self.release_after.get(step, []):
                values.pop(name, None)
        return values[self.order[-1]]

    def edge_weights(self) -> list[Edge]:
        """The spec's edges with their current (learned) fusion weights."""
        spec = self.spec
        updated: list[Edge] = []
        learned: dict[tuple[str, str], float] = {}
        for node_id, fusion in self.fusions.items():
            for edge, weight in zip(spec.incoming(node_id), fusion.edge_weights()):
                learned[(edge.source, edge.target)] = weight
        for edge in spec.edges:
            weight = learned.get((edge.source, edge.target), edge.weight)
            updated.append(Edge(edge.source, edge.target, weight, edge.learnable))
        return updated


class _OverBudget(Exception):
    """A node's modules alone push the running parameter count over the budget."""

    def __init__(self, node_params: int):
        self.node_params = node_params


def _fuses(node_type: NodeType, in_shapes: list[Shape]) -> bool:
    return node_type.fuse == "weighted" and len(in_shapes) > 1


def _fused_shapes(out_channels: int, in_shapes: list[Shape]) -> list[Shape]:
    return [(out_channels, *(min(s[a] for s in in_shapes) for a in (1, 2, 3)))]


def _make_modules(node, node_type: NodeType, in_shapes: list[Shape], context: BuildContext):
    """(block, fusion or None, peer ids) of one node, on the current default device."""
    fusion, peers = None, []
    fused = in_shapes
    if _fuses(node_type, in_shapes):
        fusion, peers = _make_fusion(node, node_type, in_shapes, context)
        fused = _fused_shapes(fusion.out_channels, in_shapes)
    block = node_type.build(node.attrs, fused if node_type.fuse == "list" else fused[0], context)
    return block, fusion, peers


def _make_fusion(node, node_type: NodeType, in_shapes: list[Shape], context: BuildContext):
    return (node_type.make_fusion or default_fusion)(node_type, node.attrs, in_shapes, context)


# Costs of fusions and of blocks, keyed by everything their modules depend on, so a node
# whose key is unchanged is neither rebuilt nor run: an edit re-costs only the edited node
# and the nodes whose inputs it changed. Fusion and block are priced apart because a block
# reads only its attributes and its fused input shape: a block equal to one seen anywhere
# before (another node, another spec) costs nothing, whatever its edges.
NODE_COSTS = CountingLRU(8192)


def _fusion_key(node, node_type: NodeType, in_shapes: list[Shape], context: BuildContext) -> tuple | None:
    if node_type.make_fusion is None:
        reads = tuple((edge.weight, edge.learnable) for edge in context.edges)
    elif node_type.fusion_key is None:
        return None  # a custom fusion that does not say what it reads: never reused
    else:
        reads = node_type.fusion_key(node.attrs, context)
    return ("fusion", node.type, tuple(in_shapes), reads)


def _block_key(node, fused: list[Shape]) -> tuple:
    return ("block", node.type, json.dumps(node.attrs, sort_keys=True, default=str), tuple(fused))


def _price_fusion(node, node_type: NodeType, in_shapes: list[Shape], context: BuildContext) -> tuple[int, int, int]:
    """(output channels, params, MACs) of a node's input fusion."""
    with MacCounter() as counter:
        fusion, peers = _make_fusion(node, node_type, in_shapes, context)
        xs = [torch.empty((1, *shape), device="meta") for shape in in_shapes]
        peer_xs = [torch.empty((1, *context.shapes[peer]), device="meta") for peer in peers]
        fusion.eval()(xs, peer_xs)
    return fusion.out_channels, _param_count(fusion), counter.macs


def _price_block(node, node_type: NodeType, fused: list[Shape], context: BuildContext, params_left: int) -> tuple[Shape, int, int]:
    """(output shape, params, MACs) of a node's block at its fused input shape(s)."""
    with MacCounter() as counter:
        block = node_type.build(node.attrs, fused if node_type.fuse == "list" else fused[0], context)
        block_params = _param_count(block)
        if block_params > params_left:
            raise _OverBudget(block_params)  # refused before even a meta forward pass through it
        xs = [torch.empty((1, *shape), device="meta") for shape in fused]
        # In inference mode: the same shapes and multiply-adds, and batch norm without its training statistics.
        out = block.eval()(xs if node_type.fuse == "list" else xs[0])
    return tuple(int(d) for d in out.shape[1:]), block_params, counter.macs


def _cached(key: tuple | None, price):
    cost = NODE_COSTS.get(key) if key is not None else None
    if cost is None:
        cost = price()
        if key is not None:
            NODE_COSTS.put(key, cost)
    return cost


def _node_cost(node, node_type: NodeType, in_shapes: list[Shape], context: BuildContext, params_left: int) -> tuple[Shape, int, int]:
    """(output shape, params, MACs) of one node, its fusion included."""
    fusion_params = fusion_macs = 0
    fused = in_shapes
    if _fuses(node_type, in_shapes):
        out_channels, fusion_params, fusion_macs = _cached(
            _fusion_key(node, node_type, in_shapes, context), lambda: _price_fusion(node, node_type, in_shapes, context))
        fused = _fused_shapes(out_channels, in_shapes)
    try:
        output_shape, block_params, block_macs = _cached(
            _block_key(node, fused), lambda: _price_block(node, node_type, fused, context, params_left - fusion_params))
    except _OverBudget as over:
        raise _OverBudget(fusion_params + over.node_params) from None
    node_params = fusion_params + block_params
    if node_params > params_left:
        raise _OverBudget(node_params)
    return output_shape, node_params, fusion_macs + block_macs


def _cost_walk(spec: ArchSpec, order: list[str], budget: Budget) -> Analysis:
    """Shapes, params and MACs of every node in ``order``, reusing unchanged nodes' costs."""
    analysis = Analysis(spec=spec, order=order)
    graph = Adjacency([node.id for node in spec.nodes], spec.edges, sources=[stream.id for stream in spec.inputs])
    nodes_by_id = {node.id: node for node in spec.nodes}
    shapes: dict[str, Shape] = {stream.id: input_shape(spec, stream.id) for stream in spec.inputs}
    problems: list[Problem] = []
    failed: set[str] = set()
    params = macs = 0
    for node_id in order:
        index = graph.position[node_id]
        node = nodes_by_id[node_id]
        edges = graph.incoming[node_id]
        sources = [edge.source for edge in edges]
        where = f"nodes[{index}]"
        if any(source in failed for source in sources):
            failed.add(node_id)
            continue
        in_shapes = [shapes[source] for source in sources]
        context = BuildContext(spec, node_id, index, edges, shapes, nodes_by_id)
        try:
            output_shape, node_params, node_macs = _node_cost(node, NODE_TYPES[node.type], in_shapes, context, budget.max_params - params)
        except _OverBudget as over:
            raise SpecError(problems + [Problem(where, f"parameter budget exceeded: {params + over.node_params:,} > {budget.max_params:,} after {node_id!r}")]) from None
        except (RuntimeError, ValueError, ZeroDivisionError) as exc:
            problems.append(Problem(where, f"{node.type} {node_id!r} does not fit its input {_fmt(in_shapes)}: {_first_line(exc)}"))
            failed.add(node_id)
            continue
        shapes[node_id] = output_shape
        analysis.nodes[node_id] = NodeCost(node_id, node.type, in_shapes, output_shape, node_params, node_macs)
        params += node_params
        macs += node_macs
        if params > budget.max_params:
            raise SpecError(problems + [Problem(where, f"parameter budget exceeded: {params:,} > {budget.max_params:,} after {node_id!r}")])
        if macs > budget.max_macs:
            raise SpecError(problems + [Problem(where, f"multiply-add budget exceeded: {macs:,} > {budget.max_macs:,} per clip after {node_id!r}")])
    if problems:
        raise SpecError(problems)
    return analysis


def _build_modules(analysis: Analysis):
    """Every node's modules, on the current default device, at the shapes ``analysis`` found."""
    spec = analysis.spec
    graph = Adjacency([node.id for node in spec.nodes], spec.edges, sources=[stream.id for stream in spec.inputs])
    nodes_by_id = {node.id: node for node in spec.nodes}
    shapes: dict[str, Shape] = {stream.id: input_shape(spec, stream.id) for stream in spec.inputs}
    blocks: dict[str, nn.Module] = {}
    fusions: dict[str, nn.Module] = {}
    peers: dict[str, list[str]] = {}
    for node_id in analysis.order:
        node = nodes_by_id[node_id]
        cost = analysis.nodes[node_id]
        context = BuildContext(spec, node_id, graph.position[node_id], graph.incoming[node_id], shapes, nodes_by_id)
        blocks[node_id], fusion, node_peers = _make_modules(node, NODE_TYPES[node.type], cost.input_shapes, context)
        if fusion is not None:
            fusions[node_id], peers[node_id] = fusion, node_peers
        shapes[node_id] = cost.output_shape
    return blocks, fusions, peers


def _fmt(shapes: list[Shape]) -> str:
    return ", ".join("x".join(str(d) for d in shape) for shape in shapes) or "none"


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


_ANALYSES: "OrderedDict[tuple, Analysis]" = OrderedDict()
_CACHE_SIZE = 256


def analyze(spec: ArchSpec, *, num_classes: int | None = None, budget: Budget = DEFAULT_BUDGET) -> Analysis:
    """Validate ``spec`` fully (structure, shapes, budget) without allocating tensors.

    Whole results are memoised by content hash (a search prices the same child in the
    space and again in the engine), and node costs by what each node depends on, so a
    spec that differs from one seen before (an edit, a mutated child) re-costs only the
    nodes whose attributes or inputs differ. Treat the returned Analysis as read-only.
    """
    # Keyed without the budget: a spec that passed one budget passes any budget its totals fit
    # (the budget check is on running sums, which only grow); one that does not is re-analysed
    # so the error names the node where the budget ran out.
    key = (spec.content_hash(), num_classes)
    cached = _ANALYSES.get(key)
    if cached is not None and (cached.params > budget.max_params or cached.macs > budget.max_macs):
        return _analyze(spec, num_classes=num_classes, budget=budget)
    if key in _ANALYSES:
        _ANALYSES.move_to_end(key)
        cached = _ANALYSES[key]
        if (cached.spec.name, cached.spec.meta) == (spec.name, spec.meta):
            return cached
        named = cached.spec.copy()
        named.name, named.meta = spec.name, copy.deepcopy(spec.meta)
        return replace(cached, spec=named)
    analysis = _analyze(spec, num_classes=num_classes, budget=budget)
    _ANALYSES[key] = analysis
    if len(_ANALYSES) > _CACHE_SIZE:
        _ANALYSES.popitem(last=False)
    return analysis


def _analyze(spec: ArchSpec, *, num_classes: int | None, budget: Budget) -> Analysis:
    clean, problems = check_structure(with_num_classes(spec, num_classes))
    if problems:
        raise SpecError(problems)
    order = topological_order(clean)
    with torch.device("meta"):
        return _cost_walk(clean, order, budget)


def build_model(
    spec: ArchSpec,
    *,
    num_classes: int | None = None,
    device: str | torch.device | None = None,
    budget: Budget = DEFAULT_BUDGET,
    analysis: Analysis | None = None,
) -> GraphNet:
    """Build a trainable network; validates first, so a bad spec never allocates memory."""
    analysis = analysis or analyze(spec, num_classes=num_classes, budget=budget)
    device = torch.device(device or "cpu")
    with torch.device(device):
        blocks, fusions, peers = _build_modules(analysis)
    return GraphNet(analysis, blocks, fusions, peers).to(device)


def validate(spec: ArchSpec | dict[str, Any], *, budget: Budget = DEFAULT_BUDGET) -> Analysis:
    """Parse (when given JSON data) and fully validate; raises SpecError listing every problem."""
    if not isinstance(spec, ArchSpec):
        spec = ArchSpec.from_dict(spec)
    return analyze(spec, budget=budget)
