"""Evolution versus its peers (random search, Optuna TPE, TPE + Hyperband) and its own ablations.

Every strategy gets the same space, the same evaluator (``archsearch.evaluate``: latency
first, over-cap children rejected before training), the same seeds and the same
wall-clock budget, all in one run. Also: where an evaluated candidate's time goes.
"""
from __future__ import annotations

import random
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import optuna

from videomodels.data import load_cache

from archsearch.config import SearchConfig
from archsearch.evaluate import EvalBudget, evaluate_candidate
from archsearch.runner import SearchRun
from archsearch.seeding import preset_seeds
from archsearch.spaces import SpaceConfig, make_space

from benchmarks.common import TRAIN_THREADS, WORK, median, motion_cache, spread, table
from benchmarks.parallel import job, run_jobs, worker_count

SEEDS = (0, 1, 2)
# One setting for every strategy; fixed before any run (targets included), never tuned to the results.
# Population 4 and 20/60 steps: on 2 cores, the budget that lets every row of the table train three or
# more generations and still fits the whole make bench in 45 minutes.
SETTINGS = {"population": 4, "tournament_size": 3, "low_steps": 20, "high_steps": 60, "lr": 0.01,
            "latency_cap_ms": 10.0, "max_params": 300_000, "targets": (0.2, 0.3, 0.4)}
QUICK = {"low_steps": 5, "high_steps": 10}
BUDGET_S = 50  # CPU seconds per run
# The default search, then one row per technique turned off (or on, for options off by default).
def _no_rungs(settings: dict, cache: Path) -> dict:
    return {"low_steps": settings["high_steps"], "high_steps": 0}


def _preset_seeded(settings: dict, cache: Path) -> dict:
    meta = load_cache(cache)
    return {"seeds": preset_seeds(family="tvn", num_classes=meta.num_classes, frames=meta.frames, size=meta.size,
                                  has_flow=meta.has_flow, max_params=settings["max_params"])}


VARIANTS: dict[str, dict[str, Any] | Callable[[dict, Path], dict]] = {
    "evolution (default)": {},
    "ablation: plain aging (elitism 0)": {"elitism": 0},
    "ablation: no weight inheritance": {"inherit_weights": False},
    "ablation: no rungs (every candidate trained the full budget)": _no_rungs,
    "ablation: full first generation (the whole population random; default half)": {"initial_population": SETTINGS["population"]},
    "ablation: + first generation seeded with the presets that fit": _preset_seeded,
    "ablation: + SynFlow screen (best of 3 samples)": {"proxy_samples": 3},
    "ablation: + early termination on the learning curve (median rule at half the first rung)": {"curve_stop": 0.5},
}
PEERS = ("random", "tpe", "tpe + hyperband")


# Budgets and times-to-target are CPU seconds of this process: on a machine shared with other
# work, wall-clock seconds would hand each strategy whatever share of the cores the neighbours
# left it. Training runs on one thread, so on an idle machine the two clocks agree.
CLOCK = time.process_time


class Trace:
    """Every evaluated or rejected candidate of one run, with the time it was known."""

    def __init__(self):
        self.start = CLOCK()
        self.points: list[dict] = []
        self.duration: float | None = None  # set when the run ends

    @property
    def elapsed(self) -> float:
        return self.duration if self.duration is not None else CLOCK() - self.start

    def close(self) -> "Trace":
        self.duration = self.elapsed
        return self

    def add(self, result: dict, spec: dict, *, engine_s: float = 0.0, extra: dict | None = None) -> None:
        self.points.append({"t": self.elapsed, "status": result["status"], "accuracy": result.get("accuracy"),
                            "latency_ms": result.get("latency_ms"), "params": result.get("params"), "spec": spec,
                            "seconds": result.get("seconds", 0.0), "timing": result.get("timing", {}), "engine_s": engine_s,
                            "fidelity": result.get("fidelity"), "checkpoint": result.get("checkpoint"), **(extra or {})})

    def evaluated(self) -> list[dict]:
        return [p for p in self.points if p["status"] == "evaluated"]

    def time_to(self, target: float) -> float | None:
        return next((p["t"] for p in self.evaluated() if p["accuracy"] >= target), None)

    def best(self, cap: float | None = None) -> dict | None:
        ok = [p for p in self.evaluated() if cap is None or p["latency_ms"] <= cap]
        return max(ok, key=lambda p: p["accuracy"]) if ok else None


