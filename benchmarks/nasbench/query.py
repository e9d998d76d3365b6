"""``python -m benchmarks.nasbench query``: what the table holds, for people who study search strategies.

    --summary            size, seeds, provenance, the data's recipe, the table's own noise
    --random N --seed S  N random rows, each with what it takes to train it again
    --key KEY            one architecture
    --pareto             the accuracy (mean test top-1) / latency front

``--json`` prints one JSON object; mistakes print one ``error:`` line and exit 2.
"""
from __future__ import annotations

import argparse
import json
import random
import shlex
import statistics
import sys
from pathlib import Path
from typing import Any, Iterable

from benchmarks.nasbench.build import TRAINING, read_rows
from benchmarks.nasbench.data import recipe_commands
from benchmarks.nasbench.space import GRID_SIZE, parse_key, spec_of
from benchmarks.nasbench.table import Entry, Table, TableError, default_path, load_table

CACHE_NAME = "nasbench-cache"  # where recipe_commands() puts the clip cache


class QueryError(ValueError):
    """A bad argument; the message says which and why."""


def provenance_of(table: Table) -> dict[str, Any] | None:
    path = Path(table.source).with_name("provenance.json")
    try:
        return json.loads(path.read_text()) if path.exists() else None
    except ValueError:
        return None


def latency_pass(table: Table) -> dict[str, Any] | None:
    """Where and when the latency figures the table answers with were measured (``build --latency``)."""
    path = Path(table.source).with_name("latency.jsonl")
    if not path.exists():
        return None
    rows = read_rows(path)
    finished = sorted(row["finished"] for row in rows if row.get("finished"))
    return {"architectures": sum(not row.get("baseline") for row in rows), "baselines": sum(bool(row.get("baseline")) for row in rows),
            "cpus": sorted({row["cpu"] for row in rows if row.get("cpu")}), "runs": max((row.get("runs", 0) for row in rows), default=0),
            "max_load_average": _round(max((row.get("load", 0.0) for row in rows), default=0.0)),
            "first": finished[0] if finished else None, "last": finished[-1] if finished else None}


def _training(table: Table) -> dict[str, Any]:
    recorded = (provenance_of(table) or {}).get("training")
    return dict(recorded or TRAINING)


# -- summary ------------------------------------------------------------------------------------
def noise(table: Table) -> dict[str, Any]:
    """How much the table disagrees with itself: seed spread of test top-1 on the architectures
    trained several times, and rank correlations between fidelities and between seeds."""
    from scipy.stats import kendalltau, spearmanr

    several = [entry for entry in table.entries.values() if len(entry.runs) > 1]
    last = len(table.steps) - 1
    stds = [statistics.stdev(entry.test(seed, last) for seed in entry.seeds) for entry in several]
    val_stds = [statistics.stdev(entry.val(seed, last) for seed in entry.seeds) for entry in several]

    def correlate(a: list[float], b: list[float]) -> dict[str, float | None]:
        if len(a) < 3 or len(set(a)) < 2 or len(set(b)) < 2:
            return {"spearman": None, "kendall": None, "n": len(a)}
        return {"spearman": round(float(spearmanr(a, b).statistic), 4), "kendall": round(float(kendalltau(a, b).statistic), 4), "n": len(a)}

    entries = list(table.entries.values())
    mean_val = {i: [statistics.fmean(e.val(s, i) for s in e.seeds) for e in entries] for i in range(len(table.steps))}
    fidelities = {f"val top-1 at {table.steps[i]} vs {table.steps[last]} steps": correlate(mean_val[i], mean_val[last]) for i in range(last)}
    fidelities[f"val vs test top-1 at {table.steps[last]} steps"] = correlate(mean_val[last], [e.mean_test for e in entries])
    first, second = ([e.test(e.seeds[k], last) for e in several] for k in (0, 1))
    return {
        "architectures_with_several_seeds": len(several),
        "test_top1_seed_std": {"median": _round(statistics.median(stds)) if stds else None,
                               "mean": _round(statistics.fmean(stds)) if stds else None,
                               "max": _round(max(stds)) if stds else None},
        "val_top1_seed_std_median": _round(statistics.median(val_stds)) if val_stds else None,
        "rank_correlation_between_fidelities": fidelities,
        f"rank_correlation_between_seeds (test top-1 at {table.steps[last]} steps, first two seeds)": correlate(first, second),
    }


