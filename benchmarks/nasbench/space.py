"""The benchmark's search space: a finite grid inside the Tiny Video Networks family.

Same node types and attributes as ``archsearch.spaces.tvn`` (a chain of ``tvn_block``s and a
classifier on one RGB stream), each attribute restricted to a few values so that every
architecture can be trained once. It implements the ``SearchSpace`` interface with the real
space's mutation operators (resample one block field, change the input, add or remove a
block, with the real space's weights), restricted to the grid: a mutation never leaves it.

Every architecture has a stable key, e.g. ``f8s20r5|std.1d.c16.cg0|depth.mp.c32.cg1`` (8 frames at
20 px through 5 iterations of representation flow, then two blocks),
which is how the table stores it; ``spec_of`` rebuilds the ArchSpec from a key.
"""
from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass
from typing import Any, Iterator

from videomodels import ArchSpec, Edge, InputStream, Node

from archsearch.spaces.base import Mutation
from archsearch.spaces.tvn import describe_value

# The clip every architecture reads spans these many source frames (frames x stride).
SPAN = 8
FRAMES = (4, 8)
SIZES = (16, 20)  # 24 px made the build 7.5 CPU hours (measured: 465 rows at 10.4 CPU s each)
# Iterations of representation flow before the first block (0: none). On the motion benchmark
# this is what lets a network learn within the table's step budget (probed before the build:
# 0.48 top-1 at 108 steps with 5 iterations, chance level without), so the grid keeps both.
FLOW = (0, 5)
BLOCK_COUNTS = (1, 2)
# Per block, the attributes that vary and their grid values (a subset of the real space's).
# Sized so that the whole grid, extra seeds included, trains in about 6 CPU hours on this
# project's 2-core machines; squeeze-excitation, skip and the temporal kernel are fixed.
BLOCK_GRID: dict[str, tuple] = {
    "spatial_type": ("std", "depth"),
    "temporal_type": ("1d", "maxpool"),
    "filters": (16, 32),
    "context_gate": (False, True),
}
# Per block, the attributes every grid architecture shares.
BLOCK_FIXED: dict[str, Any] = {"spatial_kernel": 3, "spatial_stride": 2, "temporal_kernel": 3, "temporal_stride": 1,
                               "expand": 1, "squeeze": 0.0, "skip": False, "repeats": 1}
# The real space's operator weights (archsearch.spaces.tvn): field 6, input 2, add 1, remove 1.
OPERATOR_WEIGHTS = {"field": 6, "input": 2, "add": 1, "remove": 1}

_CODES = {
    "spatial_type": {"std": "std", "depth": "depth"},
    "temporal_type": {"1d": "1d", "maxpool": "mp"},
}


@dataclass(frozen=True)
class GridArch:
    frames: int
    size: int
    flow: int
    blocks: tuple[tuple, ...]  # one tuple of BLOCK_GRID values (in BLOCK_GRID order) per block

    @property
    def stride(self) -> int:
        return SPAN // self.frames

    def key(self) -> str:
        return "|".join([f"f{self.frames}s{self.size}r{self.flow}"] + [_block_key(values) for values in self.blocks])

    def block_attrs(self, values: tuple) -> dict[str, Any]:
        return {**dict(zip(BLOCK_GRID, values)), **BLOCK_FIXED}


def _block_key(values: tuple) -> str:
    attrs = dict(zip(BLOCK_GRID, values))
    return (f"{_CODES['spatial_type'][attrs['spatial_type']]}.{_CODES['temporal_type'][attrs['temporal_type']]}"
            f".c{attrs['filters']}.cg{int(attrs['context_gate'])}")


def all_block_values() -> list[tuple]:
    return list(itertools.product(*BLOCK_GRID.values()))


def enumerate_grid() -> Iterator[GridArch]:
    """Every architecture of the grid, in a fixed order (inputs, then block count, then blocks)."""
    blocks = all_block_values()
    for frames, size, flow in itertools.product(FRAMES, SIZES, FLOW):
        for count in BLOCK_COUNTS:
            for chain in itertools.product(blocks, repeat=count):
                yield GridArch(frames, size, flow, tuple(chain))


GRID_SIZE = sum(1 for _ in enumerate_grid())

_BLOCK_BY_KEY = {_block_key(values): values for values in all_block_values()}


