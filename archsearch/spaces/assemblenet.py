"""AssembleNet search space: over-connected multi-stream graphs, evolved with
connection-learning-guided mutations (seed_systems.md section 2).

A candidate is a DAG of ``asn_stem`` nodes (RGB and optical-flow streams at several
temporal dilations) and ``asn_block`` nodes at levels 0-3, every connection weighted
by a learnable sigmoid scalar. Children train with learnable edge weights; after
training the evaluator reports the learned (post-sigmoid) weights and ``mutate``
drops the weak connections, adds random new ones, and optionally splits, merges or
retunes a node. Parameters stay within ``[config.min_params, config.max_params]``.

Scaled-down values (ours; the seed's values in brackets):

* Inputs: ``rgb`` (3 ch) and ``flow`` (2 ch, precomputed optical flow from the data
  pipeline) at ``config.frames`` frames of ``config.size`` px. [The released code
  computes representation flow from RGB inside the network; available here with
  ``flow="repflow"``, default off.]
* Stems: 2-4 sampled (at least one RGB and one flow), at most 6 after splits;
  filters 4/8/16 (8 twice as likely) [128 // #stems]; RGB temporal dilation
  1/2/4/8, flow stems keep 1 (the flow stem has no temporal conv, so its dilation
  has no effect). Stems downsample by 4.
* Blocks: level filters 4/8/16, 8/16/32, 16/32/64, 32/64/128 for levels 0-3 (the
  middle value twice as likely) [32, 64, 256, 512]; output channels are 4x filters;
  ``num_modules`` 1 [3/4/6/3 for AssembleNet-50]; spatial stride 1 at level 0, 2 at
  levels 1-3 (32 px: stems 8, L0 8, L1 4, L2 2, L3 1); temporal dilation 1/2/4/8;
  no attention.
* Nodes per level when sampling: 2-4, 1-3, 1-2, 1 (caps after splits 6, 5, 4, 2).
  All level-3 nodes share one filter count (the classifier averages them) and they,
  and only they, feed the classifier.
* Connections: a block reads from stems or blocks of strictly lower level (as in
  every published structure; each level is one resolution). ``same_level_inputs=True``
  also allows earlier blocks of the same level ("any earlier node"). Sampled blocks
  take 1-4 inputs, at least one from the level just below; every non-final node feeds
  some later node.
* Connection-guided mutation: edges whose learned weight is below ``drop_threshold``
  (0.2) are dropped, weakest first, at most ``max_drops`` (3) per child, never a
  node's last input nor a source's last consumer; then max(1, #dropped) random new
  edges are added. Surviving edges start the child at their learned weight
  (learnable). With probability ``structural_rate`` (0.5) one structural operation
  follows. Without learned weights, 1 (70 %) or 2 random operations.
* Operations: add edge, split a node (stem or block; its inputs divided or
  duplicated, both halves feed the original consumers), merge two same-level nodes
  (stems: same modality), change a block's temporal dilation, change a node's filters
  by one step (level 3: all level-3 nodes together), change an RGB stem's dilation.
* Node ids are stable across mutations; new nodes get ``n{k}`` with k above every id
  ever used in the lineage (``meta['asn_next_id']``). Node order is a topological
  order: stems, then blocks by level.
"""
from __future__ import annotations

import copy
import random
import re
from typing import Any

from archsearch.spaces.base import Mutation, SpaceConfig
from videomodels import ArchSpec, Budget, Edge, InputStream, Node, SpecError, analyze
from videomodels import graph
from videomodels.validation import order_nodes

FAMILY = "assemblenet"
HEAD = "head"
REPFLOW = "repflow"
DILATIONS = (1, 2, 4, 8)
STEM_FILTERS = (4, 8, 16)
LEVEL_FILTERS = ((4, 8, 16), (8, 16, 32), (16, 32, 64), (32, 64, 128))
FILTER_WEIGHTS = (1, 2, 1)  # the middle value is the default
LEVEL_STRIDE = (1, 2, 2, 2)
NUM_MODULES = 1
SAMPLED_STEMS = (2, 4)
MAX_STEMS = 6
SAMPLED_PER_LEVEL = ((2, 4), (1, 3), (1, 2), (1, 1))
MAX_PER_LEVEL = (6, 5, 4, 2)
MAX_SAMPLED_INPUTS = 4
WEIGHT_EPS = 1e-3  # learned weights are clamped into [eps, 1 - eps] (a spec needs 0 < w < 1)
OPERATIONS = ("add_edge", "split", "merge", "dilation", "filters", "stem_dilation")
DEFAULT_OP_WEIGHTS = {"add_edge": 2.0, "split": 1.0, "merge": 1.0, "dilation": 2.0, "filters": 1.5, "stem_dilation": 1.0}
_ID = re.compile(r"^n(\d+)$")


