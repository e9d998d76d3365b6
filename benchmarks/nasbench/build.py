"""Build the table: train every grid architecture once (and some three times) and record it.

One run per (architecture, seed) at the largest step count, with validation and test top-1
and loss recorded at every fidelity on the way (NAS-Bench-201's curves), the seconds each part
took, params, multiply-adds and batch-1 CPU latency. Rows go to an append-only JSON-lines file,
one flushed line per finished run, so a build killed at any moment resumes where it stopped,
from any clone that has the file. Worker processes each keep the clip cache open and train
one run after another (no process start per row).
"""
from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import platform
import random
import socket
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

import torch
from torch.utils.data import DataLoader

from videomodels.data import ClipDataset
from videomodels.train import TrainConfig, train_and_evaluate
from videomodels.train.callbacks import TrainCallback
from videomodels.train.loop import evaluate
from videomodels.train.specs import streams_for_spec
from videomodels.train.datasets import DataBundle

from archsearch.evaluate import candidate_latency

from benchmarks.common import cpu_model
from benchmarks.nasbench.data import RECIPE, build_cache, cache_hash
from benchmarks.nasbench.space import enumerate_grid, spec_of

ROOT = Path(__file__).resolve().parents[2]
TABLE = Path(__file__).resolve().parent / "table.jsonl"
WORK = ROOT / "var" / "nasbench"
# Training settings of every row (what `python -m videomodels train` is given to reproduce one).
TRAINING = {"optimizer": "adamw", "lr": 0.01, "weight_decay": 1e-4, "batch_size": 16, "warmup_steps": 10,
            "schedule": "cosine", "threads": 1, "device": "cpu"}
# Fidelities (optimizer steps) at which validation and test are recorded; the run trains to the last.
STEPS = (12, 36, 108)
EXTRA_SEEDS = (1, 2)
EXTRA_SEED_SHARE = 0.10  # of the architectures, trained with every seed of EXTRA_SEEDS too
ORDER_SEED = 20261204  # any prefix of the job order is a uniform sample of the grid
LATENCY_RUNS = 7
# Hand-designed networks that read what the table's data holds (RGB at 8x32²; no optical flow),
# trained with the table's steps at each of these learning rates (the table's own is the middle one).
BASELINES = ("baseline-2d", "baseline-r2plus1d", "baseline-r3d", "tvn-small")
BASELINE_LRS = (0.003, 0.01, 0.03)
BASELINE_TABLE = TABLE.with_name("baselines.jsonl")


def jobs() -> list[tuple[str, int]]:
    """(architecture key, seed) for every row of the finished table, in build order."""
    keys = [arch.key() for arch in enumerate_grid()]
    rng = random.Random(ORDER_SEED)
    extra = set(rng.sample(keys, round(len(keys) * EXTRA_SEED_SHARE)))
    order = [(key, 0) for key in keys] + [(key, seed) for key in sorted(extra) for seed in EXTRA_SEEDS]
    rng.shuffle(order)
    return order


def baseline_jobs() -> list[tuple[str, float, int]]:
    """(preset, learning rate, seed) of every hand-designed row: each baseline at each rate and
    seed, so that claims compare the table against baselines at their best learning rate."""
    return [(name, lr, seed) for name in BASELINES for lr in BASELINE_LRS for seed in (0, *EXTRA_SEEDS)]


def read_rows(path: Path = TABLE) -> list[dict[str, Any]]:
    """Every complete row of a table file (a torn last line from a kill is left out)."""
    if not path.exists():
        return []
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.endswith("\n"):
                rows.append(json.loads(line))
    return rows


def packed(path: Path) -> Path:
    """The committed, gzip-compressed form of a table file (``table.jsonl.gz``)."""
    return path.with_name(path.name + ".gz")


def unpack(path: Path) -> None:
    """A clone holds the compressed table only: the builder appends to a plain working copy of it,
    taken again when the compressed one is newer (pulled from another machine's build)."""
    source = packed(path)
    if source.exists() and (not path.exists() or source.stat().st_mtime_ns > path.stat().st_mtime_ns):
        with gzip.open(source, "rb") as rows:
            _replace(path, rows.read())