def parse_key(key: str) -> GridArch:
    """The grid architecture of ``key``; ValueError naming the part that is not in the grid."""
    if not isinstance(key, str) or "|" not in key:
        raise ValueError(f"{key!r}: not a grid key (expected 'f<frames>s<size>r<flow>|<block>[|<block>]')")
    head, *parts = key.split("|")
    match = re.fullmatch(r"f(\d{1,3})s(\d{1,3})r(\d{1,3})", head)
    if match is None:
        raise ValueError(f"{key!r}: not a grid key: input part {head!r} is not 'f<frames>s<size>r<flow iterations>'")
    frames, size, flow = (int(group) for group in match.groups())
    if frames not in FRAMES or size not in SIZES or flow not in FLOW:
        raise ValueError(f"{key!r}: input {head!r} is not in the grid (frames {FRAMES}, sizes {SIZES}, flow {FLOW})")
    if len(parts) not in BLOCK_COUNTS:
        raise ValueError(f"{key!r}: {len(parts)} blocks; the grid has {BLOCK_COUNTS}")
    unknown = [part for part in parts if part not in _BLOCK_BY_KEY]
    if unknown:
        raise ValueError(f"{key!r}: block {unknown[0]!r} is not in the grid")
    return GridArch(frames, size, flow, tuple(_BLOCK_BY_KEY[part] for part in parts))


def grid_arch_of(spec: ArchSpec) -> GridArch | None:
    """The grid architecture ``spec`` is, or None when it is outside the grid."""
    if spec.family != "tvn" or len(spec.inputs) != 1:
        return None
    stream = spec.inputs[0]
    if stream.frames not in FRAMES or stream.size not in SIZES or stream.frame_stride != SPAN // stream.frames:
        return None
    blocks = [node for node in spec.nodes if node.type == "tvn_block"]
    flows = [node for node in spec.nodes if node.type == "representation_flow"]
    others = [node.type for node in spec.nodes if node.type not in ("tvn_block", "representation_flow")]
    if others != ["classifier"] or len(blocks) not in BLOCK_COUNTS or len(flows) > 1:
        return None
    flow = int(flows[0].attrs.get("iterations", 0)) if flows else 0
    if flow not in FLOW:
        return None
    chain = []
    for node in blocks:
        attrs = node.attrs
        if any(attrs.get(name) != value for name, value in BLOCK_FIXED.items()):
            return None
        values = tuple(attrs.get(name) for name in BLOCK_GRID)
        if any(value not in options or type(value) is not type(options[0])
               for value, options in zip(values, BLOCK_GRID.values())):
            return None
        chain.append(values)
    arch = GridArch(stream.frames, stream.size, flow, tuple(chain))
    return arch if spec_of(arch, num_classes=_classes(spec)).content_hash() == spec.content_hash() else None


def _classes(spec: ArchSpec) -> int:
    head = next(node for node in spec.nodes if node.type == "classifier")
    return int(head.attrs.get("num_classes", 10))


def spec_of(arch: GridArch | str, *, num_classes: int = 10) -> ArchSpec:
    """The ArchSpec of a grid architecture (or key): what the table's row trained."""
    arch = parse_key(arch) if isinstance(arch, str) else arch
    stream = InputStream("rgb", "rgb", 3, arch.frames, arch.stride, arch.size)
    nodes = [Node("flow", "representation_flow", {"iterations": arch.flow})] if arch.flow else []
    nodes += [Node(f"b{i}", "tvn_block", arch.block_attrs(values)) for i, values in enumerate(arch.blocks)]
    nodes.append(Node("head", "classifier", {"num_classes": num_classes, "dropout": 0.2}))
    ids = ["rgb"] + [node.id for node in nodes]
    return ArchSpec("tvn", [stream], nodes, [Edge(a, b) for a, b in zip(ids, ids[1:])], name=arch.key())


