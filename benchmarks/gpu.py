"""The gpu section of ``make bench``: training and latency on a CUDA GPU (issue 17).

Three tables, measured where CUDA is available (elsewhere the section is one line saying
it was skipped):

1. milliseconds per training step of six models at their issue-17 inputs under each setting
   (deterministic; cuDNN heuristics; autotuning + TF32, the default; bf16 and fp16 autocast),
   with the first step apart (it pays for autotuning) and the number of steps after which
   autotuning has paid for itself;
2. candidates per hour with 1, 2, 4 and 8 training workers on one GPU: real search candidates
   (TVN space, the motion benchmark at 8x32², ``archsearch.evaluate.evaluate_candidate`` with the
   studio's settings), each worker a process with its share of the GPU's memory, started together;
3. TVN-1..4 latency at batch 1 on the GPU, measured as a search measures it
   (``candidate_latency``: synchronised, warm-up, median, the GPU alone), beside the published
   GPU figures.

Every function takes the device, so the tests run them on the CPU at tiny sizes.
``python -m benchmarks.gpu candidates ...`` is one worker of table 2 (a process of its own).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from videomodels import with_input_size
from videomodels.train import TrainConfig, resolve_spec, train_and_evaluate
from videomodels.train.runtime import AUTOTUNE_MIN_STEPS

from benchmarks.common import ROOT, table

# (preset, frames, size, batch): the inputs and batches of issue 17's table.
MODELS = (("tvn-1", 2, 224, 16), ("tvn-2", 2, 256, 16), ("evanet-1", 16, 112, 8), ("assemblenet-50", 16, 112, 4),
          ("baseline-r3d", 16, 112, 16), ("tvn-small", 8, 32, 16))
SETTINGS = {
    "deterministic": {"deterministic": True},
    "heuristics": {"autotune": False},
    "autotune+TF32 (default)": {"autotune": True},
    "bf16": {"autotune": True, "precision": "bf16"},
    "fp16": {"autotune": True, "precision": "fp16"},
}
WORKER_COUNTS = (1, 2, 4, 8)
TVNS = ("tvn-1", "tvn-2", "tvn-3", "tvn-4")
# Published GPU runtimes (Google AI blog "Video Architecture Search", 2019; TVN-3/-4 not given,
# the AutoML'20 paper says all run "at less than 20 milliseconds per video on a GPU").
PUBLISHED_GPU_MS = {"tvn-1": 10.0, "tvn-2": 13.0}
MEMORY_FOR_WORKERS = 0.9


class RandomClips(Dataset):
    """A fixed pool of random clips shaped for ``spec`` (what a step costs does not depend on pixels)."""

    def __init__(self, spec, count: int, num_classes: int = 10, seed: int = 0):
        generator = torch.Generator().manual_seed(seed)
        self.num_classes = num_classes
        self.items = [({s.id: torch.randn((s.channels, s.frames, s.size, s.size), generator=generator) for s in spec.inputs},
                       torch.tensor(i % num_classes)) for i in range(count)]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int):
        return self.items[index]


class StepClock:
    """Wall time of every optimizer step, synchronised on a GPU so it is the step's, not its launch's."""

    def __init__(self, device: str):
        self.cuda = torch.device(device).type == "cuda"
        self.times: list[float] = []
        self.last = 0.0

    def _now(self) -> float:
        if self.cuda:
            torch.cuda.synchronize()
        return time.perf_counter()

    def on_train_start(self, info) -> None:
        self.last = self._now()

    def on_epoch_start(self, epoch: int) -> None:
        self.last = self._now()

    def on_step(self, step, epoch, loss, lr) -> None:
        now = self._now()
        self.times.append((now - self.last) * 1000.0)
        self.last = now


def step_times(name: str, frames: int, size: int, batch: int, setting: str, *, device: str, steps: int = 30,
               warmup: int = 5, threads: int | None = None) -> dict[str, Any]:
    """ms per training step of preset ``name`` at frames x size², batch ``batch``, under ``setting``:
    the first step, and the median of the steps after ``warmup``."""
    spec = with_input_size(resolve_spec(name), frames=frames, size=size)
    data = (RandomClips(spec, batch * 4, seed=0), RandomClips(spec, batch, seed=1))
    clock = StepClock(device)
    config = TrainConfig(epochs=None, max_steps=steps, batch_size=batch, device=device, latency_device=None, progress=False,
                         eval_every_epoch=False, **({"num_threads": threads} if threads else {}), **SETTINGS[setting])
    result = train_and_evaluate(spec, data, config, callbacks=[clock])
    steady = clock.times[min(warmup, len(clock.times) - 1):]
    return {"first_ms": clock.times[0], "step_ms": statistics.median(steady), "steps": len(clock.times),
            "input": f"{frames}x{size}², batch {batch}", "runtime": result.runtime}


def break_even(heuristics: dict, autotuned: dict) -> float | None:
    """Steps after which autotuning has paid for its first step (None: it never does)."""
    saving = heuristics["step_ms"] - autotuned["step_ms"]
    cost = autotuned["first_ms"] - heuristics["first_ms"]
    if saving <= 0:
        return None
    return max(0.0, cost / saving)


# ---------------------------------------------------------------------- candidates per hour
def _candidate_loop(args) -> int:
    """One training worker of table 2: evaluate ``--count`` candidates once every worker is ready."""
    from archsearch.engine import candidate_rng
    from archsearch.evaluate import EvalBudget, evaluate_candidate
    from archsearch.spaces import SpaceConfig, make_space
    from videomodels.data import load_cache
    from videomodels.train.runtime import limit_gpu_memory

    torch.set_num_threads(1)
    device = torch.device(args.device)
    if device.type == "cuda":
        limit_gpu_memory(args.memory_share)
        torch.zeros(1, device=device)  # CUDA up before the clock starts, as in a worker that trained before
    cache = load_cache(args.cache)
    space = make_space("tvn", SpaceConfig(num_classes=cache.num_classes, frames=cache.frames, size=cache.size,
                                          max_params=2_000_000))
    specs = [space.sample(candidate_rng(1000 + args.seed, i)).to_dict() for i in range(args.count)]
    budget = EvalBudget(low_steps=args.steps, high_steps=0, batch_size=args.batch, device=args.device, num_threads=1,
                        latency_device="cuda" if device.type == "cuda" else "cpu", latency_runs=5)
    Path(args.ready).write_text("ready")
    while not Path(args.go).exists():
        time.sleep(0.01)
    started = time.time()
    statuses, seconds = [], []
    with tempfile.TemporaryDirectory(prefix="bench-gpu-") as out:
        for index, spec in enumerate(specs):
            result = evaluate_candidate(spec, args.cache, budget, args.seed, out_dir=Path(out) / str(index))
            statuses.append(result["status"])
            seconds.append(result["seconds"])
    print(json.dumps({"started": started, "ended": time.time(), "statuses": statuses, "seconds": seconds}))
    return 0


def candidates_per_hour(workers: int, *, device: str, cache: Path, per_worker: int = 6, steps: int = 100, batch: int = 16,
                        timeout: float = 1800) -> dict[str, Any]:
    """Candidates per hour with ``workers`` processes training side by side on ``device`` (all on
    one GPU: each gets 1/workers of 90% of its memory), started together once all are ready."""
    with tempfile.TemporaryDirectory(prefix="bench-gpu-barrier-") as barrier:
        go = Path(barrier) / "go"
        procs = []
        for index in range(workers):
            command = [sys.executable, "-m", "benchmarks.gpu", "candidates", "--cache", str(cache), "--count", str(per_worker),
                       "--steps", str(steps), "--batch", str(batch), "--device", device, "--seed", str(index),
                       "--memory-share", f"{MEMORY_FOR_WORKERS / workers:.4f}", "--ready", str(Path(barrier) / f"ready-{index}"),
                       "--go", str(go)]
            procs.append(subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True))
        deadline = time.monotonic() + timeout
        while sum(Path(barrier, f"ready-{i}").exists() for i in range(workers)) < workers:
            failed = [p for p in procs if p.poll() not in (None, 0)]
            if failed or time.monotonic() > deadline:
                for p in procs:
                    p.kill()
                raise RuntimeError(f"a benchmark worker did not start: {failed[0].stderr.read()[-2000:] if failed else 'timeout'}")
            time.sleep(0.05)
        go.write_text("go")
        outputs = [p.communicate(timeout=max(1.0, deadline - time.monotonic())) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        if proc.returncode != 0:
            raise RuntimeError(f"a benchmark worker failed ({proc.returncode}): {err[-2000:]}")
    reports = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    wall = max(r["ended"] for r in reports) - min(r["started"] for r in reports)
    count = sum(len(r["statuses"]) for r in reports)
    seconds = [s for r in reports for s in r["seconds"]]
    return {"workers": workers, "candidates": count, "wall_s": wall, "per_hour": count / wall * 3600,
            "median_candidate_s": statistics.median(seconds), "evaluated": sum(r["statuses"].count("evaluated") for r in reports)}


# ---------------------------------------------------------------------- TVN latency
def tvn_latency(*, device: str, names=TVNS, runs: int = 30, size: int | None = None, frames: int | None = None) -> list[dict]:
    """Batch-1 latency of each TVN at its native input (or at ``frames`` x ``size``), measured as
    the search measures a candidate on ``device``."""
    from archsearch.evaluate import candidate_latency

    rows = []
    for name in names:
        spec = with_input_size(resolve_spec(name), frames=frames, size=size)
        ms = candidate_latency(spec, threads=1, runs=runs, device=device)
        stream = spec.inputs[0]
        rows.append({"model": name, "input": f"{stream.frames}x{stream.size}²", "ms": ms, "published_ms": PUBLISHED_GPU_MS.get(name)})
    return rows


# ---------------------------------------------------------------------- the section
def skipped_line() -> str:
    return (f"## GPU\n\nSkipped: no CUDA GPU on this machine (torch {torch.__version__}); "
            "run `make bench` on a GPU machine for this section.\n")


def render(steps: dict, throughput: list[dict], latency: list[dict], gpu: str, quick: bool) -> str:
    names = list(SETTINGS)
    rows = []
    for model, measured in steps.items():
        cells = {setting: cell for setting, cell in measured.items() if "error" not in cell}
        if not cells:
            rows.append([model, "–", *["failed" for _ in names], "–", "–", "–", "–"])
            continue
        fastest = min((cells[s]["step_ms"], s) for s in names if s in cells)[1]
        even = break_even(cells["heuristics"], cells["autotune+TF32 (default)"]) if {"heuristics", "autotune+TF32 (default)"} <= set(cells) else None
        rows.append([model, next(iter(cells.values()))["input"],
                     *[f"{cells[s]['step_ms']:.1f}" if s in cells else "–" for s in names],
                     f"{cells['deterministic']['step_ms'] / cells['autotune+TF32 (default)']['step_ms']:.1f}x"
                     if {"deterministic", "autotune+TF32 (default)"} <= set(cells) else "–",
                     f"{cells['autotune+TF32 (default)']['first_ms']:.0f}" if "autotune+TF32 (default)" in cells else "–",
                     "never" if even is None else f"{even:.0f}", fastest])
    lines = [f"## GPU: training speed, workers per GPU, latency ({gpu})", "",
             "### Milliseconds per training step", "",
             "Median step after 5 warm-up steps (synchronised), random clips of the given input; the first autotuned step "
             "apart. *Autotuning pays after*: steps for its first-step cost to be won back against cuDNN's heuristics "
             f"(runs shorter than `AUTOTUNE_MIN_STEPS` = {AUTOTUNE_MIN_STEPS} steps train without it).", "",
             table(["model", "input", *names, "deterministic / default", "first autotuned step ms", "autotuning pays after",
                    "fastest"], rows), ""]
    if throughput:
        base = throughput[0]["per_hour"]
        lines += ["### Candidates per hour on one GPU", "",
                  "Real TVN candidates on the motion benchmark (8x32², batch 16, latency on the GPU), each worker a process "
                  "with its share of the GPU's memory, all started together.", "",
                  table(["workers", "candidates", "wall s", "candidates per hour", "vs 1 worker", "median s per candidate"],
                        [[t["workers"], t["candidates"], t["wall_s"], t["per_hour"], f"{t['per_hour'] / base:.2f}x",
                          t["median_candidate_s"]] for t in throughput]), ""]
    if latency:
        lines += ["### TVN latency at batch 1 on the GPU", "",
                  "As a search measures a candidate with `--latency-device cuda`: fresh weights, BatchNorm folded, "
                  "synchronised, 2 warm-up runs, median, the GPU alone. Published: Google AI blog (2019); TVN-3/-4 were "
                  "only said to run under 20 ms.", "",
                  table(["model", "input", "ms here", "published ms", "here / published"],
                        [[r["model"], r["input"], r["ms"], r["published_ms"],
                          f"{r['ms'] / r['published_ms']:.2f}" if r["published_ms"] else "–"] for r in latency]), ""]
    if quick:
        lines.append("_Quick mode: few steps and candidates; the figures only show the section runs._\n")
    return "\n".join(lines)


def run(quick: bool = False, *, device: str | None = None) -> tuple[str, dict]:
    if device is None:
        if not torch.cuda.is_available():
            return skipped_line(), {"skipped": "no CUDA GPU"}
        device = "cuda"
    from benchmarks.common import motion_cache

    gpu = torch.cuda.get_device_name(0) if device == "cuda" else "CPU"
    steps: dict[str, dict] = {}
    for model, frames, size, batch in MODELS:
        steps[model] = {}
        for setting in SETTINGS:
            try:
                steps[model][setting] = step_times(model, frames, size, batch, setting, device=device,
                                                   steps=12 if quick else 40, warmup=2 if quick else 5)
            except Exception as error:  # noqa: BLE001 - e.g. out of memory at this batch: the cell says so
                steps[model][setting] = {"step_ms": float("nan"), "first_ms": float("nan"), "error": str(error)[:200]}
    cache = motion_cache(clips_per_class=24, frames=8, size=32, flow=False)
    throughput = [candidates_per_hour(w, device=device, cache=cache, per_worker=2 if quick else 6, steps=20 if quick else 100)
                  for w in WORKER_COUNTS]
    latency = tvn_latency(device=device, runs=10 if quick else 50)
    data = {"device": gpu, "steps": steps, "throughput": throughput, "latency": latency}
    return render(steps, throughput, latency, gpu, quick), data


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu")
    sub = parser.add_subparsers(dest="command")
    one = sub.add_parser("candidates", help="one training worker of the candidates-per-hour table")
    one.add_argument("--cache", required=True)
    one.add_argument("--count", type=int, required=True)
    one.add_argument("--steps", type=int, required=True)
    one.add_argument("--batch", type=int, required=True)
    one.add_argument("--device", required=True)
    one.add_argument("--seed", type=int, required=True)
    one.add_argument("--memory-share", type=float, required=True)
    one.add_argument("--ready", required=True)
    one.add_argument("--go", required=True)
    section = sub.add_parser("section", help="the whole section, printed")
    section.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "candidates":
        return _candidate_loop(args)
    text, _ = run(quick=getattr(args, "quick", False))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
