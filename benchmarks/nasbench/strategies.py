"""Search strategies replayed on the table, each on its own simulated clock until a budget is spent.

Every strategy meets the same space (``TableSpace``) and evaluator (``TableEvaluator``); a run
returns what the report needs: each time its pick changed (the architecture it would hand over,
chosen by its observed validation top-1; the first of equals stays) and what it spent.

- evolution: the real engine (``archsearch.engine.Evolution``) with a ``SearchConfig``, its rungs
  answered by the table's fidelities; a candidate left at the low rung is a pick like any other,
  as the engine's own ``best`` is.
- random search: uniform samples of the table without replacement, each trained to the last fidelity.
- TPE: Optuna's ``TPESampler`` over ``GridSpace.suggest``, every trial trained to the last
  fidelity; with Hyperband, Optuna's ``HyperbandPruner`` sees the validation top-1 at every
  recorded fidelity and the pruned trials are not picks (as Optuna's ``best_trial``).
- local search (White et al., 2021): from a random architecture, the one-mutation neighbours in
  random order; move to the first better one (or, with best improvement, to the best of all);
  at a local optimum, restart from a random architecture not yet evaluated.

On a partial table, a TPE suggestion missing from it is told as failed (no time charged) and
the nearest present architecture is enqueued as the next trial, so TPE is only ever told true
values.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from archsearch.config import SearchConfig
from archsearch.engine import Evolution
from archsearch.evaluate import EvalBudget

from benchmarks.nasbench.evaluator import SimulatedClock, TableEvaluator
from benchmarks.nasbench.space import parse_key
from benchmarks.nasbench.table import Table, load_table
from benchmarks.nasbench.tablespace import TableSpace, params_of


class Trace:
    """Every answer a run got, reduced to when its pick changed."""

    def __init__(self):
        self.picks: list[tuple[float, str]] = []  # (simulated seconds, key), each time the pick changes
        self.best_val = float("-inf")
        self.evaluations = 0

    def observe(self, t: float, key: str, val_top1: float, *, selectable: bool = True) -> None:
        self.evaluations += 1
        if selectable and val_top1 > self.best_val:
            self.best_val = val_top1
            if not self.picks or self.picks[-1][1] != key:
                self.picks.append((t, key))


class Replay:
    """One run's table, space, clock and evaluator, with its randomness from the run's seed."""

    def __init__(self, table: Table, seed: int, budget_s: float, *, operator_weights: dict | None = None):
        self.table, self.seed, self.budget_s = table, seed, budget_s
        self.space = space_for(table, operator_weights)
        self.clock = SimulatedClock()
        self.rng = random.Random(f"nasbench:{seed}")
        self.evaluator = TableEvaluator(table, self.space, self.clock, random.Random(f"nasbench-seeds:{seed}"))
        self.trace = Trace()
        self.full = EvalBudget(low_steps=table.steps[-1], high_steps=0)

    @property
    def spent(self) -> bool:
        return self.clock.now >= self.budget_s

    def evaluate_full(self, key: str) -> float:
        result = self.evaluator(self.space.spec(key).to_dict(), None, self.full)
        self.trace.observe(self.clock.now, key, result["accuracy"])
        return result["accuracy"]

    def result(self, **extra) -> dict[str, Any]:
        return {"seed": self.seed, "picks": self.trace.picks, "evaluations": self.trace.evaluations, "seconds": self.clock.now,
                "parts": dict(self.clock.parts), **extra}


_SPACES: dict[tuple, TableSpace] = {}


def space_for(table: Table, operator_weights: dict | None = None) -> TableSpace:
    """One space per table and operator weights in a process: its specs and neighbourhoods are
    memoised, and every run of a worker shares them (a space holds no run's state)."""
    key = (id(table), tuple(sorted((operator_weights or {}).items())) if operator_weights is not None else None)
    space = _SPACES.get(key)
    if space is None or space.table is not table:
        space = _SPACES[key] = TableSpace(table, operator_weights=operator_weights)
    return space


def _table(table: Table | str | Path) -> Table:
    return table if isinstance(table, Table) else load_table(table)


def run_evolution(table: Table | str | Path, seed: int, budget_s: float, *, config: dict | None = None,
                  operator_weights: dict | None = None) -> dict[str, Any]:
    """The engine as users run it (propose, evaluate, record), with ``SearchConfig``'s defaults
    unless ``config`` overrides them."""
    replay = Replay(_table(table), seed, budget_s, operator_weights=operator_weights)
    settings = SearchConfig(family="tvn", seed=seed, rounds=1000, **(config or {}))
    engine = Evolution(settings, replay.space)
    budget = EvalBudget.from_config(settings)
    promoted = 0
    while not replay.spent and not engine.done:
        proposal = engine.propose()
        result = replay.evaluator(proposal["spec"], None, budget, settings.seed, promote_threshold=engine.promote_threshold(),
                                  curve_threshold=engine.curve_threshold())
        engine.record(proposal, result)
        if result["status"] == "evaluated":
            replay.trace.observe(replay.clock.now, result["table"]["key"], result["accuracy"])
            promoted += result["fidelity"] == "high"
    return replay.result(promoted=promoted)


def run_random(table: Table | str | Path, seed: int, budget_s: float) -> dict[str, Any]:
    """Uniform samples without replacement (as the evolution's proposals and local search never
    retrain an architecture they tried), until the table is exhausted or the budget spent."""
    replay = Replay(_table(table), seed, budget_s)
    order = [arch.key() for arch in replay.space.present]
    replay.rng.shuffle(order)
    for key in order:
        if replay.spent:
            break
        replay.evaluate_full(key)
    return replay.result()


def run_tpe(table: Table | str | Path, seed: int, budget_s: float, *, hyperband: bool = False) -> dict[str, Any]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    replay = Replay(_table(table), seed, budget_s)
    steps = replay.table.steps
    pruner = optuna.pruners.HyperbandPruner(min_resource=steps[0], max_resource=steps[-1], reduction_factor=3) if hyperband else None
    # Named: Hyperband assigns a trial's bracket from a hash of the study's name, a random uuid otherwise,
    # and a replay would not repeat.
    study = optuna.create_study(study_name=f"nasbench-{seed}", direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed),
                                pruner=pruner)
    missing = pruned = 0
    while not replay.spent:
        trial = study.ask()
        key = replay.space.suggest(trial).key
        if key not in replay.table:
            missing += 1
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            study.enqueue_trial(params_of(parse_key(replay.space.nearest(parse_key(key), replay.rng))))
            continue
        if pruner is None:
            study.tell(trial, replay.evaluate_full(key))
            continue
        run = replay.evaluator.start(key)
        for fidelity, step in enumerate(steps):
            point = run.train_to(fidelity)
            trial.report(point.val_top1, step)
            if fidelity < len(steps) - 1 and trial.should_prune():
                replay.trace.observe(replay.clock.now, key, point.val_top1, selectable=False)
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                pruned += 1
                break
        else:
            replay.trace.observe(replay.clock.now, key, point.val_top1)
            study.tell(trial, point.val_top1)
    return replay.result(missing=missing, pruned=pruned)


