"""Evaluate one candidate: a self-contained function of (spec, data, budget, seed).

It runs anywhere (a CLI loop, a Celery task on another machine) and returns a
JSON-able dict. Latency is measured first, so a child over the runtime budget is
discarded before any training (TVN). Training runs at the low fidelity, and
continues to the high fidelity only when the low score reaches the threshold.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import torch

from videomodels import ArchSpec, analyze, build_model
from videomodels.data import load_cache
from videomodels.profile import example_inputs, measure_latency
from videomodels.train import TrainConfig, read_checkpoint, train_and_evaluate

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

    @classmethod
    def from_config(cls, config) -> "EvalBudget":
        return cls(**{key: getattr(config, key) for key in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# A model this many times over the latency budget on any run is rejected without a median.
GIVE_UP_FACTOR = 3.0


def candidate_latency(spec: ArchSpec, *, threads: int, runs: int, analysis=None, give_up_ms: float | None = None) -> float:
    """Median CPU latency (ms) of one clip at batch 1 with freshly initialised weights."""
    torch.manual_seed(0)
    model = build_model(spec, device="cpu", analysis=analysis)
    timings = measure_latency(model, example_inputs(spec), warmup=2, runs=runs, threads=threads, give_up_ms=give_up_ms)
    return statistics.median(timings)


def _train(spec: ArchSpec, data: Any, budget: EvalBudget, steps: int, seed: int, out_dir: Path, init: dict | None, stop,
           watchers=()):
    config = TrainConfig(
        epochs=None,
        max_steps=steps,
        batch_size=budget.batch_size,
        lr=budget.lr,
        seed=seed,
        device=budget.device,
        latency_device=None,  # measured once, before training
        progress=False,
        warmup_steps=min(10, steps // 10),
        **({"num_threads": budget.num_threads} if budget.num_threads else {}),
    )
    callbacks = ([stop] if stop is not None else []) + list(watchers)
    return train_and_evaluate(spec, data, config, out_dir=out_dir, init_state_dict=init, callbacks=callbacks)


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
    latency = candidate_latency(arch, threads=budget.latency_threads, runs=budget.latency_runs, analysis=analysis, give_up_ms=give_up)
    timing = {"latency_s": time.perf_counter() - latency_started}
    result: dict[str, Any] = {"params": analysis.params, "macs": analysis.macs, "latency_ms": latency}
    if budget.latency_budget_ms is not None and latency > budget.latency_budget_ms:
        reason = f"latency {latency:.1f} ms over the {budget.latency_budget_ms:g} ms budget"
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
    low = _train(arch, data, budget, budget.low_steps, seed, out / "low", init, stop, watchers + ([curve] if curve else []))
    inherited = int((low.inherited or {}).get("inherited", 0))
    final, fidelity = low, "low"
    stopped_early = curve is not None and curve.stopped
    if stopped_early:
        fidelity = "stopped"
    elif promote_threshold is not None and budget.high_steps > budget.low_steps and (low.score or 0.0) >= promote_threshold:
        state = {k: v.detach().clone() for k, v in low.model.state_dict().items()}
        final = _train(arch, data, budget, budget.high_steps - budget.low_steps, seed + 1, out / "high", state, stop, watchers)
        fidelity = "high"
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
    return result
