"""Engine behaviour with a cheap stand-in evaluator (training is covered elsewhere)."""
import random

import pytest

from videomodels import ArchSpec

from archsearch.config import ConfigError, SearchConfig
from archsearch.engine import Evolution
from archsearch.selection import dominates, pareto_front, pareto_ranks, tournament
from archsearch.spaces import SpaceConfig, make_space
from archsearch.spaces.base import Mutation

SPACE = SpaceConfig(num_classes=4, frames=8, size=32, max_params=500_000)


def fake_result(proposal: dict) -> dict:
    """Accuracy grows with total filters: a deterministic, monotone stand-in for training."""
    filters = sum(n["attrs"].get("filters", 0) for n in proposal["spec"]["nodes"])
    return {"status": "evaluated", "accuracy": filters / 1000.0, "low_accuracy": filters / 1000.0,
            "latency_ms": float(proposal["params"]) / 1e4, "fidelity": "low"}


def run_engine(config: SearchConfig, history=()):
    engine = Evolution(config, make_space("tvn", SPACE), history)
    events = []
    while not engine.done:
        proposal = engine.propose()
        events += engine.record(proposal, fake_result(proposal))
    return engine, events


def test_population_then_mutated_children_with_parents():
    engine, _ = run_engine(SearchConfig(family="tvn", population=4, rounds=2, seed=1, initial_population=4))
    assert len(engine.trained) == 12
    first, rest = engine.candidates[:4], engine.candidates[4:]
    assert all(c["parent_id"] is None and c["mutation"] is None for c in first)
    assert all(c["parent_id"] in engine.by_id and c["mutation"] for c in rest)
    assert [c["generation"] for c in engine.candidates] == [0] * 4 + [1] * 4 + [2] * 4


@pytest.mark.parametrize("population, first", [(2, 2), (3, 2), (4, 2), (8, 4), (9, 4)])
def test_by_default_half_the_population_is_random_and_children_fill_the_rest(population, first):
    config = SearchConfig(family="tvn", population=population, rounds=1, seed=1)
    engine, _ = run_engine(config)
    assert config.first_generation == first
    assert [c["mutation"] is None for c in engine.candidates] == [True] * first + [False] * (2 * population - first)
    assert len(engine.trained) == 2 * population


def test_plain_aging_removes_the_oldest_even_if_best():
    engine, _ = run_engine(SearchConfig(family="tvn", population=3, rounds=2, seed=2, elitism=0))
    assert list(engine.population) == [c["id"] for c in engine.candidates[-3:]]


def first_is_best(proposal: dict) -> dict:
    """The very first sample is by far the best; every later model is mediocre."""
    accuracy = 0.9 if proposal["index"] == 0 else 0.2 + (proposal["index"] % 7) / 100
    return {"status": "evaluated", "accuracy": accuracy, "low_accuracy": accuracy, "latency_ms": 1.0, "fidelity": "low"}


class OneSpecSpace:
    """Every sample and child is the same spec: selection alone decides who becomes a parent."""

    family = "tvn"

    def __init__(self):
        self.spec = make_space("tvn", SPACE).sample(random.Random(0))

    def sample(self, rng):
        return self.spec

    def mutate(self, spec, rng, *, progress=0.0, evaluation=None):
        return Mutation(spec, "unchanged")


def parent_counts(config: SearchConfig) -> int:
    engine = Evolution(config, OneSpecSpace())
    while not engine.done:
        proposal = engine.propose()
        engine.record(proposal, first_is_best(proposal))
    return sum(c["parent_id"] == "c0000" for c in engine.candidates)


class FewSpecSpace:
    """Six architectures in all; samples and children are drawn from them at random (repeats are likely)."""

    family = "tvn"

    def __init__(self):
        tvn = make_space("tvn", SPACE)
        specs, seed = {}, 0
        while len(specs) < 6:
            spec = tvn.sample(random.Random(seed))
            specs.setdefault(spec.content_hash(), spec)
            seed += 1
        self.specs = list(specs.values())

    def sample(self, rng):
        return rng.choice(self.specs)

    def mutate(self, spec, rng, *, progress=0.0, evaluation=None):
        return Mutation(rng.choice(self.specs), "redrawn")


