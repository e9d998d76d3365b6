"""The benchmark grid: keys, membership, and mutations that never leave it."""
from __future__ import annotations

import random

import optuna
import pytest

from videomodels import ArchSpec, analyze

from archsearch.spaces.tvn import TVNSpace
from archsearch.spaces.base import SpaceConfig

from benchmarks.nasbench.build import EXTRA_SEED_SHARE, EXTRA_SEEDS, jobs
from benchmarks.nasbench.space import BLOCK_GRID, GridSpace, enumerate_grid, grid_arch_of, parse_key, spec_of


@pytest.fixture(scope="module")
def space() -> GridSpace:
    return GridSpace(num_classes=10)


def test_grid_is_large_finite_and_every_key_round_trips(space: GridSpace) -> None:
    keys = [arch.key() for arch in space.archs]
    assert len(keys) >= 2000 and len(set(keys)) == len(keys)
    for arch in space.archs[::97]:
        assert parse_key(arch.key()) == arch
        assert grid_arch_of(spec_of(arch)) == arch


def test_grid_specs_are_valid_tvn_networks(space: GridSpace) -> None:
    for arch in space.archs[::211]:
        spec = space.spec(arch)
        assert spec.family == "tvn"
        assert analyze(spec, num_classes=10).params > 0
        assert ArchSpec.from_dict(spec.to_dict()).content_hash() == spec.content_hash()


def test_mutation_never_leaves_the_grid_and_reaches_every_operator(space: GridSpace) -> None:
    rng = random.Random(0)
    spec = space.sample(rng)
    operators = set()
    for _ in range(3000):
        mutation = space.mutate(spec, rng)
        child = grid_arch_of(mutation.spec)
        assert child is not None, mutation.description
        assert mutation.spec.content_hash() != spec.content_hash(), mutation.description
        operators.add(mutation.details["operator"])
        spec = mutation.spec
    assert operators == {"field", "input", "add", "remove"}


def test_samples_cover_the_grid_uniformly(space: GridSpace) -> None:
    rng = random.Random(1)
    seen = {grid_arch_of(space.sample(rng)).key() for _ in range(4000)}
    assert len(seen) > 0.8 * len(space)  # 4000 uniform draws over ~2,200 keys


def test_optuna_suggestions_are_grid_architectures(space: GridSpace) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(30):
        trial = study.ask()
        assert grid_arch_of(space.suggest(trial)) is not None
        study.tell(trial, 0.0)


def test_specs_outside_the_grid_are_recognised_and_refused(space: GridSpace) -> None:
    real = TVNSpace(SpaceConfig(num_classes=10, frames=8, size=32))
    rng = random.Random(2)
    outside = [real.sample(rng) for _ in range(20)]
    assert sum(grid_arch_of(spec) is None for spec in outside) >= 18
    spec = space.sample(rng).to_dict()
    spec["nodes"][-2]["attrs"]["filters"] = 24  # a value the grid does not have
    assert grid_arch_of(ArchSpec.from_dict(spec)) is None
    with pytest.raises(ValueError, match="not an architecture of the benchmark grid"):
        space.mutate(ArchSpec.from_dict(spec), rng)


@pytest.mark.parametrize("key", ["", "f8s20r5", "f8s99r5|std.1d.c16.cg0", "f8s20r5|std.1d.c99.cg0", "x|y|z|w", "f8s20r5|" * 3])
def test_bad_keys_are_explained(key: str) -> None:
    with pytest.raises(ValueError, match="grid"):
        parse_key(key)


def test_build_plan_covers_every_architecture_once_plus_extra_seeds() -> None:
    plan = jobs()
    keys = [arch.key() for arch in enumerate_grid()]
    assert sorted(key for key, seed in plan if seed == 0) == sorted(keys)
    extra = {key for key, seed in plan if seed != 0}
    assert len(extra) >= EXTRA_SEED_SHARE * len(keys) - 1
    assert all((key, seed) in set(plan) for key in extra for seed in EXTRA_SEEDS)
    assert len(plan) == len(set(plan)) and plan == jobs()  # deterministic order
    assert len(BLOCK_GRID) >= 4


@pytest.mark.parametrize("key", ["f8s20r5|std.1d.c16.cg0", "f4s16r0|depth.mp.c32.cg1|std.1d.c16.cg0"])
def test_outcomes_are_the_mutation_distribution_enumerated(space: GridSpace, key: str) -> None:
    """``outcomes`` (used by partial tables to draw among present children) gives each child the
    probability ``mutate_arch`` does, with its description and operator."""
    from collections import Counter

    arch = parse_key(key)
    exact: Counter = Counter()
    described = {}
    for child, description, operator, probability in space.outcomes(arch):
        exact[child.key()] += probability
        described.setdefault(child.key(), set()).add((description, operator))
    assert sum(exact.values()) == pytest.approx(1.0)
    assert set(exact) == {child.key() for child in space.neighbours(arch)}
    rng = random.Random(4)
    draws = 40_000
    seen: Counter = Counter()
    for _ in range(draws):
        child, description, operator = space.mutate_arch(arch, rng)
        seen[child.key()] += 1
        assert (description, operator) in described[child.key()]
    for child_key, probability in exact.items():  # within 5 standard errors, for every child
        assert abs(seen[child_key] / draws - probability) < 5 * (probability * (1 - probability) / draws) ** 0.5 + 1e-4, child_key
