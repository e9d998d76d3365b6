"""EvaNet search space: evolve the modules inside a fixed, ResNet-like meta-architecture.

The skeleton follows the released ``VidIncRes`` network (seed_systems.md section 1.1):
stem conv -> pool1 -> res2 -> pool2 -> res3 -> pool3 -> res4 -> pool4 -> res5 -> head,
with the same node types and wiring as ``videomodels.importers.evanet``. Only its widths
are scaled down so candidates train on tiny clips (``config.frames`` x ``config.size``
px) on a couple of CPU cores:

====================  ===============================  ==============================
                      published                        ours
====================  ===============================  ==============================
stem                  64 filters, [time1,7,7], /2,/2   16 filters, [time1,7,7], /2,/2
                                                       (temporal /1 when frames < 4)
pool1                 [mp1_t,3,3], stride [2,2,2]      same (temporal /1 when frames < 8)
pool2 / pool3 / pool4 [t,2,2], stride [1,2,2]          same
block filters         256, 512, 1024, 2048             32, 64, 128, 256
repeats               any (released: 2..5)             1..3
parallel branches     any (released: 2..6)             1..5
temporal sizes        {1,3,5,7,9,11}                   same
head                  avg [min(T,2),H,W], dropout 0.5  classifier, temporal_window=2
====================  ===============================  ==============================

At 8 frames and 32 px the stages see T=2 and 8, 4, 2, 1 px (net strides 4 and 32, as
published; SAME padding rounds up, so smaller inputs never fall below one pixel/frame).

The genome (what ``sample``, ``mutate`` and ``suggest`` choose):

* stem: ``convop1`` (conv type), ``time1`` (temporal size), ``max_pool1_time`` (pool1
  and, as in the released code, pool2), ``max_pool3_time``, ``max_pool4_time``;
* per block: ``repeats`` and a list of 1..5 parallel branches, each a ``kind`` in
  1x1 | conv | conv2 | maxpool_conv with the conv types / temporal sizes its kind uses.
  Fields a kind ignores are kept at their defaults, so equal networks hash equally.

Mutations (EvaNet's operators, paper sec. 3; the search code itself is unpublished):
change a branch's kind, a conv type (either conv of a conv2), a temporal size (either),
add a branch, remove a branch (>= 1 stays), change repeats (+-1), change the stem's
conv type / time1, change a pool's temporal size. "Many mutations early, fewer later":
a child gets ``max_ops`` operations at ``progress=0`` falling linearly to ``min_ops``
at ``progress=1`` (stochastic rounding in between).

``diversity(a, b)`` measures how different two genomes are, so the engine can ensemble
diverse top models as EvaNet did.
"""
from __future__ import annotations

import math
import random
from collections import Counter
from typing import Any

import torch

from videomodels import ArchSpec, Budget, Edge, InputStream, Node, SpecError, analyze
from videomodels.families.evanet import BRANCH_KINDS, TEMPORAL_SIZES
from videomodels.ops.conv import CONV_TYPES
from videomodels.schema import NODE_TYPES, check_attrs

from archsearch.spaces.base import Mutation, SpaceConfig

# -- the scaled-down skeleton ("ours"; published values in the module docstring) ----------
STEM_FILTERS = 16
STEM_SPATIAL_KERNEL = 7
BLOCK_IDS = ("res2", "res3", "res4", "res5")
BLOCK_FILTERS = (32, 64, 128, 256)
MAX_REPEATS = 3
MAX_BRANCHES = 5
POOL_GENES = {  # stem gene -> the pool nodes it sets (pool2 reuses max_pool1_time, as released)
    "max_pool1_time": ("pool1", "pool2"),
    "max_pool3_time": ("pool3",),
    "max_pool4_time": ("pool4",),
}
TEMPORAL_WINDOW = 2
DROPOUT = 0.5