def search_config(family: str, seed: int, settings: dict, overrides: dict) -> SearchConfig:
    values = dict(family=family, population=settings["population"], tournament_size=settings["tournament_size"],
                  rounds=1000, seed=seed, latency_budget_ms=settings["latency_cap_ms"], max_params=settings["max_params"],
                  low_steps=settings["low_steps"], high_steps=settings["high_steps"], batch_size=16, lr=settings["lr"],
                  latency_threads=1, latency_runs=3, num_threads=TRAIN_THREADS)
    return SearchConfig(**{**values, **overrides})


def run_evolution(family: str, seed: int, cache: Path, out: Path, *, budget_s: float, settings: dict, overrides: dict | None = None,
                  wrap_space: Callable | None = None) -> tuple[Trace, SearchRun]:
    """The engine as users run it (``SearchRun``), stopped when the wall-clock budget is spent."""
    shutil.rmtree(out, ignore_errors=True)
    run = SearchRun(out, search_config(family, seed, settings, overrides or {}), cache)
    if wrap_space is not None:  # ablations that change how the space mutates
        run.space = run.engine.space = wrap_space(run.engine.space)
    trace = Trace()
    while trace.elapsed < budget_s and not run.engine.done:
        started = time.perf_counter()
        record = run.step()
        wall = time.perf_counter() - started  # the evaluator's own timings are wall-clock too
        trace.add(record, record["spec"], engine_s=wall - record.get("seconds", 0.0))
    return trace.close(), run


def evolution_trace(family: str, seed: int, cache: Path, out: Path, *, budget_s: float, settings: dict,
                    overrides: dict | None = None) -> Trace:
    """``run_evolution`` as a job for a worker process: only the trace comes back."""
    return run_evolution(family, seed, cache, out, budget_s=budget_s, settings=settings, overrides=overrides)[0]


def overrides_for(variant, settings: dict, cache: Path) -> dict:
    return variant(settings, cache) if callable(variant) else dict(variant)


def _full_budget(settings: dict, steps: int) -> EvalBudget:
    return EvalBudget(low_steps=steps, high_steps=0, batch_size=16, lr=settings["lr"], latency_budget_ms=settings["latency_cap_ms"],
                      latency_threads=1, latency_runs=3, num_threads=TRAIN_THREADS)