# -- evaluation format --------------------------------------------------------
def edge_weights_from_model(model) -> list[dict[str, Any]]:
    """The evaluator's ``evaluation['edge_weights']`` from a trained ``GraphNet``:
    one ``{"source", "target", "weight"}`` per edge into a node that fuses several
    inputs (post-sigmoid weights, as stored in specs)."""
    fused = set(model.fusions.keys())
    return [
        {"source": edge.source, "target": edge.target, "weight": float(edge.weight)}
        for edge in model.edge_weights()
        if edge.target in fused and edge.weight is not None
    ]


def learned_weights(evaluation: dict | None) -> dict[tuple[str, str], float] | None:
    """``{(source, target): weight}`` from an evaluation, or None when it has none."""
    if not evaluation:
        return None
    entries = evaluation.get("edge_weights")
    if not entries:
        return None
    weights: dict[tuple[str, str], float] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        source, target, weight = entry.get("source"), entry.get("target"), entry.get("weight")
        if not isinstance(source, str) or not isinstance(target, str):
            continue
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight != weight:
            continue
        weights[(source, target)] = min(max(float(weight), WEIGHT_EPS), 1.0 - WEIGHT_EPS)
    return weights or None


# -- graph helpers -------------------------------------------------------------
def level(node: Node) -> int | None:
    """Stems are level -1, blocks their level; anything else (head, repflow) None."""
    if node.type == "asn_stem":
        return -1
    if node.type == "asn_block":
        return int(node.attrs.get("level", 0))
    return None


def _body(spec: ArchSpec) -> list[Node]:
    return [node for node in spec.nodes if level(node) is not None]


def _edge(spec: ArchSpec, source: str, target: str) -> Edge | None:
    for edge in spec.edges:
        if edge.source == source and edge.target == target:
            return edge
    return None


def _fresh_id(spec: ArchSpec) -> str:
    numbers = [int(m.group(1)) for node in spec.nodes if (m := _ID.match(node.id))]
    next_id = max([spec.meta.get("asn_next_id", 0), *(n + 1 for n in numbers)])
    spec.meta["asn_next_id"] = next_id + 1
    return f"n{next_id}"


def _step(choices: tuple[int, ...], current: int, rng: random.Random, direction: int = 0) -> int | None:
    """A neighbouring value of ``current`` in ``choices`` (up, down, or either when 0)."""
    ordered = sorted(choices)
    if current not in ordered:
        options = [c for c in ordered if (direction >= 0 and c > current) or (direction <= 0 and c < current)]
        if not options:
            return None
        return min(options, key=lambda c: (abs(c - current), c))
    index = ordered.index(current)
    options = [index + d for d in ((-1, 1) if direction == 0 else (direction,)) if 0 <= index + d < len(ordered)]
    return ordered[rng.choice(options)] if options else None


def _filter_choices(node: Node) -> tuple[int, ...]:
    lvl = level(node)
    return STEM_FILTERS if lvl == -1 else LEVEL_FILTERS[min(max(lvl, 0), 3)]


def _weighted_choice(rng: random.Random, values: tuple[int, ...]) -> int:
    return rng.choices(values, weights=FILTER_WEIGHTS[: len(values)])[0]


def estimate_params(spec: ArchSpec, num_classes: int | None = None) -> int | None:
    """Exact parameter count from the one cost walk (``analyze``, which reuses the cost of
    every node a mutation left alone); None when the spec is invalid."""
    try:
        # Through graph.analyze, not this module's ``analyze``: that name is the acceptance
        # check (below, with the space's budget), which tests watch.
        return graph.analyze(spec, num_classes=num_classes).params
    except SpecError:
        return None