# -- search behaviour ------------------------------------------------------------------------
ATTEMPTS = 25  # random draws / mutation retries before falling back
OPERATOR_WEIGHTS = {
    "kind": 2.0,
    "conv_type": 2.0,
    "temporal": 2.0,
    "add_branch": 1.5,
    "remove_branch": 1.5,
    "repeats": 1.0,
    "stem": 1.0,
    "pool_time": 0.5,
}
DEFAULT_BRANCH = {"kind": "1x1", "conv_type": "conv3d", "temporal_kernel": 1, "conv_type2": "conv3d", "temporal_kernel2": 1}


# -- branches ---------------------------------------------------------------------------------
def canonical_branch(branch: dict) -> dict:
    """The branch with the fields its kind ignores reset to defaults."""
    kind = branch["kind"]
    clean = dict(DEFAULT_BRANCH, kind=kind)
    if kind in ("conv", "conv2", "maxpool_conv"):
        clean["temporal_kernel"] = int(branch.get("temporal_kernel", 1))
    if kind in ("conv", "conv2"):
        clean["conv_type"] = branch.get("conv_type", "conv3d")
    if kind == "conv2":
        clean["conv_type2"] = branch.get("conv_type2", "conv3d")
        clean["temporal_kernel2"] = int(branch.get("temporal_kernel2", 1))
    return clean


def branch_label(branch: dict) -> str:
    kind = branch["kind"]
    if kind == "1x1":
        return "1x1"
    if kind == "maxpool_conv":
        return f"maxpool_conv t={branch['temporal_kernel']}"
    if kind == "conv":
        return f"conv {branch['conv_type']} t={branch['temporal_kernel']}"
    return f"conv2 {branch['conv_type']} t={branch['temporal_kernel']} + {branch['conv_type2']} t={branch['temporal_kernel2']}"


def random_branch(rng: random.Random, kind: str | None = None, like: dict | None = None) -> dict:
    """A random branch of ``kind``; fields that ``like`` already has (and the kind uses) are kept."""
    kind = kind or rng.choice(BRANCH_KINDS)
    fresh = {
        "kind": kind,
        "conv_type": rng.choice(CONV_TYPES),
        "temporal_kernel": rng.choice(TEMPORAL_SIZES),
        "conv_type2": rng.choice(CONV_TYPES),
        "temporal_kernel2": rng.choice(TEMPORAL_SIZES),
    }
    if like is not None:
        old = canonical_branch(like)
        if old["kind"] != "1x1":
            fresh["temporal_kernel"] = old["temporal_kernel"]
        if old["kind"] in ("conv", "conv2"):
            fresh["conv_type"] = old["conv_type"]
    return canonical_branch(fresh)


def _uses(branch: dict) -> tuple[list[str], list[str]]:
    """(conv-type fields, temporal fields) that the branch's kind reads."""
    kind = branch["kind"]
    convs = {"conv": ["conv_type"], "conv2": ["conv_type", "conv_type2"]}.get(kind, [])
    times = {"1x1": [], "conv2": ["temporal_kernel", "temporal_kernel2"]}.get(kind, ["temporal_kernel"])
    return convs, times


def _blocks(spec: ArchSpec) -> list[Node]:
    return [node for node in spec.nodes if node.type == "evanet_block"]


def _stem(spec: ArchSpec) -> Node:
    for node in spec.nodes:
        if node.type == "evanet_stem":
            return node
    raise ValueError("an EvaNet spec needs an evanet_stem node")


def _pool_genes(spec: ArchSpec) -> dict[str, list[Node]]:
    ids = {node.id: node for node in spec.nodes if node.type == "pool3d"}
    genes = {}
    for gene, node_ids in POOL_GENES.items():
        nodes = [ids[i] for i in node_ids if i in ids]
        if nodes:
            genes[gene] = nodes
    return genes


# -- genome view and distance -----------------------------------------------------------------
def genome(spec: ArchSpec) -> dict[str, Any]:
    """The searched choices of an EvaNet spec, as plain data."""
    stem = _stem(spec)
    return {
        "stem": {
            "convop1": stem.attrs.get("conv_type", "conv2p1"),
            "time1": int(stem.attrs.get("temporal_kernel", 3)),
            **{gene: int(nodes[0].attrs.get("temporal_kernel", 1)) for gene, nodes in _pool_genes(spec).items()},
        },
        "blocks": {
            node.id: {
                "repeats": int(node.attrs.get("repeats", 1)),
                "branches": [canonical_branch(b) for b in node.attrs["branches"]],
            }
            for node in _blocks(spec)
        },
    }