def pack(path: Path) -> None:
    """Write the compressed copy that is committed; byte-identical for identical rows (no name or
    time in the gzip header), so an unchanged table is no change to commit."""
    if path.exists():
        _replace(packed(path), gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _drop_torn_tail(path: Path) -> None:
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])


# Seconds are CPU seconds of the (one-thread) training process: on a machine shared with other
# work, wall-clock time would charge each row whatever share of the cores its neighbours left.
CLOCK = time.process_time


class _Checkpoints(TrainCallback):
    """Validation and test metrics at each fidelity, timed apart from training."""

    def __init__(self, loaders: dict[str, DataLoader], bundle_like: DataBundle, device: torch.device):
        self.loaders, self.bundle, self.device = loaders, bundle_like, device
        self.model = None
        self.points: list[dict[str, Any]] = []
        self.eval_seconds = 0.0
        self.started = CLOCK()
        self.last_loss: list[float] = []

    def on_model(self, model):
        self.model = model
        self.started = CLOCK()

    def on_step(self, step, epoch, loss, lr):
        self.last_loss.append(loss)
        if step not in STEPS:
            return None
        reached = CLOCK()
        point = {"steps": step, "train_s": reached - self.started - self.eval_seconds,
                 "train_loss": sum(self.last_loss[-8:]) / len(self.last_loss[-8:])}
        for split, loader in self.loaders.items():
            began = CLOCK()
            metrics = evaluate(self.model, loader, self.bundle, self.device)
            point[f"{split}_top1"] = float(metrics["top1"])
            point[f"{split}_loss"] = float(metrics["loss"])
            point[f"{split}_eval_s"] = CLOCK() - began
        self.eval_seconds += CLOCK() - reached
        self.points.append(point)
        return None


def _eval_loader(cache, split: str, spec) -> DataLoader:
    dataset = ClipDataset(cache, split, streams_for_spec(spec), train=False, seed=0)
    # Its own generator: drawing from the global one would change the training run it watches.
    return DataLoader(dataset, batch_size=TRAINING["batch_size"], shuffle=False, generator=torch.Generator().manual_seed(0))


def train_row(key: str, seed: int, cache_dir: str) -> dict[str, Any]:
    """One row: train grid architecture ``key`` with ``seed`` to the last fidelity."""
    from videomodels.data import load_cache

    spec = spec_of(key, num_classes=load_cache(cache_dir).num_classes)
    return {"key": key, **_train(spec, seed, cache_dir, TRAINING["lr"])}