class GridSpace:
    """``SearchSpace`` over the grid; every sample and mutation is a grid architecture."""

    family = "tvn"

    def __init__(self, num_classes: int = 10, *, operator_weights: dict[str, float] | None = None):
        self.num_classes = num_classes
        self.archs = list(enumerate_grid())
        # Ablations change these (e.g. field mutations only); the default is the real space's.
        self.operator_weights = dict(OPERATOR_WEIGHTS if operator_weights is None else operator_weights)
        unknown = set(self.operator_weights) - set(OPERATOR_WEIGHTS)
        if unknown or not any(weight > 0 for weight in self.operator_weights.values()):
            raise ValueError(f"operator weights must give some of {sorted(OPERATOR_WEIGHTS)} a positive weight, got {operator_weights}")

    def __len__(self) -> int:
        return len(self.archs)

    def spec(self, arch: GridArch) -> ArchSpec:
        return spec_of(arch, num_classes=self.num_classes)

    def sample(self, rng: random.Random) -> ArchSpec:
        """Uniform over the grid's architectures (NAS-Bench's random search)."""
        return self.spec(rng.choice(self.archs))

    def mutate(self, spec: ArchSpec, rng: random.Random, *, progress: float = 0.0, evaluation: dict | None = None) -> Mutation:
        arch = grid_arch_of(spec)
        if arch is None:
            raise ValueError(f"{spec.name}: not an architecture of the benchmark grid")
        child, description, operator = self.mutate_arch(arch, rng)
        return Mutation(self.spec(child), description, {"operations": 1, "operator": operator})

    def mutate_arch(self, arch: GridArch, rng: random.Random) -> tuple[GridArch, str, str]:
        """One mutation of ``arch``: (child, description, operator)."""
        operators = [name for name, weight in self.operator_weights.items() if weight > 0]
        weights = [self.operator_weights[name] for name in operators]
        for _ in range(1000):  # an operator that cannot apply (add at the block cap) is drawn again
            operator = rng.choices(operators, weights=weights)[0]
            changed = getattr(self, f"_{operator}")(arch, rng)
            if changed is not None:
                return changed[0], changed[1], operator
        raise ValueError(f"{arch.key()}: none of the operators {operators} can change it")

    def outcomes(self, arch: GridArch) -> list[tuple[GridArch, str, str, float]]:
        """Every (child, description, operator, probability) ``mutate_arch`` can return, with the
        probability it does: the same choices the operators below draw, enumerated (a child two
        choices reach appears twice). Lets a partial table draw among its present children exactly
        as redrawing until one is present would, without the redraws."""
        choices = {"field": self._field_choices(arch), "input": self._input_choices(arch), "add": self._add_choices(arch),
                   "remove": self._remove_choices(arch)}
        applicable = {op: w for op, w in self.operator_weights.items() if w > 0 and choices[op]}
        total = sum(applicable.values())
        return [(child, description, op, weight / total * share)
                for op, weight in applicable.items() for child, description, share in choices[op]]

    def neighbours(self, arch: GridArch) -> list[GridArch]:
        """Every architecture one mutation away (any operator, any choice it can make): the
        neighbourhood local search walks (White et al., 2021), in a fixed order."""
        every = GridSpace.__new__(GridSpace)
        every.operator_weights = {name: 1 for name in OPERATOR_WEIGHTS}
        found: dict[str, GridArch] = {}
        for child, *_ in every.outcomes(arch):
            found.setdefault(child.key(), child)
        return list(found.values())

    # Each operator's choices with their probabilities (given the operator), for ``outcomes``;
    # they mirror the draws of the operator functions further down.
    def _field_choices(self, arch: GridArch):
        out = []
        for index, values in enumerate(arch.blocks):
            for position, (name, options) in enumerate(BLOCK_GRID.items()):
                others = [v for v in options if v != values[position]]
                for value in others:
                    block = values[:position] + (value,) + values[position + 1:]
                    child = GridArch(arch.frames, arch.size, arch.flow, arch.blocks[:index] + (block,) + arch.blocks[index + 1:])
                    share = 1 / len(arch.blocks) / len(BLOCK_GRID) / len(others)
                    out.append((child, _field_text(index, name, values[position], value), share))
        return out

    def _input_choices(self, arch: GridArch):
        out = []
        for which, options, current in (("frames", FRAMES, arch.frames), ("size", SIZES, arch.size), ("flow", FLOW, arch.flow)):
            others = [v for v in options if v != current]
            for new in others:
                changed = {"frames": arch.frames, "size": arch.size, "flow": arch.flow, which: new}
                child = GridArch(changed["frames"], changed["size"], changed["flow"], arch.blocks)
                out.append((child, _input_text(arch, which, new), 1 / 3 / len(others)))
        return out

    def _add_choices(self, arch: GridArch):
        if len(arch.blocks) + 1 not in BLOCK_COUNTS:
            return []
        blocks = all_block_values()
        return [(GridArch(arch.frames, arch.size, arch.flow, arch.blocks[:position] + (block,) + arch.blocks[position:]),
                 _add_text(position, block), 1 / (len(arch.blocks) + 1) / len(blocks))
                for position in range(len(arch.blocks) + 1) for block in blocks]

    def _remove_choices(self, arch: GridArch):
        if len(arch.blocks) - 1 not in BLOCK_COUNTS:
            return []
        return [(GridArch(arch.frames, arch.size, arch.flow, arch.blocks[:index] + arch.blocks[index + 1:]), f"removed block b{index}",
                 1 / len(arch.blocks)) for index in range(len(arch.blocks))]

    # -- operators: each returns (child, description), or None when it cannot apply -------------
    def _field(self, arch: GridArch, rng: random.Random):
        index = rng.randrange(len(arch.blocks))
        name = rng.choice(list(BLOCK_GRID))  # as the real space: one block, one field
        position = list(BLOCK_GRID).index(name)
        values = list(arch.blocks[index])
        old = values[position]
        values[position] = rng.choice([v for v in BLOCK_GRID[name] if v != old])
        blocks = arch.blocks[:index] + (tuple(values),) + arch.blocks[index + 1:]
        return GridArch(arch.frames, arch.size, arch.flow, blocks), _field_text(index, name, old, values[position])

    def _input(self, arch: GridArch, rng: random.Random):
        which = rng.choice(["frames", "size", "flow"])
        if which == "frames":
            new = rng.choice([f for f in FRAMES if f != arch.frames])
            return GridArch(new, arch.size, arch.flow, arch.blocks), _input_text(arch, which, new)
        if which == "flow":
            new = rng.choice([i for i in FLOW if i != arch.flow])
            return GridArch(arch.frames, arch.size, new, arch.blocks), _input_text(arch, which, new)
        new = rng.choice([s for s in SIZES if s != arch.size])
        return GridArch(arch.frames, new, arch.flow, arch.blocks), _input_text(arch, which, new)

    def _add(self, arch: GridArch, rng: random.Random):
        if len(arch.blocks) + 1 not in BLOCK_COUNTS:
            return None
        position = rng.randint(0, len(arch.blocks))
        block = rng.choice(all_block_values())
        blocks = arch.blocks[:position] + (block,) + arch.blocks[position:]
        return GridArch(arch.frames, arch.size, arch.flow, blocks), _add_text(position, block)

    def _remove(self, arch: GridArch, rng: random.Random):
        if len(arch.blocks) - 1 not in BLOCK_COUNTS:
            return None
        index = rng.randrange(len(arch.blocks))
        return GridArch(arch.frames, arch.size, arch.flow, arch.blocks[:index] + arch.blocks[index + 1:]), f"removed block b{index}"

    # -- Optuna ----------------------------------------------------------------------------------
    def suggest(self, trial) -> ArchSpec:
        frames = trial.suggest_categorical("frames", list(FRAMES))
        size = trial.suggest_categorical("size", list(SIZES))
        flow = trial.suggest_categorical("flow_iterations", list(FLOW))
        count = trial.suggest_categorical("blocks", list(BLOCK_COUNTS))
        blocks = tuple(tuple(trial.suggest_categorical(f"b{i}.{name}", list(options)) for name, options in BLOCK_GRID.items())
                       for i in range(count))
        return self.spec(GridArch(frames, size, flow, blocks))


def _field_text(index: int, name: str, old: Any, new: Any) -> str:
    return f"b{index} {name.replace('_', ' ')} {describe_value(old)}->{describe_value(new)}"


def _input_text(arch: GridArch, which: str, new: int) -> str:
    if which == "frames":
        return f"input frames {arch.frames}->{new} (stride {arch.stride}->{SPAN // new})"
    if which == "flow":
        return f"representation flow iterations {arch.flow}->{new}"
    return f"input size {arch.size}->{new}"


def _add_text(position: int, block: tuple) -> str:
    return f"added block at {position} ({_block_key(block)})"