@pytest.mark.parametrize("seed", range(3))
def test_no_architecture_is_trained_twice_while_an_untried_one_is_in_reach(seed):
    engine = Evolution(SearchConfig(family="tvn", population=2, rounds=3, seed=seed), FewSpecSpace())
    while not engine.done:
        proposal = engine.propose()
        engine.record(proposal, fake_result(proposal))
    hashes = [c["spec_hash"] for c in engine.candidates]
    assert len(hashes) == 8
    assert len(set(hashes[:6])) == 6  # all six before any repeat


def test_the_first_generations_best_becomes_a_parent_in_small_populations():
    # Population 6, tournament 3: under plain aging the oldest (and best) member leaves after
    # the first child, having been seen by one tournament with probability 1/2.
    settings = dict(family="tvn", population=6, rounds=3, tournament_size=3, initial_population=6)
    with_elitism = [parent_counts(SearchConfig(**settings, seed=seed)) for seed in range(8)]
    plain = [parent_counts(SearchConfig(**settings, seed=seed, elitism=0)) for seed in range(8)]
    assert all(count >= 1 for count in with_elitism)
    assert sum(with_elitism) > 3 * sum(plain)
    assert max(plain) <= 1  # gone after one tournament


def test_elite_members_survive_aging_and_the_rest_ages_out():
    engine, _ = run_engine(SearchConfig(family="tvn", population=3, rounds=3, seed=2, elitism=1))
    best = max(engine.trained, key=lambda c: (c["accuracy"], -c["index"]))
    assert best["id"] in engine.population and len(engine.population) == 3
    others = [cid for cid in engine.population if cid != best["id"]]
    newest = [c["id"] for c in engine.candidates if c["id"] != best["id"]][-2:]
    assert others == newest


def test_evolution_improves_on_a_monotone_fitness():
    engine, _ = run_engine(SearchConfig(family="tvn", population=6, rounds=6, seed=3))
    initial = max(c["accuracy"] for c in engine.candidates[:6])
    assert engine.best["accuracy"] > initial


def test_same_seed_same_run_different_seed_different_run():
    a, _ = run_engine(SearchConfig(family="tvn", population=4, rounds=1, seed=5))
    b, _ = run_engine(SearchConfig(family="tvn", population=4, rounds=1, seed=5))
    c, _ = run_engine(SearchConfig(family="tvn", population=4, rounds=1, seed=6))
    hashes = lambda e: [x["spec_hash"] for x in e.candidates]  # noqa: E731
    assert hashes(a) == hashes(b) and hashes(a) != hashes(c)


def test_replaying_history_rebuilds_the_same_state():
    config = SearchConfig(family="tvn", population=4, rounds=2, seed=7)
    full, _ = run_engine(config)
    partial = Evolution(config, make_space("tvn", SPACE), full.candidates[:6])
    stepwise = Evolution(config, make_space("tvn", SPACE))
    for record in full.candidates[:6]:
        stepwise.record({k: v for k, v in record.items() if k not in ("accuracy", "low_accuracy", "latency_ms", "fidelity")},
                        {k: record[k] for k in ("status", "accuracy", "low_accuracy", "latency_ms", "fidelity")})
    assert list(partial.population) == list(stepwise.population) and len(partial.population) == 4
    assert partial.propose()["spec_hash"] == full.candidates[6]["spec_hash"]


def test_events_cover_generations_and_new_bests():
    _, events = run_engine(SearchConfig(family="tvn", population=3, rounds=1, seed=8))
    kinds = [e.type for e in events]
    assert kinds.count("candidate_evaluated") == 6
    assert kinds.count("generation_finished") == 2 and kinds.count("generation_started") == 1
    assert kinds[0] == "candidate_evaluated" and kinds[1] == "new_best"


def test_rejections_do_not_count_and_the_run_gives_up():
    config = SearchConfig(family="tvn", population=2, rounds=0, seed=0, max_rejections=5)
    engine = Evolution(config, make_space("tvn", SPACE))
    while not engine.done:
        proposal = engine.propose()
        engine.record(proposal, {"status": "rejected", "reason": "latency 9 ms over the 1 ms budget", "latency_ms": 9.0})
    assert engine.gave_up and not engine.trained and len(engine.candidates) == 5


def test_out_of_order_record_is_refused():
    engine = Evolution(SearchConfig(family="tvn", population=2, rounds=0), make_space("tvn", SPACE))
    proposal = engine.propose()
    with pytest.raises(ValueError, match="out of order"):
        engine.record({**proposal, "index": 3}, fake_result(proposal))