def spec_from_structure(
    structure: list,
    config: SpaceConfig,
    *,
    stem_filters: int = 8,
    flow: str = "input",
    weights: list[list[float] | None] | None = None,
) -> ArchSpec:
    """A spec of this space from an AssembleNet structure list (``[stem_type, dilation]``
    or ``[level, [inputs], filters, dilation, stride]``), with one module per block and
    learnable edges; ``weights[i]`` optionally gives node i's input weights."""
    kinds = {-1: "rgb", -2: "flow"}
    inputs = [InputStream("rgb", "rgb", 3, config.frames, 1, config.size)]
    nodes: list[Node] = []
    edges: list[Edge] = []
    if flow == "input":
        inputs.append(InputStream("flow", "flow", 2, config.frames, 1, config.size))
        flow_source = "flow"
    else:
        nodes.append(Node(REPFLOW, "representation_flow", {"iterations": 10}))
        edges.append(Edge("rgb", REPFLOW))
        flow_source = REPFLOW
    for index, raw in enumerate(structure):
        node_id = f"n{index}"
        if len(raw) == 2:
            modality = kinds[raw[0]]
            nodes.append(Node(node_id, "asn_stem", {"modality": modality, "temporal_dilation": int(raw[1]), "filters": stem_filters}))
            edges.append(Edge("rgb" if modality == "rgb" else flow_source, node_id))
            continue
        lvl, sources, filters, dilation, stride = raw[:5]
        node_weights = (weights[index] if weights and index < len(weights) else None) or [None] * len(sources)
        for source, weight in zip(sources, node_weights):
            edges.append(Edge(f"n{source}", node_id, weight, True))
        nodes.append(Node(node_id, "asn_block", {
            "level": int(lvl), "filters": int(filters), "temporal_dilation": int(dilation),
            "spatial_stride": int(stride), "num_modules": NUM_MODULES, "attention": "none",
        }))
    nodes.append(Node(HEAD, "classifier", {"num_classes": config.num_classes}))
    edges += [Edge(node.id, HEAD) for node in nodes if level(node) == 3]
    return ArchSpec(FAMILY, inputs, nodes, edges, meta={"asn_next_id": len(structure)})


