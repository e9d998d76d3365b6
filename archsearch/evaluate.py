"""Evaluate one candidate: a self-contained function of (spec, data, budget, seed).

It runs anywhere (a CLI loop, a Celery task on another machine) and returns a
JSON-able dict. Latency is measured first, on the search's latency device (the CPU, or
the GPU: one pass, on that device only), so a child over the runtime budget is
discarded before any training (TVN). Training runs at the low fidelity, and
continues to the high fidelity only when the low score reaches the threshold.

A training that runs out of GPU memory is tried once more at half the batch; a second
failure (or one while measuring latency) makes the candidate ``failed`` with the reason.
Either way the reason is in the result: never lost, never retried forever.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import torch

from videomodels import ArchSpec, analyze, build_model
from videomodels.data import load_cache
from videomodels.profile import example_inputs, measure_latency
from videomodels.robust_latency import LatencyMeasurement, robust_latency
from videomodels.train import TrainConfig, read_checkpoint, train_and_evaluate
from videomodels.train.latency import alone_on, check_latency_device, device_name
from videomodels.train.runtime import free_gpu_memory, is_out_of_memory

from archsearch.curves import CurveWatch, check_step


@dataclass
class EvalBudget:
    low_steps: int = 40
    high_steps: int = 120
    batch_size: int = 16
    lr: float = 0.003
    latency_budget_ms: float | None = None
    latency_threads: int = 1
    latency_runs: int = 5
    num_threads: int = 0
    device: str = "auto"
    curve_stop: float = 0.0  # fraction of low_steps at which the median stopping rule looks (0 = never)
    latency_device: str = "cpu"  # where latency is measured and budgeted: 'cpu' or 'cuda'
    deterministic: bool = False  # bit-for-bit repeatable CUDA training (slower)
    precision: str = "fp32"  # or 'bf16' / 'fp16' autocast

    @classmethod
    def from_config(cls, config) -> "EvalBudget":
        return cls(**{key: getattr(config, key) for key in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# A model this many times over the latency budget on any run is rejected without a median.
GIVE_UP_FACTOR = 3.0
# Val passes per training run: the score needs only the last; a few more draw the curve on the
# model page. Scoring after every epoch cost a tenth of a small candidate's time on a CPU
# (an epoch of the usual small caches is one or two steps) and more on a GPU.
VAL_PASSES = 4
WARMUP_RUNS = 2


def measure_candidate_latency(spec: ArchSpec, *, threads: int, runs: int, analysis=None, give_up_ms: float | None = None,
                              device: str = "cpu", budget_ms: float | None = None) -> LatencyMeasurement:
    """Latency of one clip at batch 1 with freshly initialised weights, on ``device`` ('cpu', or
    'cuda': synchronised, with the GPU alone): rounds of ``runs`` runs, measured again while the
    figure is near or over ``budget_ms`` (videomodels.robust_latency), with its spread."""
    target = check_latency_device(device)
    torch.manual_seed(0)
    model = build_model(spec, device=target, analysis=analysis)
    inputs = example_inputs(spec, device=target)
    with alone_on(target):
        return robust_latency(lambda: measure_latency(model, inputs, warmup=WARMUP_RUNS, runs=runs, threads=threads,
                                                      give_up_ms=give_up_ms), budget_ms=budget_ms)


def candidate_latency(spec: ArchSpec, *, threads: int, runs: int, analysis=None, give_up_ms: float | None = None,
                      device: str = "cpu") -> float:
    """Median latency (ms) of one round of runs, as before: the benchmarks' figure (the NAS table's
    latencies stay comparable across its build); searches decide on ``measure_candidate_latency``."""
    return measure_candidate_latency(spec, threads=threads, runs=runs, analysis=analysis, give_up_ms=give_up_ms, device=device).p50


class OutOfMemory(RuntimeError):
    """A candidate did not fit in GPU memory even at half its batch; the message says where."""


def _train(spec: ArchSpec, data: Any, budget: EvalBudget, steps: int, seed: int, out_dir: Path, init: dict | None, stop,
           watchers=(), *, batch_size: int | None = None):
    config = TrainConfig(
        epochs=None,
        max_steps=steps,
        batch_size=batch_size or budget.batch_size,
        lr=budget.lr,
        seed=seed,
        device=budget.device,
        latency_device=None,  # measured once, before training
        progress=False,
        warmup_steps=min(10, steps // 10),
        deterministic=budget.deterministic,
        precision=budget.precision,
        max_evals=VAL_PASSES,
        clip_memo=True,  # the next candidates of this process sample the same clips
        **({"num_threads": budget.num_threads} if budget.num_threads else {}),
    )
    callbacks = ([stop] if stop is not None else []) + list(watchers)
    return train_and_evaluate(spec, data, config, out_dir=out_dir, init_state_dict=init, callbacks=callbacks)


def _oom_words(error: BaseException) -> str:
    return str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__


def _train_fitting(batch_size: int, what: str, run: Callable[[int], Any]) -> tuple[Any, int, str | None]:
    """``run(batch_size)``, once more at half the batch if it runs out of GPU memory.
    Returns (result, batch used, what happened or None); raises OutOfMemory on a second failure."""
    try:
        return run(batch_size), batch_size, None
    except Exception as error:  # only out-of-memory is handled here
        if not is_out_of_memory(error):
            raise
        first = _oom_words(error)
    free_gpu_memory()
    smaller = batch_size // 2
    if smaller < 1:
        raise OutOfMemory(f"out of GPU memory in {what} at batch {batch_size} ({first})")
    try:
        result = run(smaller)
    except Exception as error:
        if not is_out_of_memory(error):
            raise
        free_gpu_memory()
        raise OutOfMemory(f"out of GPU memory in {what} at batch {batch_size}, and again at batch {smaller} "
                          f"({_oom_words(error)})") from None
    return result, smaller, f"out of GPU memory in {what} at batch {batch_size} ({first}); trained at batch {smaller}"


def data_classes(data: Any) -> int | None:
    """The class count of a prepared clip cache (None for anything else)."""
    if isinstance(data, (str, Path)) and (Path(data) / "index.json").exists():
        return load_cache(data).num_classes
    return None


def edge_weights_of(model) -> list[dict[str, Any]]:
    """Learned post-sigmoid weights of every edge into a multi-input node."""
    fused = set(getattr(model, "fusions", {}).keys())
    return [
        {"source": edge.source, "target": edge.target, "weight": edge.weight}
        for edge in model.edge_weights()
        if edge.target in fused
    ] if fused else []


def evaluate_candidate(
    spec: dict[str, Any],
    data: Any,
    budget: EvalBudget | dict[str, Any],
    seed: int,
    *,
    out_dir: str | Path,
    init_checkpoint: str | None = None,
    promote_threshold: float | None = None,
    curve_threshold: float | None = None,
    stop: Callable | None = None,
    watchers: Iterable[Any] = (),
) -> dict[str, Any]:
    """``watchers``: more training callbacks (e.g. live edge weights). ``curve_threshold``: the
    population's median training loss at the check step (``budget.curve_stop``); a candidate
    above it stops there. Returns ``{"status": "evaluated"|"rejected", ...}`` with accuracy,
    latency and files."""
    started = time.perf_counter()
    budget = budget if isinstance(budget, EvalBudget) else EvalBudget(**budget)
    arch = ArchSpec.from_dict(spec)
    # Analysed with the data's class count, as the training loop does: one memoised
    # analysis serves validation, the latency model and training.
    analysis = analyze(arch, num_classes=data_classes(data))
    latency_started = time.perf_counter()
    give_up = GIVE_UP_FACTOR * budget.latency_budget_ms if budget.latency_budget_ms is not None else None
    where = budget.latency_device
    result: dict[str, Any] = {"params": analysis.params, "macs": analysis.macs, "latency_device": where}
    try:
        measured = measure_candidate_latency(arch, threads=budget.latency_threads, runs=budget.latency_runs, analysis=analysis,
                                             give_up_ms=give_up, device=where, budget_ms=budget.latency_budget_ms)
    except Exception as error:  # only out-of-memory is the candidate's own result here
        if not is_out_of_memory(error):
            raise
        free_gpu_memory()
        return {**result, "status": "failed", "reason": f"out of GPU memory measuring latency at batch 1 ({_oom_words(error)})",
                "seconds": time.perf_counter() - started, "timing": {"latency_s": time.perf_counter() - latency_started}}
    timing = {"latency_s": time.perf_counter() - latency_started}
    latency = measured.ms
    result.update(latency_ms=latency, latency_spread=measured.to_dict(), latency_hardware=device_name(where))
    if budget.latency_budget_ms is not None and latency > budget.latency_budget_ms:
        reason = (f"latency {latency:.1f} ms ({where}, lower quartile of {measured.runs} runs in {measured.rounds} rounds) over the "
                  f"{budget.latency_budget_ms:g} ms budget")
        seconds = time.perf_counter() - started
        timing["overhead_s"] = seconds - timing["latency_s"]
        return {**result, "status": "rejected", "reason": reason, "seconds": seconds, "timing": timing}

    out = Path(out_dir)
    init = None
    if init_checkpoint and Path(init_checkpoint).exists():
        init = read_checkpoint(init_checkpoint)["state_dict"]
    watchers = list(watchers)
    at = check_step(budget.low_steps, budget.curve_stop)
    curve = CurveWatch(at, curve_threshold) if at is not None else None
    notes: list[str] = []
    try:
        low, batch, note = _train_fitting(budget.batch_size, "training", lambda size: _train(
            arch, data, budget, budget.low_steps, seed, out / "low", init, stop, watchers + ([curve] if curve else []),
            batch_size=size))
        notes += [note] if note else []
        inherited = int((low.inherited or {}).get("inherited", 0))
        final, fidelity = low, "low"
        stopped_early = curve is not None and curve.stopped
        if stopped_early:
            fidelity = "stopped"
        elif promote_threshold is not None and budget.high_steps > budget.low_steps and (low.score or 0.0) >= promote_threshold:
            state = {k: v.detach().clone() for k, v in low.model.state_dict().items()}
            final, batch, note = _train_fitting(batch, "the longer training", lambda size: _train(
                arch, data, budget, budget.high_steps - budget.low_steps, seed + 1, out / "high", state, stop, watchers,
                batch_size=size))
            notes += [note] if note else []
            fidelity = "high"
    except OutOfMemory as error:
        reason = "; ".join([*notes, str(error)])
        seconds = time.perf_counter() - started
        return {**result, "status": "failed", "reason": reason, "seconds": seconds, "timing": {**timing, "overhead_s": seconds - timing["latency_s"]}}
    runs = [low] if final is low else [low, final]
    # Setup: opening the data, building the model, inheriting weights; train: steps and val passes.
    timing["train_s"] = sum(r.train_time_s for r in runs)
    timing["setup_s"] = sum(r.wall_time_s - r.train_time_s for r in runs)
    seconds = time.perf_counter() - started
    timing["overhead_s"] = seconds - timing["latency_s"] - timing["train_s"] - timing["setup_s"]
    result.update(
        status="evaluated",
        accuracy=float(final.score or 0.0),
        low_accuracy=float(low.score or 0.0),
        fidelity=fidelity,
        steps=low.steps + (final.steps if final is not low else 0),
        metrics={**{k: v for k, v in final.metrics.items() if isinstance(v, (int, float))},
                 **({"curve_loss": curve.loss_at_check} if curve and curve.loss_at_check is not None else {})},
        curve_loss=curve.loss_at_check if curve else None,
        checkpoint=str(out / ("high" if fidelity == "high" else "low") / "checkpoint.pt"),
        edge_weights=edge_weights_of(final.model),
        inherited_tensors=inherited,
        seconds=seconds,
        timing=timing,
    )
    if notes:  # it ran out of GPU memory and trained at a smaller batch: its page says so
        result["reason"] = "; ".join(notes)
        result["metrics"]["batch_size"] = batch
    return result