def _round(value: float) -> float:
    return round(value, 4)


def summary(table: Table) -> dict[str, Any]:
    seeds_per = [len(entry.runs) for entry in table.entries.values()]
    meta = provenance_of(table)
    best = table.ranked[0]
    return {
        "table": table.source, "sha256": table.digest,
        "architectures": len(table), "rows": table.rows, "grid_architectures": GRID_SIZE,
        "rows_planned": (meta or {}).get("rows_planned"),
        "complete": len(table) == GRID_SIZE,
        "seeds": {"values": sorted({seed for entry in table.entries.values() for seed in entry.runs}),
                  "architectures_by_seed_count": {str(n): seeds_per.count(n) for n in sorted(set(seeds_per))}},
        "steps": list(table.steps),
        "best": {"key": best.key, "mean_test_top1": _round(best.mean_test), "latency_ms": _round(best.latency_ms)},
        "top_thresholds": {"top 1%": _round(table.threshold(0.01)), "top 0.1%": _round(table.threshold(0.001))},
        "mean_evaluation_s": _round(table.mean_full_cost_s),
        "data": {"content_hash": (meta or {}).get("data", {}).get("content_hash"), "recipe": (meta or {}).get("data", {}).get("recipe"),
                 "recipe_commands": recipe_commands(cache=CACHE_NAME)},
        "training": _training(table),
        "noise": noise(table),
        "provenance": meta,
        "latency_pass": latency_pass(table),
        "skipped_rows": table.skipped,
    }


# -- rows ---------------------------------------------------------------------------------------
def spec_file_name(key: str) -> str:
    return key.replace("|", "_") + ".json"


def train_command(key: str, seed: int, training: dict[str, Any], steps: int) -> str:
    """The `videomodels train` line that trains ``key`` with ``seed`` as the builder did."""
    words = ["python", "-m", "videomodels", "train", spec_file_name(key), "--data", CACHE_NAME,
             "--out", f"runs/{key.replace('|', '_')}-seed{seed}", "--steps", str(steps), "--seed", str(seed),
             "--lr", f"{training['lr']:g}", "--batch-size", str(training["batch_size"]), "--warmup-steps", str(training["warmup_steps"]),
             "--weight-decay", f"{training['weight_decay']:g}", "--optimizer", training["optimizer"],
             "--threads", str(training["threads"]), "--device", training["device"]]
    return shlex.join(words)


def row(table: Table, entry: Entry) -> dict[str, Any]:
    training = _training(table)
    meta = provenance_of(table) or {}
    steps = table.steps[-1]
    return {
        "key": entry.key,
        "spec": spec_of(entry.key).to_dict(),
        "spec_file": spec_file_name(entry.key),
        "params": entry.params, "macs": entry.macs, "latency_ms": _round(entry.latency_ms),
        "mean_test_top1": _round(entry.mean_test), "mean_val_top1": _round(entry.mean_val),
        "runs": [{"seed": seed,
                  "curve": [{"steps": p.steps, "val_top1": _round(p.val_top1), "test_top1": _round(p.test_top1)} for p in entry.runs[seed].curve],
                  "command": train_command(entry.key, seed, training, steps)}
                 for seed in entry.seeds],
        "data": {"content_hash": meta.get("data", {}).get("content_hash"), "cache": CACHE_NAME, "recipe_commands": recipe_commands(cache=CACHE_NAME)},
        "training": {**training, "steps": steps},
        "reproduce": (f"write 'spec' to {spec_file_name(entry.key)}, rebuild the cache with data.recipe_commands, then run a "
                      f"run's command: its final validation top-1 is the curve's at {steps} steps, within the table's seed noise"),
    }


def random_rows(table: Table, count: int, seed: int) -> list[dict[str, Any]]:
    if not 1 <= count <= len(table):
        raise QueryError(f"--random N must be from 1 to the table's {len(table)} architectures, got {count}")
    keys = random.Random(seed).sample(table.keys, count)
    return [row(table, table[key]) for key in keys]