def run_peer(strategy: str, family: str, seed: int, cache: Path, out: Path, *, budget_s: float, settings: dict) -> Trace:
    """Random search or TPE: every candidate trained ``high_steps``; with Hyperband, trained in
    rungs (``low_steps``, then on to ``high_steps``) and reported to the pruner at each."""
    shutil.rmtree(out, ignore_errors=True)
    meta = load_cache(cache)
    space = make_space(family, SpaceConfig(num_classes=meta.num_classes, frames=meta.frames, size=meta.size, max_params=settings["max_params"]))
    low, high = settings["low_steps"], settings["high_steps"]
    pruner = optuna.pruners.HyperbandPruner(min_resource=low, max_resource=high, reduction_factor=3) if "hyperband" in strategy else None
    study = None
    if strategy != "random":
        # Named: Hyperband assigns a trial's bracket from a hash of the study's name (a random uuid otherwise).
        study = optuna.create_study(study_name=f"{family}-{seed}", direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed),
                                    pruner=pruner)
    rng = random.Random(seed)
    trace, index = Trace(), 0
    while trace.elapsed < budget_s:
        started = time.perf_counter()
        trial = study.ask() if study else None
        spec = (space.suggest(trial) if study else space.sample(rng)).to_dict()
        engine_s = time.perf_counter() - started
        folder = out / f"c{index:04d}"
        index += 1
        if pruner is None:
            result = evaluate_candidate(spec, str(cache), _full_budget(settings, high), seed, out_dir=folder)
            trace.add(result, spec, engine_s=engine_s)
            if study:
                study.tell(trial, result.get("accuracy", 0.0) if result["status"] == "evaluated" else 0.0)
            continue
        result = evaluate_candidate(spec, str(cache), _full_budget(settings, low), seed, out_dir=folder / "rung0")
        if result["status"] != "evaluated":
            trace.add(result, spec, engine_s=engine_s)
            study.tell(trial, 0.0)
            continue
        trial.report(result["accuracy"], low)
        if trial.should_prune():
            trace.add({**result, "fidelity": "low"}, spec, engine_s=engine_s, extra={"pruned": True})
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            continue
        # The next rung continues the same weights for the remaining steps (as the engine's second fidelity does).
        # No latency cap here: the candidate passed it at rung 0 (a second, noisy measurement must not reject it).
        rung = EvalBudget(**{**_full_budget(settings, high - low).to_dict(), "latency_budget_ms": None})
        more = evaluate_candidate(spec, str(cache), rung, seed + 1, out_dir=folder / "rung1", init_checkpoint=result["checkpoint"])
        combined = {**more, "seconds": result["seconds"] + more["seconds"], "fidelity": "high",
                    "timing": {k: result["timing"].get(k, 0.0) + more["timing"].get(k, 0.0) for k in more["timing"]}}
        trial.report(more["accuracy"], high)
        trace.add(combined, spec, engine_s=engine_s)
        study.tell(trial, more["accuracy"])
    return trace.close()


def time_to_target_rows(traces: dict[str, dict[int, Trace]], targets, budget_s: float, reference: str = "random") -> tuple[list, dict]:
    rows, data = [], {}
    for strategy, by_seed in traces.items():
        row, entry = [strategy], {}
        for target in targets:
            times = [by_seed[seed].time_to(target) for seed in SEEDS]
            base = [traces[reference][seed].time_to(target) for seed in SEEDS]
            reached = sum(t is not None for t in times)
            # A seed that never reached the target counts as the whole budget (a lower bound on its time).
            mine = [t if t is not None else budget_s for t in times]
            ref = [t if t is not None else budget_s for t in base]
            ratios = [m / r for m, r in zip(mine, ref)]
            row.append(f"{reached}/3, {median(mine):.0f} s, {median(ratios):.2f}x [{min(ratios):.2f}-{max(ratios):.2f}]")
            entry[f"time_to_{target}"] = times
            entry[f"ratio_to_{reference}_{target}"] = ratios
        bests = [by_seed[seed].best(SETTINGS["latency_cap_ms"]) for seed in SEEDS]
        accs = [b["accuracy"] if b else 0.0 for b in bests]
        counts = [len(by_seed[seed].evaluated()) for seed in SEEDS]
        row += [spread(accs), spread(counts, digits=0)]
        entry.update(best_under_cap=accs, evaluated=counts)
        rows.append(row)
        data[strategy] = entry
    return rows, data


def throughput(traces: list[Trace]) -> tuple[list, dict]:
    """Candidates per hour per core and where an evaluated candidate's seconds go."""
    points = [p for trace in traces for p in trace.evaluated()]
    wall = sum(trace.elapsed for trace in traces)
    parts = {"latency": "latency_s", "data + model setup": "setup_s", "training + val": "train_s", "evaluator overhead": "overhead_s"}
    per = {name: median([p["timing"].get(key, 0.0) for p in points]) or 0.0 for name, key in parts.items()}
    per["engine (propose, record, save)"] = median([p["engine_s"] for p in points]) or 0.0
    total = sum(per.values()) or 1.0
    rows = [[name, 1000 * seconds, seconds / total] for name, seconds in per.items()]
    rate = len(points) / (wall / 3600) / TRAIN_THREADS if wall else 0.0  # per CPU-hour of the one training thread
    return rows, {"candidates_per_hour_per_core": rate, "median_seconds": per, "candidates": len(points)}