class AssembleNetSpace:
    """See the module docstring for the choices."""

    family = FAMILY

    def __init__(
        self,
        config: SpaceConfig,
        *,
        drop_threshold: float = 0.2,
        max_drops: int = 3,
        structural_rate: float = 0.5,
        flow: str = "input",
        repflow_iterations: int = 10,
        same_level_inputs: bool = False,
        op_weights: dict[str, float] | None = None,
        max_attempts: int = 30,
    ):
        if flow not in ("input", "repflow"):
            raise ValueError(f"flow must be 'input' or 'repflow', got {flow!r}")
        weights = dict(DEFAULT_OP_WEIGHTS if op_weights is None else op_weights)
        unknown = set(weights) - set(OPERATIONS)
        if unknown:
            raise ValueError(f"unknown operations {sorted(unknown)}; known: {', '.join(OPERATIONS)}")
        if not any(w > 0 for w in weights.values()):
            raise ValueError("op_weights needs at least one positive weight")
        self.config = config
        self.drop_threshold = float(drop_threshold)
        self.max_drops = int(max_drops)
        self.structural_rate = float(structural_rate)
        self.flow = flow
        self.repflow_iterations = int(repflow_iterations)
        self.same_level_inputs = bool(same_level_inputs)
        self.op_weights = {op: float(weights.get(op, 0.0)) for op in OPERATIONS}
        self.max_attempts = int(max_attempts)
        self.budget = Budget(max_params=config.max_params)
        self._checked: dict[str, int | None] = {}

    # -- validity ------------------------------------------------------------
    def params(self, spec: ArchSpec) -> int | None:
        """The spec's parameter count if it passes ``analyze`` (None otherwise); memoised."""
        key = spec.content_hash()
        if key not in self._checked:
            if len(self._checked) > 4096:
                self._checked.clear()
            try:
                self._checked[key] = analyze(spec, num_classes=self.config.num_classes, budget=self.budget).params
            except SpecError:
                self._checked[key] = None
        return self._checked[key]

    def in_band(self, params: int | None) -> bool:
        return params is not None and self.config.min_params <= params <= self.config.max_params

    def _finish(self, spec: ArchSpec) -> ArchSpec | None:
        """Canonicalise, then accept only a spec that passes analyze within the band."""
        spec = self._canonical(spec)
        if spec is None:
            return None
        estimate = estimate_params(spec, self.config.num_classes)
        if estimate is not None and not self.in_band(estimate):
            return None  # cheap rejection; analyze below is the judge
        return spec if self.in_band(self.params(spec)) else None

    def _canonical(self, spec: ArchSpec) -> ArchSpec | None:
        """Level-3 nodes (exactly) feed the head; nodes in a stable topological order;
        edges sorted by target then source position. None on a cycle."""
        head = next((node for node in spec.nodes if node.type == "classifier"), None)
        if head is None:
            return None
        nodes = [node for node in spec.nodes if node is not head]
        finals = [node.id for node in nodes if level(node) == 3]
        if not finals:
            return None
        kept = {(e.source, e.target): e for e in spec.edges if e.target != head.id}
        old_head = {e.source: e for e in spec.edges if e.target == head.id}
        edges = list(kept.values()) + [old_head.get(node_id) or Edge(node_id, head.id) for node_id in finals]
        order = order_nodes([node.id for node in nodes] + [head.id], edges)
        if len(order) != len(nodes) + 1:
            return None
        by_id = {node.id: node for node in nodes}
        by_id[head.id] = head
        spec.nodes = [by_id[node_id] for node_id in order]
        rank = {stream.id: index - len(spec.inputs) for index, stream in enumerate(spec.inputs)}
        rank.update({node_id: index for index, node_id in enumerate(order)})
        spec.edges = sorted(edges, key=lambda e: (rank.get(e.target, 10**6), rank.get(e.source, 10**6)))
        numbers = [int(m.group(1)) for node in spec.nodes if (m := _ID.match(node.id))]
        spec.meta["asn_next_id"] = max([spec.meta.get("asn_next_id", 0), *(n + 1 for n in numbers)])
        return spec

    def _sources_for(self, spec: ArchSpec, target: Node) -> list[Node]:
        """Nodes that may feed ``target`` (earlier in the order, lower level)."""
        target_level = level(target)
        found = []
        for node in spec.nodes:
            if node.id == target.id:
                break
            lvl = level(node)
            if lvl is None:
                continue
            if lvl < target_level or (self.same_level_inputs and lvl == target_level):
                found.append(node)
        return found

    # -- sampling --------------------------------------------------------------
    def _inputs(self) -> tuple[list[InputStream], list[Node], list[Edge], str]:
        c = self.config
        inputs = [InputStream("rgb", "rgb", 3, c.frames, 1, c.size)]
        if self.flow == "input":
            inputs.append(InputStream("flow", "flow", 2, c.frames, 1, c.size))
            return inputs, [], [], "flow"
        node = Node(REPFLOW, "representation_flow", {"iterations": self.repflow_iterations})
        return inputs, [node], [Edge("rgb", REPFLOW)], REPFLOW

    def _random_spec(self, rng: random.Random) -> ArchSpec:
        inputs, nodes, edges, flow_source = self._inputs()
        count = rng.randint(*SAMPLED_STEMS)
        modalities = ["rgb", "flow"] + [rng.choice(("rgb", "flow")) for _ in range(count - 2)]
        modalities.sort(key=lambda m: m != "rgb")
        by_level: dict[int, list[Node]] = {-1: []}
        next_id = 0
        for modality in modalities:
            node = Node(f"n{next_id}", "asn_stem", {
                "modality": modality,
                "temporal_dilation": rng.choice(DILATIONS) if modality == "rgb" else 1,
                "filters": _weighted_choice(rng, STEM_FILTERS),
            })
            next_id += 1
            nodes.append(node)
            by_level[-1].append(node)
            edges.append(Edge("rgb" if modality == "rgb" else flow_source, node.id))
        final_filters = _weighted_choice(rng, LEVEL_FILTERS[3])
        for lvl in range(4):
            by_level[lvl] = []
            for _ in range(rng.randint(*SAMPLED_PER_LEVEL[lvl])):
                node = Node(f"n{next_id}", "asn_block", {
                    "level": lvl,
                    "filters": final_filters if lvl == 3 else _weighted_choice(rng, LEVEL_FILTERS[lvl]),
                    "temporal_dilation": rng.choice(DILATIONS),
                    "spatial_stride": LEVEL_STRIDE[lvl],
                    "num_modules": NUM_MODULES,
                    "attention": "none",
                })
                next_id += 1
                partial = ArchSpec(FAMILY, inputs, nodes + [node], [])
                eligible = self._sources_for(partial, node)
                first = rng.choice(by_level[lvl - 1])
                others = [n for n in eligible if n.id != first.id]
                extra = rng.randint(0, min(MAX_SAMPLED_INPUTS - 1, len(others)))
                for source in [first] + rng.sample(others, extra):
                    edges.append(Edge(source.id, node.id))
                nodes.append(node)
                by_level[lvl].append(node)
        spec = ArchSpec(FAMILY, inputs, nodes, edges, meta={"asn_next_id": next_id})
        self._connect_orphans(spec, rng)
        self._add_head(spec)
        return spec

    def _add_head(self, spec: ArchSpec) -> None:
        finals = [node.id for node in spec.nodes if level(node) == 3]
        spec.nodes.append(Node(HEAD, "classifier", {"num_classes": self.config.num_classes}))
        spec.edges += [Edge(node_id, HEAD) for node_id in finals]

    def _connect_orphans(self, spec: ArchSpec, rng: random.Random | None) -> None:
        """Give every non-final node a consumer (a random one, or round-robin without rng)."""
        used = {edge.source for edge in spec.edges}
        for index, node in enumerate(spec.nodes):
            if level(node) is None or level(node) == 3 or node.id in used:
                continue
            consumers = [t for t in spec.nodes if level(t) is not None and level(t) >= 0
                         and any(s.id == node.id for s in self._sources_for(spec, t))]
            target = rng.choice(consumers) if rng is not None else consumers[index % len(consumers)]
            spec.edges.append(Edge(node.id, target.id))
            used.add(node.id)

    def _fit_band(self, spec: ArchSpec, rng: random.Random, steps: int = 16) -> list[str]:
        """Step filters (highest level first) until the estimate lies in the band."""
        notes: list[str] = []
        for _ in range(steps):
            estimate = estimate_params(spec, self.config.num_classes)
            if estimate is None or self.in_band(estimate):
                break
            direction = 1 if estimate < self.config.min_params else -1
            movable = [n for n in _body(spec) if _step(_filter_choices(n), n.attrs["filters"], rng, direction) is not None]
            if not movable:
                break
            top = max(level(n) for n in movable)
            node = rng.choice([n for n in movable if level(n) == top])
            notes += self._set_filters(spec, node, _step(_filter_choices(node), node.attrs["filters"], rng, direction))
        return notes

    def sample(self, rng: random.Random) -> ArchSpec:
        for _ in range(self.max_attempts * 2):
            spec = self._random_spec(rng)
            self._fit_band(spec, rng)
            result = self._finish(spec)
            if result is not None:
                return result
        raise ValueError(
            f"could not sample a valid AssembleNet within [{self.config.min_params:,}, {self.config.max_params:,}] parameters"
        )

    # -- mutation --------------------------------------------------------------
    def mutate(self, spec: ArchSpec, rng: random.Random, *, progress: float = 0.0, evaluation: dict | None = None) -> Mutation:
        """``progress`` is unused (AssembleNet mutates at the same rate throughout)."""
        learned = learned_weights(evaluation)
        base = spec.copy()
        carried = self._carry(base, learned)
        parent_hash = spec.content_hash()
        for attempt in range(self.max_attempts):
            child = base.copy()
            ops: list[str] = []
            details: dict[str, Any] = {"dropped": [], "kept_weak": [], "added": [], "operations": [], "carried_weights": carried}
            if learned is not None:
                self._guided(child, learned, rng, ops, details)
                if rng.random() < self.structural_rate:
                    self._random_ops(child, rng, ops, details, 1, exclude=("add_edge",))
            else:
                self._random_ops(child, rng, ops, details, 1 if rng.random() < 0.7 else 2)
            if not ops:
                continue
            result = self._finish(child)
            if result is not None and result.content_hash() != parent_hash:
                details["attempt"] = attempt
                details["params"] = self.params(result)
                return Mutation(result, "; ".join(ops), details)
        return self._fallback(base, rng, carried)

    def _fallback(self, base: ArchSpec, rng: random.Random, carried: int) -> Mutation:
        """A temporal-dilation change: parameters do not change, so a parent in the
        band stays in it. Tried over every block and dilation before giving up."""
        blocks = [n for n in base.nodes if n.type == "asn_block"]
        rng.shuffle(blocks)
        for node in blocks:
            for dilation in [d for d in DILATIONS if d != node.attrs.get("temporal_dilation")]:
                child = base.copy()
                target = child.node(node.id)
                old = target.attrs.get("temporal_dilation")
                target.attrs["temporal_dilation"] = dilation
                result = self._finish(child)
                if result is None:
                    continue
                description = f"{node.id} dilation {old}->{dilation}"
                details = {"dropped": [], "kept_weak": [], "added": [], "carried_weights": carried, "fallback": True,
                           "operations": [{"op": "dilation", "node": node.id, "old": old, "new": dilation}],
                           "params": self.params(result)}
                return Mutation(result, description, details)
        raise ValueError("no valid AssembleNet child: the parent is invalid or outside the parameter band")

    @staticmethod
    def _carry(spec: ArchSpec, learned: dict[tuple[str, str], float] | None) -> int:
        """Learned weights become the child's starting values; every edge learnable."""
        carried = 0
        for edge in spec.edges:
            edge.learnable = True
            if learned and (edge.source, edge.target) in learned:
                edge.weight = learned[(edge.source, edge.target)]
                carried += 1
        return carried

    def _guided(self, spec: ArchSpec, learned: dict, rng: random.Random, ops: list[str], details: dict) -> None:
        """Drop weak learned connections (weakest first), then add random new ones."""
        position = {node.id: index for index, node in enumerate(spec.nodes)}
        weak = [
            (learned[(e.source, e.target)], index, e)
            for index, e in enumerate(spec.edges)
            if (e.source, e.target) in learned and learned[(e.source, e.target)] < self.drop_threshold
            and e.target in position and spec.nodes[position[e.target]].type == "asn_block"
        ]
        weak.sort(key=lambda item: (item[0], item[1]))
        dropped: list[tuple[str, str]] = []
        for weight, _, edge in weak:
            reason = None
            if len(dropped) >= self.max_drops:
                reason = "max_drops"
            elif len(spec.incoming(edge.target)) <= 1:
                reason = "last input"
            elif len(spec.outgoing(edge.source)) <= 1:
                reason = "last consumer"
            record = {"source": edge.source, "target": edge.target, "weight": round(weight, 4)}
            if reason:
                details["kept_weak"].append({**record, "reason": reason})
                continue
            spec.edges.remove(edge)
            dropped.append((edge.source, edge.target))
            details["dropped"].append(record)
            details["operations"].append({"op": "drop_edge", **record})
            ops.append(f"dropped edge {edge.source}->{edge.target} (w={weight:.2f})")
        self._add_edges(spec, rng, max(1, len(dropped)), set(dropped), ops, details)

    def _add_edges(self, spec, rng, count, exclude, ops, details) -> bool:
        existing = {(e.source, e.target) for e in spec.edges}
        added = False
        for _ in range(count):
            candidates = [
                (source.id, target.id)
                for target in spec.nodes if target.type == "asn_block"
                for source in self._sources_for(spec, target)
                if (source.id, target.id) not in existing and (source.id, target.id) not in exclude
            ]
            if not candidates:
                break
            source, target = rng.choice(candidates)
            spec.edges.append(Edge(source, target, None, True))
            existing.add((source, target))
            details["added"].append({"source": source, "target": target})
            details["operations"].append({"op": "add_edge", "source": source, "target": target})
            ops.append(f"added edge {source}->{target}")
            added = True
        return added

    def _random_ops(self, spec, rng, ops, details, count: int, exclude: tuple[str, ...] = ()) -> None:
        for _ in range(count):
            remaining = [op for op in OPERATIONS if op not in exclude and self.op_weights[op] > 0]
            while remaining:
                op = rng.choices(remaining, weights=[self.op_weights[o] for o in remaining])[0]
                if op == "add_edge":
                    done = self._add_edges(spec, rng, 1, set(), ops, details)
                else:
                    done = getattr(self, f"_op_{op}")(spec, rng, ops, details)
                if done:
                    break
                remaining.remove(op)

    def _op_split(self, spec, rng, ops, details) -> bool:
        counts: dict[int, int] = {}
        for node in _body(spec):
            counts[level(node)] = counts.get(level(node), 0) + 1
        cap = {-1: MAX_STEMS, **dict(enumerate(MAX_PER_LEVEL))}
        candidates = [n for n in _body(spec) if counts[level(n)] < cap.get(level(n), 0)]
        if not candidates:
            return False
        node = rng.choice(candidates)
        new_id = _fresh_id(spec)
        twin = Node(new_id, node.type, copy.deepcopy(node.attrs))
        inputs = spec.incoming(node.id)
        mode = "divided" if node.type == "asn_block" and len(inputs) >= 2 and rng.random() < 0.5 else "duplicated"
        if mode == "divided":
            moved = rng.sample(inputs, rng.randint(1, len(inputs) - 1))
            for edge in moved:
                edge.target = new_id
        else:
            spec.edges += [Edge(e.source, new_id, e.weight, True) for e in inputs]
        spec.edges += [Edge(new_id, e.target, e.weight, True) for e in spec.outgoing(node.id) if e.target != HEAD]
        spec.nodes.insert(spec.node_index(node.id) + 1, twin)
        ops.append(f"split {node.id} into {node.id}, {new_id}")
        details["operations"].append({"op": "split", "node": node.id, "new": new_id, "inputs": mode})
        return True

    def _op_merge(self, spec, rng, ops, details) -> bool:
        body = _body(spec)
        position = {node.id: index for index, node in enumerate(spec.nodes)}
        pairs = []
        for i, a in enumerate(body):
            for b in body[i + 1:]:
                if level(a) != level(b):
                    continue
                if a.type == "asn_stem" and a.attrs.get("modality") != b.attrs.get("modality"):
                    continue
                # b's inputs must precede a (always true with strictly-lower-level inputs).
                if any(position.get(e.source, -1) > position[a.id] for e in spec.incoming(b.id) if e.source != a.id):
                    continue
                pairs.append((a, b))
        if not pairs:
            return False
        keep, gone = rng.choice(pairs)
        existing = {(e.source, e.target) for e in spec.edges}
        for edge in list(spec.incoming(gone.id)):
            if edge.source == keep.id or (edge.source, keep.id) in existing:
                spec.edges.remove(edge)
            else:
                edge.target = keep.id
                existing.add((edge.source, keep.id))
        for edge in list(spec.outgoing(gone.id)):
            if edge.target == HEAD or (keep.id, edge.target) in existing:
                spec.edges.remove(edge)
            else:
                edge.source = keep.id
                existing.add((keep.id, edge.target))
        spec.nodes = [node for node in spec.nodes if node.id != gone.id]
        ops.append(f"merged {gone.id} into {keep.id}")
        details["operations"].append({"op": "merge", "node": keep.id, "removed": gone.id})
        return True

    def _op_dilation(self, spec, rng, ops, details) -> bool:
        blocks = [n for n in spec.nodes if n.type == "asn_block"]
        return _change_dilation(blocks, rng, ops, details, op="dilation", label="")

    def _op_stem_dilation(self, spec, rng, ops, details) -> bool:
        # Flow stems have no temporal conv, so only RGB stems' dilation matters.
        stems = [n for n in spec.nodes if n.type == "asn_stem" and n.attrs.get("modality") == "rgb"]
        return _change_dilation(stems, rng, ops, details, op="stem_dilation", label="stem ")

    def _op_filters(self, spec, rng, ops, details) -> bool:
        body = _body(spec)
        if not body:
            return False
        node = rng.choice(body)
        new = _step(_filter_choices(node), node.attrs["filters"], rng)
        if new is None:
            return False
        changes = self._set_filters(spec, node, new)
        ops += changes
        details["operations"].append({"op": "filters", "node": node.id, "new": new})
        return True

    @staticmethod
    def _set_filters(spec: ArchSpec, node: Node, new: int) -> list[str]:
        """Level-3 nodes change together: the classifier needs one channel count."""
        group = [n for n in spec.nodes if level(n) == 3] if level(node) == 3 else [node]
        changes = []
        for member in group:
            old = member.attrs["filters"]
            if old != new:
                member.attrs["filters"] = new
                changes.append(f"{member.id} filters {old}->{new}")
        return changes

    # -- Optuna ----------------------------------------------------------------
    def suggest(self, trial) -> ArchSpec:
        """Define-by-run: stem count, modalities, dilations and filters; nodes per
        level; per block its filters (level 3 shared), dilation and one boolean per
        eligible earlier node. Repairs: a block with no input gets one from the level
        below, an unused node feeds the level above, filters step into the band; as a
        last resort a sample seeded by the trial number."""
        inputs, nodes, edges, flow_source = self._inputs()
        names: dict[str, Node] = {}
        by_level: dict[int, list[str]] = {lvl: [] for lvl in range(-1, 4)}
        repairs: list[str] = []
        count = trial.suggest_int("stems", *SAMPLED_STEMS)
        next_id = 0
        for i in range(count):
            modality = ("rgb", "flow")[i] if i < 2 else trial.suggest_categorical(f"s{i}_modality", ["rgb", "flow"])
            dilation = trial.suggest_categorical(f"s{i}_dilation", list(DILATIONS)) if modality == "rgb" else 1
            filters = trial.suggest_categorical(f"s{i}_filters", list(STEM_FILTERS))
            node = Node(f"n{next_id}", "asn_stem", {"modality": modality, "temporal_dilation": dilation, "filters": filters})
            next_id += 1
            nodes.append(node)
            edges.append(Edge("rgb" if modality == "rgb" else flow_source, node.id))
            names[f"s{i}"] = node
            by_level[-1].append(f"s{i}")
        final_filters = trial.suggest_categorical("l3_filters", list(LEVEL_FILTERS[3]))
        for lvl in range(4):
            low, high = SAMPLED_PER_LEVEL[lvl]
            count = trial.suggest_int(f"l{lvl}_nodes", low, high) if high > low else low
            for j in range(count):
                name = f"l{lvl}_{j}"
                filters = final_filters if lvl == 3 else trial.suggest_categorical(f"{name}_filters", list(LEVEL_FILTERS[lvl]))
                node = Node(f"n{next_id}", "asn_block", {
                    "level": lvl, "filters": filters,
                    "temporal_dilation": trial.suggest_categorical(f"{name}_dilation", list(DILATIONS)),
                    "spatial_stride": LEVEL_STRIDE[lvl], "num_modules": NUM_MODULES, "attention": "none",
                })
                next_id += 1
                eligible = [k for k, v in names.items()
                            if level(v) < lvl or (self.same_level_inputs and level(v) == lvl)]
                chosen = [k for k in eligible if trial.suggest_categorical(f"{name}_from_{k}", [False, True])]
                if not chosen:
                    below = by_level[lvl - 1]
                    chosen = [below[j % len(below)]]
                    repairs.append(f"{node.id} had no input: added {names[chosen[0]].id}")
                edges += [Edge(names[k].id, node.id) for k in chosen]
                nodes.append(node)
                names[name] = node
                by_level[lvl].append(name)
        spec = ArchSpec(FAMILY, inputs, nodes, edges, meta={"asn_next_id": next_id})
        before = len(spec.edges)
        self._connect_orphans(spec, None)
        if len(spec.edges) > before:
            repairs.append(f"connected {len(spec.edges) - before} unused node(s) to a later node")
        self._add_head(spec)
        repairs += self._fit_band(spec, random.Random(getattr(trial, "number", 0)))
        result = self._finish(spec)
        if result is None:
            repairs.append("replaced by a sample seeded with the trial number")
            result = self.sample(random.Random(getattr(trial, "number", 0)))
        if repairs and hasattr(trial, "set_user_attr"):
            trial.set_user_attr("assemblenet_repairs", repairs)
        return result


def _change_dilation(nodes: list[Node], rng: random.Random, ops: list[str], details: dict, *, op: str, label: str) -> bool:
    """Give one of ``nodes`` a different temporal dilation; False when there is none."""
    if not nodes:
        return False
    node = rng.choice(nodes)
    old = node.attrs.get("temporal_dilation", 1)
    new = rng.choice([d for d in DILATIONS if d != old])
    node.attrs["temporal_dilation"] = new
    ops.append(f"{label}{node.id} dilation {old}->{new}")
    details["operations"].append({"op": op, "node": node.id, "old": old, "new": new})
    return True
