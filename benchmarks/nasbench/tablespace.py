"""The grid restricted to the architectures a table holds, fast enough to replay thousands of runs.

On the finished table this is the grid itself. On a partial one, samples are uniform over the
architectures present, and a mutation whose child is missing is drawn again from the same
parent (same operator weights; done in one draw over the present children, each with the
probability the operators give it); a parent whose whole neighbourhood is missing walks on
through missing children until one of them has a present child, a few mutations away. Optuna's suggestions are the grid's; strategies map a missing one to
the nearest present architecture themselves (see ``nearest``).

Specs are built once per key and memoise their dict and hash (read-only by contract): the
engine asks for both on every proposal, and building them dominated a replay.
"""
from __future__ import annotations

import random
from typing import Any

from videomodels import ArchSpec

from archsearch.spaces.base import Mutation

from benchmarks.nasbench.space import BLOCK_GRID, OPERATOR_WEIGHTS, GridArch, GridSpace, grid_arch_of, parse_key, spec_of
from benchmarks.nasbench.table import Table

WALK = 50  # steps of a walk through missing architectures before every operator is allowed


class KeyedSpec(ArchSpec):
    """A grid spec that knows its key and memoises ``to_dict`` and ``content_hash``."""

    key: str = ""

    def to_dict(self) -> dict[str, Any]:
        cached = self.__dict__.get("_dict")
        if cached is None:
            cached = self.__dict__["_dict"] = super().to_dict()
        return cached

    def content_hash(self) -> str:
        cached = self.__dict__.get("_hash")
        if cached is None:
            # On a plain copy: ArchSpec.content_hash edits the dict to_dict returns, which here is the memo.
            plain = ArchSpec(self.family, self.inputs, self.nodes, self.edges, self.name, self.meta)
            cached = self.__dict__["_hash"] = plain.content_hash()
        return cached


class TableSpace(GridSpace):
    """``SearchSpace`` over the table's architectures (see the module's docstring)."""

    def __init__(self, table: Table, *, num_classes: int = 10, operator_weights: dict[str, float] | None = None):
        super().__init__(num_classes, operator_weights=operator_weights)
        self.table = table
        self.present = [arch for arch in self.archs if arch.key() in table]  # grid order: the full table samples as the grid does
        self._specs: dict[str, KeyedSpec] = {}
        self._neighbours: dict[str, list[str]] = {}
        self._outcomes: dict[str, list] = {}

    def spec(self, arch: GridArch | str) -> KeyedSpec:
        key = arch if isinstance(arch, str) else arch.key()
        spec = self._specs.get(key)
        if spec is None:
            plain = spec_of(arch, num_classes=self.num_classes)
            spec = KeyedSpec(plain.family, plain.inputs, plain.nodes, plain.edges, plain.name, plain.meta)
            spec.key = key
            self._specs[key] = spec
        return spec

    def key_of(self, spec: ArchSpec | dict) -> str | None:
        """The grid key of a spec (None outside the grid); a spec named by a key is checked against it."""
        name = spec.get("name", "") if isinstance(spec, dict) else spec.name
        if name in self.table or _is_key(name):
            mine = self.spec(name)
            if isinstance(spec, ArchSpec):  # dataclass equality: no dict built
                same = (spec.inputs, spec.nodes, spec.edges) == (mine.inputs, mine.nodes, mine.edges)
            else:
                ours = mine.to_dict()
                same = all(spec.get(part) == ours[part] for part in ("inputs", "nodes", "edges"))
            if same:
                return name
        arch = grid_arch_of(spec if isinstance(spec, ArchSpec) else ArchSpec.from_dict(spec))
        return arch.key() if arch is not None else None

    def known_costs(self, spec: ArchSpec) -> tuple[int, int] | None:
        """Params and MACs from the table (the engine then skips building the model to count them)."""
        key = self.key_of(spec)
        if key is None or key not in self.table:
            return None
        entry = self.table[key]
        return entry.params, entry.macs

    def sample(self, rng: random.Random) -> KeyedSpec:
        return self.spec(rng.choice(self.present))

    def mutate(self, spec: ArchSpec, rng: random.Random, *, progress: float = 0.0, evaluation: dict | None = None) -> Mutation:
        key = self.key_of(spec)
        if key is None:
            raise ValueError(f"{spec.name}: not an architecture of the benchmark grid")
        parent = parse_key(key)
        steps: list[str] = []
        current, mover = parent, self
        for step in range(10_000):
            present = [o for o in mover._present_outcomes(current.key()) if o[0] != parent]
            if present:  # the distribution redrawing until a present child would give, in one draw
                child, description, operator, _ = rng.choices(present, weights=[o[3] for o in present])[0]
                steps.append(description)
                return Mutation(self.spec(child), "; ".join(steps),
                                {"operations": len(steps), "operator": operator if len(steps) == 1 else "walk"})
            # No present child here: walk on through a missing one. Operators an ablation leaves out
            # may be needed to reach any other present architecture; after WALK steps every one is used.
            if step == WALK:
                mover = space_with_every_operator(self)
            current, description, _ = mover.mutate_arch(current, rng)
            steps.append(description)
        raise ValueError(f"{key}: no other architecture of the table is reachable")

    def _present_outcomes(self, key: str) -> list:
        found = self._outcomes.get(key)
        if found is None:
            found = self._outcomes[key] = [o for o in self.outcomes(parse_key(key)) if o[0].key() in self.table]
        return found

    def neighbours(self, arch: GridArch | str) -> list[str]:
        """Keys of the present architectures one mutation away, in the grid's order."""
        key = arch if isinstance(arch, str) else arch.key()
        found = self._neighbours.get(key)
        if found is None:
            found = self._neighbours[key] = [child.key() for child in super().neighbours(parse_key(key)) if child.key() in self.table]
        return found

    def nearest(self, arch: GridArch, rng: random.Random) -> str:
        """The present architecture closest to ``arch`` (fewest differing Optuna parameters; ties at random)."""
        key = arch.key()
        if key in self.table:
            return key
        target = params_of(arch)
        scored = [(_distance(target, params_of(other)), index) for index, other in enumerate(self.present)]
        best = min(score for score, _ in scored)
        return rng.choice([self.present[i] for score, i in scored if score == best]).key()


def space_with_every_operator(space: TableSpace) -> TableSpace:
    """The same table's space with the real space's operator weights (shares the table)."""
    every = space.__dict__.get("_every")
    if every is None:
        every = space.__dict__["_every"] = space if space.operator_weights == dict(OPERATOR_WEIGHTS) else TableSpace(space.table)
    return every


def params_of(arch: GridArch) -> dict[str, Any]:
    """The Optuna parameters ``GridSpace.suggest`` would draw to build ``arch``."""
    params = {"frames": arch.frames, "size": arch.size, "flow_iterations": arch.flow, "blocks": len(arch.blocks)}
    for index, values in enumerate(arch.blocks):
        params.update({f"b{index}.{name}": value for name, value in zip(BLOCK_GRID, values)})
    return params


def _distance(a: dict[str, Any], b: dict[str, Any]) -> int:
    return sum(a.get(name) != b.get(name) for name in a.keys() | b.keys())


def _is_key(name: str) -> bool:
    try:
        parse_key(name)
    except ValueError:
        return False
    return True