def key_row(table: Table, key: str) -> dict[str, Any]:
    try:
        parse_key(key)
    except ValueError as error:
        raise QueryError(str(error)) from None
    if key not in table:
        raise QueryError(f"{key!r} is a grid architecture the table does not hold yet ({len(table)} of {GRID_SIZE} trained)")
    return row(table, table[key])


def pareto(table: Table) -> list[dict[str, Any]]:
    return [{"key": e.key, "latency_ms": _round(e.latency_ms), "mean_test_top1": _round(e.mean_test), "params": e.params, "macs": e.macs,
             "seeds": len(e.runs)} for e in table.pareto()]


# -- text output ----------------------------------------------------------------------------------
def _text(kind: str, data: Any) -> str:
    if kind == "summary":
        noise_ = data["noise"]
        lines = [f"{data['table']}: {data['architectures']} of {data['grid_architectures']} architectures, {data['rows']} rows "
                 f"(planned {data['rows_planned']}), steps {data['steps']}",
                 f"seeds {data['seeds']['values']}; architectures by seed count {data['seeds']['architectures_by_seed_count']}",
                 f"best {data['best']['key']} (mean test top-1 {data['best']['mean_test_top1']:.3f}, {data['best']['latency_ms']:.2f} ms); "
                 f"top 1% >= {data['top_thresholds']['top 1%']:.3f}, top 0.1% >= {data['top_thresholds']['top 0.1%']:.3f}",
                 f"data {data['data']['content_hash']}; rebuild the clip cache with:", *[f"  {c}" for c in data["data"]["recipe_commands"]],
                 f"training {data['training']}",
                 f"noise: test top-1 seed std {noise_['test_top1_seed_std']} over {noise_['architectures_with_several_seeds']} architectures"]
        lines += [f"  {name}: {value}" for name, value in noise_.items() if name.startswith("rank_correlation_between_seeds")]
        lines += [f"  rank correlation, {name}: {value}" for name, value in noise_["rank_correlation_between_fidelities"].items()]
        return "\n".join(lines)
    if kind == "pareto":
        return "\n".join(f"{p['latency_ms']:8.2f} ms  {p['mean_test_top1']:.3f}  {p['key']}" for p in data)
    rows = data if isinstance(data, list) else [data]
    lines = []
    for r in rows:
        lines.append(f"{r['key']}: mean test top-1 {r['mean_test_top1']:.3f}, {r['latency_ms']:.2f} ms, {r['params']:,} params")
        for run in r["runs"]:
            curve = ", ".join(f"{p['steps']}: val {p['val_top1']:.3f} test {p['test_top1']:.3f}" for p in run["curve"])
            lines += [f"  seed {run['seed']}: {curve}", f"    {run['command']}"]
    return "\n".join(lines)


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nasbench query", description=__doc__.split("\n\n")[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--summary", action="store_true", help="size, seeds, provenance, the data's recipe, noise")
    what.add_argument("--random", type=int, metavar="N", help="N random rows (with --seed)")
    what.add_argument("--key", metavar="KEY", help="one architecture, e.g. 'f8s20r5|std.1d.c16.cg0'")
    what.add_argument("--pareto", action="store_true", help="the accuracy/latency front, fastest first")
    parser.add_argument("--seed", type=int, default=0, help="seed of --random (default 0)")
    parser.add_argument("--table", type=Path, help="table file (default: the committed one)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exit_:  # argparse has printed the usage and the problem
        return int(exit_.code or 0)
    try:
        table = load_table(args.table or default_path())
        if args.summary:
            kind, data = "summary", summary(table)
        elif args.random is not None:
            kind, data = "rows", random_rows(table, args.random, args.seed)
        elif args.key is not None:
            kind, data = "row", key_row(table, args.key)
        else:
            kind, data = "pareto", pareto(table)
    except (QueryError, TableError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        payload = {"rows": data} if kind == "rows" else ({"front": data} if kind == "pareto" else data)
        print(json.dumps(payload, indent=1))
    else:
        print(_text(kind, data))
    return 0