def makespan(durations: list[float], workers: int, barrier_every: int | None = None) -> float:
    """When the last of ``durations`` ends on ``workers`` that each take the next candidate as soon as
    they are free; with ``barrier_every``, no candidate of a generation starts before the previous
    generation of that many has ended (a generational, synchronous search)."""
    free = [0.0] * workers
    barrier = 0.0
    for index, seconds in enumerate(durations):
        if barrier_every and index % barrier_every == 0:
            barrier = max(free) if index else 0.0
            free = [max(t, barrier) for t in free]
        slot = min(range(workers), key=free.__getitem__)
        free[slot] += seconds
    return max(free)


ASYNC_WORKERS = (2, 4, 8)


def candidate_durations(trace: Trace) -> list[float]:
    """Seconds per trained candidate, in proposal order; the proposals rejected before it (latency
    over the cap) count towards it, as the same worker would have measured them."""
    durations, carry = [], 0.0
    for point in trace.points:
        carry += point["seconds"] + point["engine_s"]
        if point["status"] == "evaluated":
            durations.append(carry)
            carry = 0.0
    return durations


def asynchronous_rows(traces: list[Trace], population: int) -> tuple[list, dict]:
    """The default runs' measured candidate times (rejections included) scheduled both ways."""
    rows, data = [], {}
    for workers in ASYNC_WORKERS:
        sync, steady, busy = [], [], []
        for trace in traces:
            durations = candidate_durations(trace)
            sync.append(makespan(durations, workers, barrier_every=population))
            steady.append(makespan(durations, workers))
            busy.append(sum(durations) / (workers * steady[-1]))
        ratio = [a / b for a, b in zip(steady, sync)]
        sync_busy = [sum(candidate_durations(t)) / (workers * m) for t, m in zip(traces, sync)]
        rows.append([workers, spread(sync, digits=0), spread(steady, digits=0), spread(ratio), spread(sync_busy), spread(busy)])
        data[workers] = {"generational_s": sync, "asynchronous_s": steady, "ratio": ratio, "busy_generational": sync_busy,
                         "busy_asynchronous": busy}
    return rows, data


def generations_reached(trace: Trace, population: int) -> float:
    return len(trace.evaluated()) / population