def train_baseline_row(name: str, lr: float, seed: int, cache_dir: str) -> dict[str, Any]:
    """One hand-designed network, trained exactly as a grid row but at learning rate ``lr``."""
    from videomodels.presets import get_preset

    return {"baseline": name, "lr": lr, **_train(get_preset(name), seed, cache_dir, lr)}


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _train(spec, seed: int, cache_dir: str, lr: float) -> dict[str, Any]:
    from videomodels.data import load_cache

    torch.set_num_threads(TRAINING["threads"])
    cache = load_cache(cache_dir)
    device = torch.device(TRAINING["device"])
    loaders = {split: _eval_loader(cache, split, spec) for split in ("val", "test")}
    bundle = DataBundle(None, None, cache.num_classes, cache.class_names, cache.multilabel)
    watch = _Checkpoints(loaders, bundle, device)
    config = TrainConfig(epochs=None, max_steps=STEPS[-1], batch_size=TRAINING["batch_size"], lr=lr,
                         weight_decay=TRAINING["weight_decay"], optimizer=TRAINING["optimizer"], warmup_steps=TRAINING["warmup_steps"],
                         schedule=TRAINING["schedule"], seed=seed, num_threads=TRAINING["threads"], device=TRAINING["device"],
                         latency_device=None, progress=False)
    started, wall_started = CLOCK(), time.perf_counter()
    result = train_and_evaluate(spec, cache_dir, config, callbacks=[watch])
    total = CLOCK() - started
    latency_started = CLOCK()
    latency = candidate_latency(spec, threads=1, runs=LATENCY_RUNS)
    latency_s = CLOCK() - latency_started
    return {
        "seed": seed, "params": result.params, "macs": result.macs,
        "latency_ms": latency, "latency_s": latency_s,
        "curve": watch.points, "final_val_top1": float(result.metrics["top1"]), "steps": result.steps,
        "stop_reason": result.stop_reason,
        "setup_s": max(0.0, total - watch.points[-1]["train_s"] - watch.eval_seconds) if watch.points else total,
        "cpu_s": total, "wall_s": time.perf_counter() - wall_started,
        "host": socket.gethostname(), "commit": _commit(), "torch": torch.__version__,
        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _start_worker() -> None:
    torch.set_num_threads(TRAINING["threads"])


def provenance(cache: Path, rows: list[dict], baseline_rows: list[dict]) -> dict[str, Any]:
    commit = _commit()
    from benchmarks.common import machine
    from benchmarks.nasbench.space import BLOCK_COUNTS, BLOCK_FIXED, BLOCK_GRID, FLOW, FRAMES, SIZES, SPAN

    return {
        "format": "video-nasbench/1",
        "data": {"recipe": RECIPE, "content_hash": cache_hash(cache)},
        "grid": {"frames": FRAMES, "span": SPAN, "sizes": SIZES, "flow_iterations": FLOW, "block_counts": BLOCK_COUNTS,
                 "block_grid": {k: list(v) for k, v in BLOCK_GRID.items()}, "block_fixed": BLOCK_FIXED},
        "training": TRAINING, "steps": STEPS,
        "baselines": {"presets": BASELINES, "lrs": BASELINE_LRS, "rows": len(baseline_rows),
                      "rows_planned": len(baseline_jobs())}, "extra_seeds": EXTRA_SEEDS, "extra_seed_share": EXTRA_SEED_SHARE,
        "latency": {"batch": 1, "threads": 1, "statistic": "median", "runs": LATENCY_RUNS, "warmup": 2},
        "builder": {"commit": commit, "machine": machine(), "python": platform.python_version(), "torch": torch.__version__},
        "rows": len(rows), "rows_planned": len(jobs()),
        "hosts": sorted({row["host"] for row in rows}),
        "first_row": min((row["finished"] for row in rows), default=None),
        "last_row": max((row["finished"] for row in rows), default=None),
    }


def build(*, workers: int, limit: int | None = None, table: Path = TABLE, baselines: Path = BASELINE_TABLE,
          work: Path = WORK, cache: Path | None = None, log=print) -> int:
    """Train the rows the table lacks (at most ``limit``), hand-designed baselines first;
    returns how many were added. ``cache``: an already prepared clip cache instead of the recipe's
    (tests); one worker trains in this process."""
    cache = cache or build_cache(work)
    digest = cache_hash(cache)
    meta_path = table.with_name("provenance.json")
    if meta_path.exists():
        recorded = json.loads(meta_path.read_text())["data"]["content_hash"]
        if recorded != digest:
            raise SystemExit(f"the clip cache rebuilt here has content hash {digest[:12]}, but the table was measured on "
                             f"{recorded[:12]}: rows would not be comparable (see `query --summary` for the recipe)")
    unpack(table)
    for path in (table, baselines):
        _drop_torn_tail(path)
    if not meta_path.exists():
        _write_provenance(meta_path, cache, table, baselines)
    done = {(row["key"], row["seed"]) for row in read_rows(table)}
    done_baselines = {(row["baseline"], row["lr"], row["seed"]) for row in read_rows(baselines)}
    todo = [(train_baseline_row, job, baselines) for job in baseline_jobs() if job not in done_baselines]
    todo += [(train_row, job, table) for job in jobs() if job not in done]
    todo = todo[: limit if limit is not None else None]
    log(f"table: {len(done)} rows and {len(done_baselines)} baseline rows; {len(todo)} to train now with "
        f"{workers} worker(s); data {digest[:12]}")
    added = 0
    started = time.perf_counter()
    for path, row in _results(todo, workers, str(cache)):
        _append(path, row)
        added += 1
        if added % 25 == 0:
            rate = (time.perf_counter() - started) / added
            log(f"{len(done) + added} rows; {rate:.1f} s a row over {workers} worker(s); "
                f"{(len(todo) - added) * rate / 3600:.1f} h to go")
            _write_provenance(meta_path, cache, table, baselines)
            pack(table)
    _write_provenance(meta_path, cache, table, baselines)
    pack(table)
    return added


def _results(todo: list, workers: int, cache: str) -> Iterator[tuple[Path, dict[str, Any]]]:
    """(table file, row) as runs finish, in this process with one worker."""
    if workers <= 1:
        for function, args, path in todo:
            yield path, function(*args, cache)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker) as pool:
        queue = iter(todo)
        pending: dict = {}

        def submit() -> None:
            item = next(queue, None)
            if item is not None:
                function, args, path = item
                pending[pool.submit(function, *args, cache)] = path

        for _ in range(2 * workers):  # two runs queued per worker: none waits for the parent
            submit()
        while pending:
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in finished:
                yield pending.pop(future), future.result()
                submit()