def _branch_key(branch: dict) -> tuple:
    b = canonical_branch(branch)
    return (b["kind"], b["conv_type"], b["temporal_kernel"], b["conv_type2"], b["temporal_kernel2"])


def diversity(spec_a: ArchSpec, spec_b: ArchSpec) -> float:
    """Distance in [0, 1] between two EvaNet genomes: the mean over genome choices of how much they differ.

    Each stem gene (convop1, time1, pool times) and each block's ``repeats`` counts 0 or 1;
    each block's branches count as one choice scored by the multiset Jaccard distance of
    the two branch lists (branch order does not change the network's function). A block
    only one spec has counts fully different. Symmetric; 0 exactly for equal genomes.
    """
    a, b = genome(spec_a), genome(spec_b)
    scores: list[float] = []
    for gene in sorted(set(a["stem"]) | set(b["stem"])):
        scores.append(0.0 if gene in a["stem"] and gene in b["stem"] and a["stem"][gene] == b["stem"][gene] else 1.0)
    for block_id in sorted(set(a["blocks"]) | set(b["blocks"])):
        if block_id not in a["blocks"] or block_id not in b["blocks"]:
            scores += [1.0, 1.0]
            continue
        x, y = a["blocks"][block_id], b["blocks"][block_id]
        scores.append(0.0 if x["repeats"] == y["repeats"] else 1.0)
        bx = Counter(_branch_key(br) for br in x["branches"])
        by = Counter(_branch_key(br) for br in y["branches"])
        union = sum((bx | by).values())
        scores.append(1.0 - sum((bx & by).values()) / union if union else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


# -- the space ---------------------------------------------------------------------------------
class EvaNetSpace:
    family = "evanet"

    def __init__(
        self,
        config: SpaceConfig,
        *,
        max_ops: int = 3,
        min_ops: int = 1,
        max_repeats: int = MAX_REPEATS,
        max_branches: int = MAX_BRANCHES,
    ):
        """``max_ops``/``min_ops``: operations per child at progress 0 / 1. ``max_repeats`` and
        ``max_branches`` bound the genome (a smaller space is cheaper to validate and train)."""
        if not 1 <= min_ops <= max_ops:
            raise ValueError(f"need 1 <= min_ops <= max_ops, got {min_ops}, {max_ops}")
        if not 1 <= max_repeats <= 32 or not 1 <= max_branches <= 8:
            raise ValueError(f"need 1 <= max_repeats <= 32 and 1 <= max_branches <= 8, got {max_repeats}, {max_branches}")
        self.config = config
        self.max_ops, self.min_ops = max_ops, min_ops
        self.max_repeats, self.max_branches = max_repeats, max_branches
        self.budget = Budget(max_params=config.max_params)
        self._fallback_spec: ArchSpec | None = None
        smallest = self.build(self._uniform_genome("1x1", 1, 1))
        if self.params(smallest, check_min=False) is None:
            raise ValueError(
                f"max_params={config.max_params:,} is below the smallest EvaNet candidate "
                f"({self._count(smallest):,} parameters at {config.frames}x{config.size}px)"
            )

    # -- construction --------------------------------------------------------------------------
    def build(self, genes: dict[str, Any]) -> ArchSpec:
        """The fixed skeleton filled in with ``genes`` (the shape ``genome()`` returns)."""
        cfg = self.config
        stem = genes["stem"]
        stream = InputStream(id="rgb", modality="rgb", channels=3, frames=cfg.frames, frame_stride=1, size=cfg.size)
        nodes = [
            Node("stem", "evanet_stem", {
                "conv_type": stem["convop1"],
                "temporal_kernel": stem["time1"],
                "spatial_kernel": STEM_SPATIAL_KERNEL,
                "temporal_stride": 2 if cfg.frames >= 4 else 1,
                "spatial_stride": 2,
                "filters": STEM_FILTERS,
            }),
            Node("pool1", "pool3d", {
                "kind": "max", "temporal_kernel": stem["max_pool1_time"], "spatial_kernel": 3,
                "temporal_stride": 2 if cfg.frames >= 8 else 1, "spatial_stride": 2,
            }),
        ]
        pool_time = {"pool2": stem["max_pool1_time"], "pool3": stem["max_pool3_time"], "pool4": stem["max_pool4_time"]}
        for index, (block_id, filters) in enumerate(zip(BLOCK_IDS, BLOCK_FILTERS)):
            block = genes["blocks"][block_id]
            nodes.append(Node(block_id, "evanet_block", {
                "filters": filters,
                "repeats": block["repeats"],
                "branches": [canonical_branch(b) for b in block["branches"]],
            }))
            if index + 1 < len(BLOCK_IDS):
                pool_id = f"pool{index + 2}"
                nodes.append(Node(pool_id, "pool3d", {
                    "kind": "max", "temporal_kernel": pool_time[pool_id], "spatial_kernel": 2,
                    "temporal_stride": 1, "spatial_stride": 2,
                }))
        nodes.append(Node("head", "classifier", {
            "num_classes": cfg.num_classes, "dropout": DROPOUT, "temporal_window": TEMPORAL_WINDOW,
        }))
        ids = ["rgb"] + [node.id for node in nodes]
        edges = [Edge(a, b) for a, b in zip(ids, ids[1:])]
        return ArchSpec("evanet", [stream], nodes, edges, name="evanet-candidate")

    def _uniform_genome(self, kind: str, branches: int, repeats: int, t: int = 3) -> dict[str, Any]:
        branch = canonical_branch({"kind": kind, "conv_type": "conv3d", "temporal_kernel": t, "conv_type2": "conv3d", "temporal_kernel2": t})
        return {
            "stem": {"convop1": "conv2p1", "time1": 3, "max_pool1_time": 1, "max_pool3_time": 1, "max_pool4_time": 1},
            "blocks": {block_id: {"repeats": repeats, "branches": [dict(branch) for _ in range(branches)]} for block_id in BLOCK_IDS},
        }

    def _count(self, spec: ArchSpec) -> int:
        try:
            return analyze(spec, num_classes=self.config.num_classes).params
        except SpecError:
            return -1

    def quick_params(self, spec: ArchSpec) -> int | None:
        """The parameter count from the family's own module builders on the meta device,
        without analyze's shape/flop pass (about 5x cheaper). None when it cannot tell
        (not a plain chain of known nodes); ``analyze`` always has the final word."""
        order = [stream.id for stream in spec.inputs] + [node.id for node in spec.nodes]
        if len(spec.inputs) != 1 or [(e.source, e.target) for e in spec.edges] != list(zip(order, order[1:])):
            return None
        channels, total = spec.inputs[0].channels, 0
        try:
            with torch.device("meta"):
                for node in spec.nodes:
                    node_type = NODE_TYPES[node.type]
                    attrs = dict(node.attrs, num_classes=self.config.num_classes) if node.type == "classifier" else node.attrs
                    clean, problems = check_attrs(node_type.attrs, attrs, node.id)
                    if problems:
                        return None
                    shape = (channels, 1, 1, 1)
                    module = node_type.build(clean, [shape] if node_type.fuse == "list" else shape, None)
                    total += sum(p.numel() for p in module.parameters())
                    if node.type == "evanet_stem":
                        channels = clean["filters"]
                    elif node.type == "evanet_block":
                        channels = clean["filters"] // len(clean["branches"]) * len(clean["branches"])
                    elif node.type not in ("pool3d", "classifier"):
                        return None
        except Exception:  # noqa: BLE001 - a pre-check only; analyze reports real problems
            return None
        return total

    def params(self, spec: ArchSpec, *, check_min: bool = True) -> int | None:
        """The spec's parameter count when it is valid and inside the band, else None.

        Candidates whose exact ``quick_params`` count is outside the band skip ``analyze``."""
        quick = self.quick_params(spec)
        if quick is not None and (quick > self.config.max_params or (check_min and quick < self.config.min_params)):
            return None
        try:
            count = analyze(spec, num_classes=self.config.num_classes, budget=self.budget).params
        except SpecError:
            return None
        if check_min and count < self.config.min_params:
            return None
        return count

    def is_valid(self, spec: ArchSpec) -> bool:
        return self.params(spec) is not None

    def fallback(self) -> ArchSpec:
        """A fixed in-band spec: the first of a ladder of uniform genomes, small to large."""
        if self._fallback_spec is None:
            for repeats in range(1, self.max_repeats + 1):
                for kind in ("1x1", "maxpool_conv", "conv", "conv2"):
                    for branches in range(1, self.max_branches + 1):
                        spec = self.build(self._uniform_genome(kind, branches, repeats))
                        if self.is_valid(spec):
                            self._fallback_spec = spec
                            return spec.copy()
            raise ValueError(
                f"no EvaNet candidate fits params [{self.config.min_params:,}, {self.config.max_params:,}]; widen the band"
            )
        return self._fallback_spec.copy()

    # -- sampling ----------------------------------------------------------------------------------
    def random_genome(self, rng: random.Random) -> dict[str, Any]:
        return {
            "stem": {
                "convop1": rng.choice(CONV_TYPES),
                "time1": rng.choice(TEMPORAL_SIZES),
                **{gene: rng.choice(TEMPORAL_SIZES) for gene in POOL_GENES},
            },
            "blocks": {
                block_id: {
                    "repeats": rng.randint(1, self.max_repeats),
                    "branches": [random_branch(rng) for _ in range(rng.randint(1, self.max_branches))],
                }
                for block_id in BLOCK_IDS
            },
        }

    def sample(self, rng: random.Random) -> ArchSpec:
        for _ in range(ATTEMPTS):
            spec = self.build(self.random_genome(rng))
            if self.is_valid(spec):
                return spec
        return self.fallback()

    # -- Optuna --------------------------------------------------------------------------------
    def suggest(self, trial) -> ArchSpec:
        """The same genome, define-by-run. Out-of-band suggestions give ``fallback()`` (meta notes it)."""
        odd = {"low": min(TEMPORAL_SIZES), "high": max(TEMPORAL_SIZES), "step": 2}
        stem = {"convop1": trial.suggest_categorical("stem.convop1", list(CONV_TYPES)), "time1": trial.suggest_int("stem.time1", **odd)}
        for gene in POOL_GENES:
            stem[gene] = trial.suggest_int(f"stem.{gene}", **odd)
        blocks = {}
        for block_id in BLOCK_IDS:
            repeats = trial.suggest_int(f"{block_id}.repeats", 1, self.max_repeats)
            branches = []
            for i in range(trial.suggest_int(f"{block_id}.n_branches", 1, self.max_branches)):
                prefix = f"{block_id}.b{i}"
                branch = {"kind": trial.suggest_categorical(f"{prefix}.kind", list(BRANCH_KINDS))}
                convs, times = _uses(branch)
                for field, name in (("conv_type", "conv_type"), ("conv_type2", "conv_type2")):
                    if field in convs:
                        branch[field] = trial.suggest_categorical(f"{prefix}.{name}", list(CONV_TYPES))
                for field, name in (("temporal_kernel", "time"), ("temporal_kernel2", "time2")):
                    if field in times:
                        branch[field] = trial.suggest_int(f"{prefix}.{name}", **odd)
                branches.append(canonical_branch(branch))
            blocks[block_id] = {"repeats": repeats, "branches": branches}
        spec = self.build({"stem": stem, "blocks": blocks})
        if self.is_valid(spec):
            return spec
        spec = self.fallback()
        spec.meta["suggest_fallback"] = True
        return spec

    # -- mutation --------------------------------------------------------------------------------
    def operation_count(self, progress: float, rng: random.Random) -> int:
        """``max_ops`` at progress 0 down to ``min_ops`` at 1, stochastically rounded in between."""
        progress = float(progress)
        progress = 0.0 if math.isnan(progress) else min(max(progress, 0.0), 1.0)
        expected = self.min_ops + (self.max_ops - self.min_ops) * (1.0 - progress)
        whole = math.floor(expected)
        return whole + (1 if rng.random() < expected - whole else 0)

    def mutate(self, spec: ArchSpec, rng: random.Random, *, progress: float = 0.0, evaluation: dict | None = None) -> Mutation:
        """A valid, different child made by ``operation_count(progress)`` operators in a row.

        An invalid or out-of-band result is redrawn (``ATTEMPTS`` times), then a
        parameter-free pool/max-pool temporal change is used (``details['fallback']``).
        ``evaluation`` is not used by EvaNet. ``spec`` is never modified.
        """
        if spec.family != "evanet":
            raise ValueError(f"EvaNetSpace cannot mutate a {spec.family!r} spec")
        if not _blocks(spec):
            raise ValueError("an EvaNet spec needs at least one evanet_block node")
        parent_hash = spec.content_hash()
        count = self.operation_count(progress, rng)
        for attempt in range(1, ATTEMPTS + 1):
            child = spec.copy()
            records = [record for record in (self._apply(child, rng) for _ in range(count)) if record]
            if not records or child.content_hash() == parent_hash:
                continue
            params = self.params(child)
            if params is not None:
                return self._result(child, records, attempt=attempt, fallback=False, params=params)
        # Fallback: parameter-free changes (pool or max-pool temporal sizes) keep the parent's size.
        for attempt in range(1, ATTEMPTS + 1):
            child = spec.copy()
            record = self._apply(child, rng, operators=["pool_time"]) or self._apply(child, rng, operators=["maxpool_time"])
            if record is None:
                break
            params = self.params(child)
            if params is not None and child.content_hash() != parent_hash:
                return self._result(child, [record], attempt=ATTEMPTS + attempt, fallback=True, params=params)
        raise ValueError(
            "no valid mutation found; is the parent inside the parameter band "
            f"[{self.config.min_params:,}, {self.config.max_params:,}]?"
        )

    def _result(self, child: ArchSpec, records: list[dict], *, attempt: int, fallback: bool, params: int) -> Mutation:
        child.name = "evanet-candidate"
        child.meta.pop("suggest_fallback", None)
        description = "; ".join(r["description"] for r in records)
        details = {"operations": len(records), "changes": records, "attempts": attempt, "fallback": fallback, "params": params}
        return Mutation(child, description, details)

    def _apply(self, spec: ArchSpec, rng: random.Random, operators: list[str] | None = None) -> dict | None:
        """Apply one random operator in place; returns its record (op, block, description)."""
        blocks = _blocks(spec)
        targets: dict[str, list] = {
            "kind": [(n, i) for n in blocks for i in range(len(n.attrs["branches"]))],
            "conv_type": [(n, i, f) for n in blocks for i, b in enumerate(n.attrs["branches"]) for f in _uses(canonical_branch(b))[0]],
            "temporal": [(n, i, f) for n in blocks for i, b in enumerate(n.attrs["branches"]) for f in _uses(canonical_branch(b))[1]],
            "add_branch": [n for n in blocks if len(n.attrs["branches"]) < self.max_branches],
            "remove_branch": [n for n in blocks if len(n.attrs["branches"]) > 1],
            "repeats": [n for n in blocks if self.max_repeats > 1 or int(n.attrs.get("repeats", 1)) != 1],
            "stem": ["convop1", "time1"],
            "pool_time": list(_pool_genes(spec).items()),
        }
        # Parameter-free temporal changes only: the mutation fallback.
        targets["maxpool_time"] = [t for t in targets["temporal"] if t[0].attrs["branches"][t[1]]["kind"] == "maxpool_conv"]
        names = [op for op in (operators or OPERATOR_WEIGHTS) if targets.get(op)]
        if not names:
            return None
        op = rng.choices(names, weights=[OPERATOR_WEIGHTS.get(name, 1.0) for name in names])[0]
        target = rng.choice(targets[op])
        return getattr(self, f"_op_{'temporal' if op == 'maxpool_time' else op}")(spec, target, rng)

    # Each operator edits ``spec`` (a private copy) in place and returns its record.
    @staticmethod
    def _set_branches(node: Node, branches: list[dict]) -> None:
        node.attrs["branches"] = [canonical_branch(b) for b in branches]

    def _op_kind(self, spec, target, rng):
        node, i = target
        branches = [canonical_branch(b) for b in node.attrs["branches"]]
        old = branches[i]
        new = random_branch(rng, kind=rng.choice([k for k in BRANCH_KINDS if k != old["kind"]]), like=old)
        branches[i] = new
        self._set_branches(node, branches)
        return {"op": "kind", "block": node.id, "branch": i,
                "description": f"{node.id} branch {i} kind {old['kind']}->{new['kind']} ({branch_label(new)})"}

    def _op_conv_type(self, spec, target, rng):
        label = "conv type" if target[2] == "conv_type" else "conv type2"
        return self._resample_branch_field(target, rng, CONV_TYPES, "conv_type", label, show_kind=False)

    def _op_temporal(self, spec, target, rng):
        label = "temporal" if target[2] == "temporal_kernel" else "temporal2"
        return self._resample_branch_field(target, rng, TEMPORAL_SIZES, "temporal", label, show_kind=True)

    def _resample_branch_field(self, target, rng, choices, op: str, label: str, *, show_kind: bool):
        node, i, field = target
        branches = [canonical_branch(b) for b in node.attrs["branches"]]
        old = branches[i][field]
        branches[i][field] = new = rng.choice([c for c in choices if c != old])
        self._set_branches(node, branches)
        where = f"branch {i} ({branches[i]['kind']})" if show_kind else f"branch {i}"
        return {"op": op, "block": node.id, "branch": i, "field": field,
                "description": f"{node.id} {where} {label} {old}->{new}"}

    def _op_add_branch(self, spec, node, rng):
        branches = [canonical_branch(b) for b in node.attrs["branches"]]
        new = random_branch(rng)
        position = rng.randint(0, len(branches))
        branches.insert(position, new)
        self._set_branches(node, branches)
        return {"op": "add_branch", "block": node.id, "branch": position,
                "description": f"{node.id} added branch {position} {branch_label(new)}"}

    def _op_remove_branch(self, spec, node, rng):
        branches = [canonical_branch(b) for b in node.attrs["branches"]]
        i = rng.randrange(len(branches))
        old = branches.pop(i)
        self._set_branches(node, branches)
        return {"op": "remove_branch", "block": node.id, "branch": i,
                "description": f"{node.id} removed branch {i} ({branch_label(old)})"}

    def _op_repeats(self, spec, node, rng):
        old = int(node.attrs.get("repeats", 1))
        options = [r for r in (old - 1, old + 1) if 1 <= r <= self.max_repeats] or [self.max_repeats]
        node.attrs["repeats"] = new = rng.choice(options)
        return {"op": "repeats", "block": node.id, "description": f"{node.id} repeats {old}->{new}"}

    def _op_stem(self, spec, gene, rng):
        stem = _stem(spec)
        if gene == "convop1":
            old = stem.attrs.get("conv_type", "conv2p1")
            stem.attrs["conv_type"] = new = rng.choice([c for c in CONV_TYPES if c != old])
        else:
            old = int(stem.attrs.get("temporal_kernel", 3))
            stem.attrs["temporal_kernel"] = new = rng.choice([t for t in TEMPORAL_SIZES if t != old])
        return {"op": "stem", "block": "stem", "field": gene, "description": f"stem {gene} {old}->{new}"}

    def _op_pool_time(self, spec, target, rng):
        gene, nodes = target
        old = int(nodes[0].attrs.get("temporal_kernel", 1))
        new = rng.choice([t for t in TEMPORAL_SIZES if t != old])
        for node in nodes:
            node.attrs["temporal_kernel"] = new
        where = "+".join(node.id for node in nodes)
        return {"op": "pool_time", "block": nodes[0].id, "field": gene,
                "description": f"{where} temporal {old}->{new} ({gene})"}


__all__ = ["EvaNetSpace", "diversity", "genome", "canonical_branch", "branch_label"]
