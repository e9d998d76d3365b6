"""The table, its space and the tabular evaluator on a small made-up table."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from archsearch.config import SearchConfig
from archsearch.engine import Evolution
from archsearch.evaluate import EvalBudget

from benchmarks.nasbench.evaluator import SimulatedClock, TableEvaluator
from benchmarks.nasbench.space import GridSpace, grid_arch_of, parse_key
from benchmarks.nasbench.table import Table, TableError, load_table
from benchmarks.nasbench.tablespace import TableSpace

from nasbench_rows import fake_row, write_fixture_table


@pytest.fixture
def table(fixture_table_path: Path) -> Table:
    return load_table(fixture_table_path)


def _evaluator(table: Table, seed: int = 0) -> tuple[TableEvaluator, SimulatedClock]:
    clock = SimulatedClock()
    return TableEvaluator(table, TableSpace(table), clock, random.Random(seed)), clock


def test_table_indexes_rows_by_key_with_seeds_targets_and_front(table: Table) -> None:
    assert len(table) == 40 and table.rows == 40 + 2 * 8  # every fifth architecture has three seeds
    assert table.steps == (12, 36, 108)
    several = [entry for entry in table.entries.values() if len(entry.runs) == 3]
    assert len(several) == 8 and all(entry.seeds == (0, 1, 2) for entry in several)
    entry = several[0]
    assert entry.mean_test == pytest.approx(sum(entry.test(s, 2) for s in entry.seeds) / 3)
    ranked = sorted(e.mean_test for e in table.entries.values())
    assert table.best_mean_test == ranked[-1]
    assert table.threshold(0.01) == ranked[-1]  # 1% of 40 rounds up to the single best
    assert table.threshold(0.1) == ranked[-4]
    front = table.pareto()
    assert front[0].latency_ms == min(e.latency_ms for e in table.entries.values())
    assert front[-1].mean_test == table.best_mean_test
    for a, b in zip(front, front[1:]):  # faster ones less accurate, strictly
        assert a.latency_ms <= b.latency_ms and a.mean_test < b.mean_test
    for entry in table.entries.values():  # nothing off the front dominates a front member
        assert not any(entry.latency_ms <= f.latency_ms and entry.mean_test > f.mean_test for f in front)


def test_fidelity_maps_step_counts_to_the_nearest_recorded_on_a_log_scale(table: Table) -> None:
    # The boundaries are the geometric means: sqrt(12 x 36) = 20.8, sqrt(36 x 108) = 62.4.
    assert [table.steps[table.fidelity(s)] for s in (1, 12, 20, 21, 40, 62, 63, 108, 120, 1000)] == \
           [12, 12, 12, 36, 36, 36, 108, 108, 108, 108]


def test_load_refuses_missing_empty_and_torn_files(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="no such table file"):
        load_table(tmp_path / "none.jsonl")
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(TableError, match="no rows"):
        load_table(tmp_path / "empty.jsonl")
    path = write_fixture_table(tmp_path / "torn.jsonl", count=3)
    path.write_text(path.read_text() + '{"key": "f4s16r0|std.1d.c16.cg0", "se')  # a build killed mid-line
    assert len(load_table(path)) == 3


def test_partial_table_space_samples_and_mutates_only_present_architectures(table: Table) -> None:
    space = TableSpace(table)
    rng = random.Random(0)
    assert {space.sample(rng).key for _ in range(400)} == set(table.keys)
    spec = space.sample(rng)
    for _ in range(300):
        mutation = space.mutate(spec, rng)
        key = grid_arch_of(mutation.spec).key()
        assert key in table and key != spec.key, mutation.description
        assert space.key_of(mutation.spec.to_dict()) == key
        spec = mutation.spec


def test_full_table_space_is_the_grid(tmp_path: Path) -> None:
    # Every key present: samples and neighbourhoods are the grid's.
    grid = GridSpace()
    rows = [fake_row(arch.key(), 0, 0.3, random.Random(i)) for i, arch in enumerate(grid.archs)]
    path = tmp_path / "full.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    space = TableSpace(load_table(path))
    assert space.present == grid.archs
    a, b = random.Random(5), random.Random(5)
    assert [space.sample(a).key for _ in range(20)] == [grid.sample(b).name for _ in range(20)]
    arch = parse_key("f8s20r5|std.1d.c16.cg0")
    neighbours = space.neighbours(arch)
    # 4 fields x 1 block + frames + size + flow + add (2 positions x 16 blocks, less the one duplicate:
    # the same block added before or after itself); remove: none (1 block is the floor)
    assert len(neighbours) == 4 + 3 + 32 - 1 == len(set(neighbours))
    assert all(len(parse_key(k).blocks) in (1, 2) for k in neighbours)


def test_evaluator_answers_like_evaluate_candidate_and_charges_the_recorded_seconds(table: Table) -> None:
    evaluator, clock = _evaluator(table)
    key = table.keys[0]
    entry = table[key]
    result = evaluator(evaluator.space.spec(key).to_dict(), None, EvalBudget(low_steps=40, high_steps=120), 0, out_dir="unused")
    for field in ("status", "accuracy", "low_accuracy", "fidelity", "latency_ms", "params", "macs", "steps", "seconds", "timing", "metrics"):
        assert field in result
    run = entry.runs[result["table"]["seed"]]
    assert result["status"] == "evaluated" and result["fidelity"] == "low" and result["steps"] == 36
    assert result["accuracy"] == run.curve[1].val_top1 and result["test_accuracy"] == run.curve[1].test_top1
    expected = run.latency_s + run.setup_s + run.curve[1].train_s + run.curve[1].val_eval_s
    assert result["seconds"] == pytest.approx(expected) and clock.now == pytest.approx(expected)
    assert clock.parts["latency"] == pytest.approx(run.latency_s) and clock.parts["setup"] == pytest.approx(run.setup_s)


def test_promotion_charges_only_the_additional_training(table: Table) -> None:
    evaluator, clock = _evaluator(table)
    key = table.keys[0]
    result = evaluator(evaluator.space.spec(key).to_dict(), None, EvalBudget(low_steps=40, high_steps=120), 0, promote_threshold=0.0)
    run = table[key].runs[result["table"]["seed"]]
    assert result["fidelity"] == "high" and result["steps"] == 108
    assert result["accuracy"] == run.curve[2].val_top1 and result["low_accuracy"] == run.curve[1].val_top1
    low_cost = run.latency_s + run.setup_s + run.curve[1].train_s + run.curve[1].val_eval_s
    extra = run.curve[2].train_s - run.curve[1].train_s + run.curve[2].val_eval_s
    assert result["seconds"] == pytest.approx(low_cost + extra)
    assert clock.now == pytest.approx(low_cost + extra)
    # A threshold above the low score keeps it at the low fidelity; no threshold (no rungs) too.
    for threshold in (1.01, None):
        again = evaluator(evaluator.space.spec(key).to_dict(), None, EvalBudget(low_steps=40, high_steps=120), 0, promote_threshold=threshold)
        assert again["fidelity"] == "low" and again["steps"] == 36


def test_each_query_draws_a_seed_at_random(table: Table) -> None:
    evaluator, _ = _evaluator(table, seed=3)
    key = next(e.key for e in table.entries.values() if len(e.runs) == 3)
    full = EvalBudget(low_steps=108, high_steps=0)
    seeds = [evaluator(evaluator.space.spec(key).to_dict(), None, full)["table"]["seed"] for _ in range(60)]
    assert set(seeds) == {0, 1, 2}
    assert all(15 <= seeds.count(s) <= 25 for s in (0, 1, 2))  # uniform: 20 each expected, 15-25 holds at this seed
    single = next(e.key for e in table.entries.values() if len(e.runs) == 1)
    assert {evaluator(evaluator.space.spec(single).to_dict(), None, full)["table"]["seed"] for _ in range(10)} == {0}


def test_latency_budget_rejects_before_training_and_charges_only_the_measurement(table: Table) -> None:
    evaluator, clock = _evaluator(table)
    entries = sorted(table.entries.values(), key=lambda e: e.latency_ms)
    slow, fast = entries[-1], entries[0]
    budget = EvalBudget(low_steps=108, high_steps=0, latency_budget_ms=fast.latency_ms + 1e-9)
    rejected = evaluator(evaluator.space.spec(slow.key).to_dict(), None, budget)
    assert rejected["status"] == "rejected" and "over the" in rejected["reason"]
    assert rejected["seconds"] == pytest.approx(slow.runs[0].latency_s) and clock.now == pytest.approx(rejected["seconds"])
    assert evaluator(evaluator.space.spec(fast.key).to_dict(), None, budget)["status"] == "evaluated"


def test_simulated_clock_adds_up_and_never_goes_back() -> None:
    clock = SimulatedClock()
    clock.charge(1.5, "setup")
    clock.charge(2.0, "train")
    clock.charge(0.5, "train")
    assert clock.now == 4.0 and clock.parts == {"setup": 1.5, "train": 2.5}
    with pytest.raises(ValueError, match="only moves forward"):
        clock.charge(-1, "train")


def test_the_real_engine_runs_on_the_table_with_costs_from_it(table: Table) -> None:
    space = TableSpace(table)
    evaluator, clock = _evaluator(table)
    evaluator.space = space
    engine = Evolution(SearchConfig(family="tvn", population=4, rounds=5, seed=1), space)
    budget = EvalBudget.from_config(engine.config)
    while not engine.done:
        proposal = engine.propose()
        entry = table[proposal["spec"]["name"]]
        assert (proposal["params"], proposal["macs"]) == (entry.params, entry.macs)  # from the table, no model built
        engine.record(proposal, evaluator(proposal["spec"], None, budget, 0, promote_threshold=engine.promote_threshold()))
    fidelities = {c["fidelity"] for c in engine.trained}
    assert len(engine.trained) == 24 and fidelities == {"low", "high"}
    assert clock.now == pytest.approx(sum(c["seconds"] for c in engine.candidates))


def test_latency_pass_figures_are_preferred_when_present(fixture_table_path: Path) -> None:
    key = load_table(fixture_table_path).keys[0]
    (fixture_table_path.parent / "latency.jsonl").write_text(json.dumps({"key": key, "latency_ms": 0.123}) + "\n")
    table = load_table(fixture_table_path)
    assert table[key].latency_ms == 0.123
    assert table[table.keys[1]].latency_ms == table[table.keys[1]].runs[0].latency_ms  # not measured again: the row's
    evaluator, _ = _evaluator(table)
    result = evaluator(evaluator.space.spec(key).to_dict(), None, EvalBudget(low_steps=108, high_steps=0, latency_budget_ms=0.2))
    assert result["status"] == "evaluated" and result["latency_ms"] == 0.123


def test_curve_stop_reads_the_loss_at_a_lower_fidelity_and_stops_there(table: Table) -> None:
    evaluator, clock = _evaluator(table)
    key = table.keys[0]
    budget = EvalBudget(low_steps=40, high_steps=120, curve_stop=0.5)  # checks at step 20: the table's 12
    stopped = evaluator(evaluator.space.spec(key).to_dict(), None, budget, curve_threshold=0.0, promote_threshold=0.0)
    run = table[key].runs[stopped["table"]["seed"]]
    assert stopped["fidelity"] == "stopped" and stopped["steps"] == 12 and stopped["curve_loss"] == run.curve[0].train_loss
    assert stopped["seconds"] == pytest.approx(run.latency_s + run.setup_s + run.curve[0].train_s + run.curve[0].val_eval_s)
    going = evaluator(evaluator.space.spec(key).to_dict(), None, budget, curve_threshold=99.0, promote_threshold=None)
    run = table[key].runs[going["table"]["seed"]]
    assert going["fidelity"] == "low" and going["steps"] == 36  # below the median: on to the rung, no validation at 12
    assert going["seconds"] == pytest.approx(run.latency_s + run.setup_s + run.curve[1].train_s + run.curve[1].val_eval_s)


def test_a_mutation_always_reaches_another_present_architecture(tmp_path: Path) -> None:
    # Two architectures no field mutation connects: a fields-only space still gets from one to
    # the other (its walk allows every operator after a while), and the full space walks there.
    keys = ["f8s20r5|std.1d.c16.cg0", "f4s16r0|depth.mp.c32.cg1|std.1d.c16.cg0"]
    path = tmp_path / "two.jsonl"
    path.write_text("".join(json.dumps(fake_row(key, 0, 0.3, random.Random(i))) + "\n" for i, key in enumerate(keys)))
    table = load_table(path)
    rng = random.Random(0)
    for weights in ({"field": 1}, None):
        space = TableSpace(table, operator_weights=weights)
        mutation = space.mutate(space.spec(keys[0]), rng)
        assert mutation.spec.name == keys[1] and mutation.details["operations"] >= 3, mutation.description