def _append(path: Path, row: dict[str, Any]) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(row, separators=(",", ":")) + "\n")
        out.flush()
        os.fsync(out.fileno())


def _write_provenance(path: Path, cache: Path, table: Path, baselines: Path) -> None:
    """Rewritten as rows land, so a partial table committed at any moment says what it is."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(provenance(cache, read_rows(table), read_rows(baselines)), indent=1) + "\n")
    os.replace(tmp, path)


LATENCY_TABLE = TABLE.with_name("latency.jsonl")
LATENCY_PASS_RUNS = 21


def measure_latencies(*, table: Path = LATENCY_TABLE, limit: int | None = None, log=print) -> int:
    """Batch-1 CPU latency of every grid architecture and every hand-designed baseline, measured
    again in one process, one at a time, with more runs. Rows measure latency beside a neighbour
    training on the other core, and perhaps on another machine than this pass: run it on an
    otherwise idle machine, and claims compare the pass's figures only with each other."""
    from videomodels.presets import get_preset

    _drop_torn_tail(table)
    done = {(row.get("baseline", False), row["key"]) for row in read_rows(table)}
    # Baselines first: a pass stopped early still leaves claim 2 a like-for-like reference.
    wanted = [(True, name) for name in BASELINES] + [(False, arch.key()) for arch in enumerate_grid()]
    todo = [item for item in wanted if item not in done][: limit if limit is not None else None]
    log(f"latency: {len(done)} measured, {len(todo)} to measure")
    torch.set_num_threads(1)
    cpu = cpu_model()
    for baseline, key in todo:
        timings = sorted(_latency_runs(get_preset(key) if baseline else spec_of(key)))
        _append(table, {"key": key, **({"baseline": True} if baseline else {}), "latency_ms": timings[len(timings) // 2],
                        "p10_ms": timings[len(timings) // 10], "p90_ms": timings[(9 * len(timings)) // 10], "runs": len(timings),
                        "load": os.getloadavg()[0], "host": socket.gethostname(), "cpu": cpu,
                        "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    return len(todo)


def _latency_runs(spec) -> list[float]:
    from videomodels import build_model
    from videomodels.profile import example_inputs, measure_latency

    torch.manual_seed(0)
    return measure_latency(build_model(spec, device="cpu"), example_inputs(spec), warmup=3, runs=LATENCY_PASS_RUNS, threads=1)


def default_workers() -> int:
    if torch.cuda.is_available():
        return 4 * torch.cuda.device_count()
    return max(1, os.cpu_count() or 1)


def main(argv: Iterable[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.nasbench build", description=__doc__)
    parser.add_argument("--workers", type=int, default=default_workers(), help="training processes (default: one per core)")
    parser.add_argument("--limit", type=int, help="train at most this many rows now")
    parser.add_argument("--latency", action="store_true",
                        help="instead of training: measure every architecture's latency again, one at a time (run on an idle machine)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.limit is not None and args.limit < 0:
        parser.error("--limit must be >= 0")
    if args.latency:
        print(f"measured {measure_latencies(limit=args.limit, log=lambda m: print(m, file=sys.stderr, flush=True))} architectures")
        return 0
    added = build(workers=max(1, args.workers), limit=args.limit, log=lambda m: print(m, file=sys.stderr, flush=True))
    print(f"added {added} rows")
    return 0