def run(quick: bool = False, budget_s: float | None = None) -> tuple[str, dict]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    cache = motion_cache(clips_per_class=8 if quick else 48, frames=8, size=32, flow=True)
    settings = {**SETTINGS, **(QUICK if quick else {})}
    budget_s = budget_s or (20 if quick else BUDGET_S)
    keys, jobs = [], []
    for index, (name, variant) in enumerate(VARIANTS.items()):
        overrides = overrides_for(variant, settings, cache)
        for seed in SEEDS:
            keys.append((name, seed))
            jobs.append(job(evolution_trace, "tvn", seed, cache, WORK / "search" / f"v{index}-{seed}", budget_s=budget_s,
                            settings=settings, overrides=overrides))
    for peer in PEERS:
        for seed in SEEDS:
            keys.append((peer, seed))
            jobs.append(job(run_peer, peer, "tvn", seed, cache, WORK / "search" / f"{peer.replace(' + ', '-')}-{seed}",
                            budget_s=budget_s, settings=settings))
    traces: dict[str, dict[int, Trace]] = {}
    for (name, seed), trace in zip(keys, run_jobs(jobs)):
        traces.setdefault(name, {})[seed] = trace
    rows, data = time_to_target_rows(traces, settings["targets"], budget_s)
    for row, name in zip(rows, traces):
        evolved = name not in PEERS
        row.append(spread([generations_reached(traces[name][seed], settings["population"]) for seed in SEEDS], digits=2)
                   if evolved else "–")
    variants = {name: traces[name] for name in VARIANTS}
    ablation_rows, data["versus_default"] = time_to_target_rows(variants, settings["targets"], budget_s, reference="evolution (default)")
    data["traces"] = {name: {seed: t.points for seed, t in by_seed.items()} for name, by_seed in traces.items()}
    data["settings"] = {**settings, "budget_s": budget_s, "workers": worker_count()}
    default = list(traces["evolution (default)"].values())
    flow_rows, flow = throughput(default)
    data["throughput"] = flow
    async_rows, data["asynchronous"] = asynchronous_rows(default, settings["population"])
    lines = [f"## Search strategies on the motion benchmark (TVN space; {budget_s:.0f} CPU s per run, seeds {', '.join(map(str, SEEDS))})", "",
             f"Same space, evaluator (latency first; over {settings['latency_cap_ms']:g} ms at 1 thread rejected before training), "
             f"seeds and compute budget, all in one bench run; runs go side by side in {worker_count()} worker processes of "
             f"{TRAIN_THREADS} training thread each. Budgets and "
             "times are CPU seconds of each run's own process, so a neighbour (another run, or other work on a shared machine) "
             "does not eat into one strategy's budget more than another's; latency, measured in wall-clock "
             "time, inflates when the cores are busy, so every strategy sees the same (slightly pessimistic) latencies. "
             f"Random search and TPE train every candidate {settings['high_steps']} steps; TPE + Hyperband (Optuna's HyperbandPruner, "
             f"reduction factor 3) trains in rungs of {settings['low_steps']} then {settings['high_steps']} steps and reports the "
             f"accuracy at each; evolution (population {settings['population']}, tournament {settings['tournament_size']}, elitism 1) "
             f"trains every candidate {settings['low_steps']} steps and continues the better half of the population so far to "
             f"{settings['high_steps']} (successive-halving rungs, first generation included), children inheriting "
             "their parent's weights. Each target cell: seeds that reached it, median time (a seed that never did counts as the "
             "whole budget, a lower bound), and the median [min-max] over seeds of the time as a ratio to random search's on the "
             "same seed. Generations: candidates trained / population. Goal for the default: at most 0.33x random search at every "
             "target and below TPE + Hyperband.", "",
             table(["strategy", *[f"time to top-1 ≥ {t}" for t in settings["targets"]], "best top-1 under the cap, median [min-max]",
                    "candidates trained", "generations"], rows), "",
             "What each technique buys: the same runs, each time now as a ratio to the default's on the same seed (below 1: "
             "faster than the default; for a technique the default has, a ratio above 1 in its ablation row means it pays).", "",
             table(["variant", *[f"time to top-1 ≥ {t} vs default" for t in settings["targets"]], "best top-1 under the cap",
                    "candidates trained"], ablation_rows[1:]), "",
             "## Asynchronous evolution: parallel workers never wait for a generation", "",
             "The default runs' measured candidate times (training, latency, rejections and the engine, in the order they were "
             "proposed) scheduled on N workers two ways: generational (no candidate of generation g+1 starts before all of "
             f"generation g, {settings['population']} candidates, have ended) and asynchronous (aging evolution as the studio runs it: a "
             "free worker takes the next proposal at once). This measures the scheduling alone: an asynchronous child is "
             "proposed from the population known when it starts, which the sequential runs above do not show. Makespan in "
             "seconds and worker busy share, median [min-max] over the seeds:", "",
             table(["workers", "generational makespan s", "asynchronous makespan s", "asynchronous / generational",
                    "busy share, generational", "busy share, asynchronous"], async_rows), "",
             f"## Evaluator throughput (evolution default, TVN, {settings['low_steps']}/{settings['high_steps']} steps, batch 16)", "",
             f"{flow['candidates']} evaluated candidates over {len(SEEDS)} runs: **{flow['candidates_per_hour_per_core']:,.0f} "
             "candidates per CPU-hour** (one training thread; the time includes rejections and the engine). Median seconds per evaluated "
             "candidate by part (data loading inside the training loop counts as training; the data section measures it "
             "separately):", "",
             table(["part", "median ms per candidate", "share"], flow_rows), ""]
    return "\n".join(lines), data