def test_promotion_threshold_keeps_the_top_fraction():
    config = SearchConfig(family="tvn", population=4, rounds=0, low_steps=5, high_steps=10, promote_fraction=0.5)
    engine = Evolution(config, make_space("tvn", SPACE))
    assert engine.promote_threshold() == float("-inf")
    for score in (0.1, 0.4, 0.3, 0.2):
        proposal = engine.propose()
        engine.record(proposal, {"status": "evaluated", "accuracy": score, "low_accuracy": score, "latency_ms": 1.0})
    assert engine.promote_threshold() == 0.3
    assert Evolution(SearchConfig(family="tvn", high_steps=0), make_space("tvn", SPACE)).promote_threshold() is None


def test_tournament_picks_best_of_sample_and_pareto_rank():
    population = [{"id": f"c{i}", "index": i, "accuracy": a, "latency_ms": line}
                  for i, (a, line) in enumerate([(0.9, 50.0), (0.5, 5.0), (0.4, 40.0), (0.8, 60.0)])]
    assert tournament(population, random.Random(0), 4)["id"] == "c0"
    ranks = pareto_ranks(population)
    assert ranks == {"c0": 0, "c1": 0, "c2": 1, "c3": 1}
    assert [c["id"] for c in pareto_front(population)] == ["c1", "c0"]
    assert dominates(population[1], population[2]) and not dominates(population[0], population[1])
    assert tournament(population, random.Random(0), 4, objective="pareto")["id"] == "c0"


@pytest.mark.parametrize("field,value,message", [
    ("population", 1, "population"), ("family", "resnet", "family"), ("high_steps", 3, "high_steps"),
    ("tournament_size", 0, "tournament_size"), ("elitism", 8, "elitism"), ("elitism", -1, "elitism"),
    ("initial_population", 9, "initial_population"), ("proxy_samples", 0, "proxy_samples"), ("proxy", "magic", "proxy"), ("latency_budget_ms", -1.0, "latency_budget_ms"),
])
def test_bad_settings_name_the_field(field, value, message):
    settings = {"family": "tvn", "population": 8, "low_steps": 10, **{field: value}}
    with pytest.raises(ConfigError, match=message):
        SearchConfig(**settings).validate()


def test_a_smaller_first_generation_starts_mutating_sooner_and_trains_as_many():
    engine, _ = run_engine(SearchConfig(family="tvn", population=4, rounds=2, seed=9, initial_population=2))
    assert [c["parent_id"] is None for c in engine.candidates[:3]] == [True, True, False]
    assert all(c["parent_id"] in ("c0000", "c0001") for c in engine.candidates[2:3])
    assert len(engine.trained) == 12 and len(engine.population) == 4


def test_proxy_screen_trains_the_best_scored_of_several_samples_and_replays():
    from archsearch.proxy import synflow

    config = SearchConfig(family="tvn", population=2, rounds=0, seed=11, proxy_samples=3)
    screened = Evolution(config, make_space("tvn", SPACE)).propose()
    plain = Evolution(SearchConfig(family="tvn", population=2, rounds=0, seed=11), make_space("tvn", SPACE)).propose()
    assert screened["mutation_details"]["screened"] == 3
    chosen = synflow(ArchSpec.from_dict(screened["spec"]))
    assert chosen == screened["mutation_details"]["proxy_score"]
    assert chosen >= synflow(ArchSpec.from_dict(plain["spec"]))  # the unscreened sample was one of the three drawn
    assert Evolution(config, make_space("tvn", SPACE)).propose()["spec_hash"] == screened["spec_hash"]


def test_curve_threshold_is_the_population_median_once_two_have_a_curve():
    config = SearchConfig(family="tvn", population=4, rounds=0, low_steps=10, high_steps=0, curve_stop=0.5)
    engine = Evolution(config, make_space("tvn", SPACE))
    assert engine.curve_threshold() is None  # nobody to compare with: nobody stops
    for loss in (2.0, None, 1.0, 3.0):
        proposal = engine.propose()
        engine.record(proposal, {"status": "evaluated", "accuracy": 0.5, "low_accuracy": 0.5, "latency_ms": 1.0, "curve_loss": loss})
    assert engine.curve_threshold() == 2.0  # median of 1, 2, 3: a member without a curve does not count
    off = Evolution(SearchConfig(family="tvn", population=4), make_space("tvn", SPACE), engine.candidates)
    assert off.curve_threshold() is None


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan"), "half"])
def test_curve_stop_must_be_a_fraction(value):
    with pytest.raises(ConfigError, match="curve_stop"):
        SearchConfig(family="tvn", curve_stop=value).validate()