def run_local_search(table: Table | str | Path, seed: int, budget_s: float, *, best_improvement: bool = False) -> dict[str, Any]:
    replay = Replay(_table(table), seed, budget_s)
    known: dict[str, float] = {}  # an architecture is evaluated once; its value is remembered

    def value(key: str) -> float:
        if key not in known:
            known[key] = replay.evaluate_full(key)
        return known[key]

    restarts = 0
    while not replay.spent:
        fresh = [arch.key() for arch in replay.space.present if arch.key() not in known]
        if not fresh:
            break  # the whole table is evaluated
        current = replay.rng.choice(fresh)
        current_value = value(current)
        restarts += 1
        while not replay.spent:
            neighbours = list(replay.space.neighbours(current))
            replay.rng.shuffle(neighbours)
            move = None
            if best_improvement:
                scored = []
                for key in neighbours:
                    if replay.spent:
                        break
                    scored.append((value(key), key))
                better = max(scored, default=None)
                if better is not None and better[0] > current_value:
                    move = better
            else:
                for key in neighbours:
                    if replay.spent:
                        break
                    if value(key) > current_value:
                        move = (known[key], key)
                        break
            if move is None:
                break  # a local optimum (or the budget ran out): restart
            current_value, current = move
    return replay.result(restarts=restarts)


RUNNERS = {"evolution": run_evolution, "random": run_random, "tpe": run_tpe, "local": run_local_search}


def run_many(kind: str, table_path: str, seeds: list[int], budget_s: float, options: dict) -> list[dict[str, Any]]:
    """Several seeds of one strategy in one worker (the table is parsed once per process)."""
    runner = RUNNERS[kind]
    return [runner(table_path, seed, budget_s, **options) for seed in seeds]
