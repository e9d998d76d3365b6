"""Train a spec on a video dataset and evaluate it: ``train_and_evaluate``.

One call = one reproducible run: resolve spec and data, build the model, train with
AdamW/SGD + warm-up + cosine decay, evaluate on the val split (every epoch by
default), measure latency, and write checkpoint.pt / metrics.json / spec.json.

Reproducibility: the seed drives model initialisation, shuffling, clip sampling and
augmentation; with the same seed, thread count, device and library versions the
losses and metrics are identical. Results on different machines or thread counts
may differ in the last bits (floating-point summation order).

The reported metrics are those of the final weights (no best-epoch selection: picking
the best epoch on the val split would make the val score optimistic).
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from videomodels.archspec import ArchSpec
from videomodels.graph import analyze, build_model
from videomodels.preprocessing import preprocessing_for

from .callbacks import CallbackList, ProgressBar
from .checkpoint import inherit_weights, jsonable, save_checkpoint, write_json
from .clipmemo import memoized
from .checkpoint import load_checkpoint  # also re-exported: loop is where callers look for it
from .datasets import DataBundle, is_cache_dir, resolve_datasets
from .errors import TrainError
from .gpulock import gpu_turn
from .latency import check_latency_device, measure_model_latency
from .metrics import MetricAccumulator, compact
from .optim import build_optimizer, build_scheduler
from .runtime import (
    DEVICES,
    PRECISIONS,
    applied,
    autocast,
    choose_settings,
    default_threads,
    grad_scaler,
    loader_generator,
    resolve_device,
    seed_everything,
    seed_worker,
    torch_threads,
)
from .specs import resolve_spec, spec_summary, streams_for_spec

__all__ = ["TrainConfig", "TrainResult", "load_checkpoint", "train_and_evaluate"]


@dataclass
class TrainConfig:
    """Settings of one run. Defaults suit small models on small datasets.

    epochs: passes over the train split; None = as many as ``max_steps`` needs.
    max_steps: optional cap on the total number of optimizer steps.
    warmup_steps: linear warm-up length; schedule: 'cosine' (decay to 0) or 'constant'.
    label_smoothing: single-label cross-entropy only.
    num_threads: CPU threads for training and latency (restored afterwards).
    device: 'auto' (cuda if available), 'cpu' or 'cuda'.
    latency_device: where latency is measured, 'cpu' by default whatever trained the
        model, so latencies are comparable between runs (None skips the measurement).
    deterministic: bit-for-bit repeatable CUDA training (cuDNN's deterministic algorithms, no
        autotuning; 1.5-9x slower on a GPU). Off: cuDNN autotuning and TF32 (see runtime.choose_settings).
    autotune: cuDNN autotuning on CUDA; None chooses per run (off for very short runs).
    precision: 'fp32', 'bf16' or 'fp16' autocast (fp16 with a gradient scaler); latency is
        always measured in fp32.
    max_evals: with eval_every_epoch, at most this many val passes, spread over the epochs
        (the last epoch always); None = every epoch.
    clip_memo: keep sampled clips on the device for later runs of this process
        (see clipmemo; a search's candidates share them).
    log_every: the loss curve stores the mean loss of every this many steps.
    progress: show a tqdm bar when stderr is a terminal.
    """

    epochs: int | None = 10
    max_steps: int | None = None
    batch_size: int = 16
    eval_batch_size: int | None = None
    lr: float = 1e-3
    weight_decay: float = 1e-4
    optimizer: str = "adamw"
    momentum: float = 0.9
    label_smoothing: float = 0.0
    warmup_steps: int = 0
    schedule: str = "cosine"
    grad_clip: float | None = None
    seed: int = 0
    num_threads: int = field(default_factory=default_threads)
    device: str = "auto"
    num_workers: int = 0
    eval_every_epoch: bool = True
    latency_device: str | None = "cpu"
    latency_runs: int = 10
    latency_warmup: int = 3
    log_every: int = 1
    progress: bool = True
    deterministic: bool = False
    autotune: bool | None = None
    precision: str = "fp32"
    max_evals: int | None = None
    clip_memo: bool = False

    def validate(self) -> None:
        problems = []
        if self.epochs is None and self.max_steps is None:
            problems.append("give epochs or max_steps")
        for name in ("epochs", "max_steps", "eval_batch_size", "max_evals"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                problems.append(f"{name} must be a positive integer or None, got {value!r}")
        for name in ("batch_size", "num_threads", "latency_runs", "log_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                problems.append(f"{name} must be a positive integer, got {value!r}")
        for name in ("warmup_steps", "num_workers", "latency_warmup"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                problems.append(f"{name} must be a non-negative integer, got {value!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            problems.append(f"lr must be > 0, got {self.lr!r}")
        if self.weight_decay < 0:
            problems.append(f"weight_decay must be >= 0, got {self.weight_decay}")
        if not 0.0 <= self.label_smoothing < 1.0:
            problems.append(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if self.optimizer not in ("adamw", "sgd"):
            problems.append(f"optimizer must be 'adamw' or 'sgd', got {self.optimizer!r}")
        if self.schedule not in ("cosine", "constant"):
            problems.append(f"schedule must be 'cosine' or 'constant', got {self.schedule!r}")
        if self.device not in DEVICES:
            problems.append(f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        if self.latency_device not in (None, "cpu", "cuda"):
            problems.append(f"latency_device must be 'cpu', 'cuda' or None, got {self.latency_device!r}")
        if self.precision not in PRECISIONS:
            problems.append(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        for name in ("deterministic", "clip_memo"):
            if not isinstance(getattr(self, name), bool):
                problems.append(f"{name} must be true or false, got {getattr(self, name)!r}")
        if self.autotune not in (None, True, False):
            problems.append(f"autotune must be true, false or None, got {self.autotune!r}")
        if self.grad_clip is not None and self.grad_clip <= 0:
            problems.append(f"grad_clip must be > 0 or None, got {self.grad_clip}")
        if problems:
            raise TrainError("invalid training settings: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class TrainResult:
    """What a run produced. ``to_dict()`` is JSON-able (it is metrics.json);
    ``model`` (the trained network, left in eval mode) is not part of it."""

    spec: dict[str, Any]
    num_classes: int
    class_names: list[str]
    multilabel: bool
    primary_metric: str  # 'top1' (single-label) or 'mAP' (multi-label)
    metrics: dict[str, Any]  # final val metrics, with confusion matrix / per-class values
    history: list[dict[str, Any]]
    loss_curve: list[list[float]]  # [step, mean train loss over the last log_every steps]
    latency: dict[str, Any] | None
    params: int
    macs: int
    steps: int
    epochs_completed: int
    stop_reason: str | None  # None when the planned steps/epochs all ran
    inherited: dict[str, Any] | None
    seed: int
    device: str
    runtime: dict[str, Any]  # the device settings used (runtime.DeviceSettings.to_dict())
    wall_time_s: float
    train_time_s: float
    config: dict[str, Any]
    data: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)
    model: nn.Module | None = field(default=None, repr=False, compare=False)

    @property
    def score(self) -> float | None:
        """The primary val metric (top-1 accuracy or mAP), for ranking runs."""
        return self.metrics.get(self.primary_metric)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "model"}
        data["score"] = self.score
        return jsonable(data)


# ---------------------------------------------------------------- helpers


def _loaders(bundle: DataBundle, config: TrainConfig, device: torch.device) -> tuple[DataLoader, DataLoader]:
    train_set, val_set = bundle.train, bundle.val
    memo = config.clip_memo and config.num_workers == 0
    if memo:  # clips already on the device: nothing to pin
        train_set, val_set = memoized(train_set, device), memoized(val_set, device)
    common = {"num_workers": config.num_workers, "pin_memory": device.type == "cuda" and not memo,
              "worker_init_fn": seed_worker if config.num_workers else None}
    # Drop a ragged last batch (a batch of 1-2 clips makes batch-norm statistics noisy),
    # unless the train split is smaller than one batch.
    train = DataLoader(train_set, batch_size=config.batch_size, shuffle=True,
                       drop_last=len(train_set) > config.batch_size,
                       generator=loader_generator(config.seed), **common)
    # Its own generator: a val pass draws no number from the global generator, so how often the
    # run is scored never changes its training (dropout draws from the global one).
    val = DataLoader(val_set, batch_size=config.eval_batch_size or config.batch_size, shuffle=False,
                     generator=loader_generator(config.seed), **common)
    return train, val


def _to_device(inputs: Mapping[str, torch.Tensor], targets: torch.Tensor, device: torch.device):
    non_blocking = device.type == "cuda"
    return {k: v.to(device, non_blocking=non_blocking) for k, v in inputs.items()}, targets.to(device, non_blocking=non_blocking)


def _criterion(multilabel: bool, label_smoothing: float) -> nn.Module:
    if multilabel:
        return nn.BCEWithLogitsLoss()
    return nn.CrossEntropyLoss(label_smoothing=label_smoothing)


def evaluate(model: nn.Module, loader: DataLoader, bundle: DataBundle, device: torch.device,
             precision: str = "fp32") -> dict[str, Any]:
    """Val metrics of ``model``; the loss is the plain (unsmoothed) loss so runs with
    different label smoothing stay comparable."""
    criterion = _criterion(bundle.multilabel, 0.0)
    accumulator = MetricAccumulator(bundle.class_names, bundle.multilabel)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for inputs, targets in loader:
            inputs, targets = _to_device(inputs, targets, device)
            with gpu_turn(device), autocast(device, precision):
                logits = model(inputs).float()
            accumulator.update(logits, targets, float(criterion(logits, targets)))
    model.train(was_training)
    return accumulator.compute()


def _set_epoch(dataset: Any, epoch: int) -> None:
    if hasattr(dataset, "set_epoch"):
        dataset.set_epoch(epoch)


def _evaluates_at(config: TrainConfig, epoch: int, epochs: int) -> bool:
    """Whether the val split is scored after ``epoch`` (the caller scores the last one anyway)."""
    if not config.eval_every_epoch:
        return False
    if config.max_evals is None or epochs <= config.max_evals:
        return True
    # max_evals epochs evenly spread, the last included: where floor(epoch * k / epochs) steps up.
    return epoch * config.max_evals // epochs > (epoch - 1) * config.max_evals // epochs


def _plan(config: TrainConfig, steps_per_epoch: int) -> tuple[int, int]:
    """(epochs, total optimizer steps) the run will do unless stopped early."""
    epochs = config.epochs if config.epochs is not None else math.ceil(config.max_steps / steps_per_epoch)
    total = epochs * steps_per_epoch
    if config.max_steps is not None:
        total = min(total, config.max_steps)
        epochs = min(epochs, math.ceil(total / steps_per_epoch))
    return epochs, total


def _needs_preparation(data: Any) -> bool:
    return isinstance(data, (str, Path)) and Path(data).expanduser().exists() and not is_cache_dir(Path(data).expanduser())


# ---------------------------------------------------------------- the run


def train_and_evaluate(
    spec_or_name: ArchSpec | str | Path,
    data: Any,
    config: TrainConfig | None = None,
    *,
    out_dir: str | Path | None = None,
    callbacks: Iterable[Any] = (),
    init_state_dict: Mapping[str, Any] | None = None,
) -> TrainResult:
    """Train ``spec_or_name`` (ArchSpec, preset name or spec file) on ``data`` and evaluate it.

    ``data``: a clip cache folder, a raw video source (its cache is prepared in
    out_dir/cache, or in a temporary folder without out_dir), or datasets (see
    ``videomodels.train.datasets``). ``init_state_dict`` warm-starts from another
    model's weights (matching names and shapes only; counts in ``result.inherited``).
    With ``out_dir`` the run writes checkpoint.pt, metrics.json and spec.json there.

    Raises TrainError (bad settings/data), SpecError (invalid spec) and
    videomodels.data.DataError (unreadable data); all are ValueErrors.
    """
    started = time.perf_counter()
    config = config or TrainConfig()
    config.validate()
    if config.latency_device is not None:
        check_latency_device(config.latency_device)  # before training, not after it
    spec = resolve_spec(spec_or_name)
    streams = streams_for_spec(spec)
    device = resolve_device(config.device)
    out = Path(out_dir).expanduser() if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack, torch_threads(config.num_threads):
        prepare_dir = out / "cache" if out is not None else None
        if prepare_dir is None and _needs_preparation(data):
            prepare_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="videomodels-cache-"))) / "cache"
        bundle = resolve_datasets(data, spec, streams, seed=config.seed, prepare_dir=prepare_dir, progress=config.progress)
        hooks = CallbackList(list(callbacks) + ([ProgressBar()] if config.progress else []))
        result = _run(spec, bundle, config, device, hooks, init_state_dict, started)
    if out is not None:
        _write_outputs(out, result)
    hooks.on_train_end(result.to_dict())  # after the files exist, so a listener can pick them up
    return result


@dataclass
class _Progress:
    """Counters shared by the epochs of one run."""

    log_every: int
    step: int = 0
    stop_reason: str | None = None
    loss_curve: list[list[float]] = field(default_factory=list)
    pending: list[float] = field(default_factory=list)  # losses not yet folded into loss_curve

    def record(self, loss: float) -> None:
        self.pending.append(loss)
        if len(self.pending) == self.log_every:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.loss_curve.append([self.step, sum(self.pending) / len(self.pending)])
            self.pending = []


def _train_epoch(model, loader, optimizer, scheduler, scaler, criterion, config: TrainConfig, device, callbacks: CallbackList,
                 progress: _Progress, epoch: int, total_steps: int, multilabel: bool) -> dict[str, Any]:
    """One pass over the train loader (fewer steps if the plan or a callback says so)."""
    losses: list[float] = []
    correct = seen = 0
    lr_used = optimizer.param_groups[0]["lr"]
    model.train()
    if progress.stop_reason is not None or progress.step >= total_steps:
        return {"lr": lr_used, "train_loss": None, "train_top1": None}
    for inputs, targets in loader:
        inputs, targets = _to_device(inputs, targets, device)
        with gpu_turn(device):  # a latency measurement on this GPU waits for the step, and the step for it
            with autocast(device, config.precision):
                logits = model(inputs)
            loss = criterion(logits.float(), targets)
            loss_value = float(loss.detach())
            if not math.isfinite(loss_value):  # a diverged candidate: stop instead of training on NaNs
                progress.stop_reason = f"non-finite training loss at step {progress.step + 1}"
                break
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if config.grad_clip is not None:
                scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            lr_used = optimizer.param_groups[0]["lr"]
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
        progress.step += 1
        losses.append(loss_value)
        progress.record(loss_value)
        if not multilabel:
            correct += int((logits.detach().argmax(dim=1) == targets).sum())
            seen += int(targets.shape[0])
        callbacks.on_step(progress.step, epoch, loss_value, lr_used)
        progress.stop_reason = callbacks.stop_reason
        if progress.stop_reason is not None or progress.step >= total_steps:
            break
    return {
        "lr": lr_used,
        "train_loss": sum(losses) / len(losses) if losses else None,
        "train_top1": correct / seen if seen else None,
    }


def _run(spec: ArchSpec, bundle: DataBundle, config: TrainConfig, device: torch.device, callbacks: CallbackList,
         init_state_dict: Mapping[str, Any] | None, started: float) -> TrainResult:
    train_loader, val_loader = _loaders(bundle, config, device)
    steps_per_epoch = len(train_loader)
    epochs, total_steps = _plan(config, steps_per_epoch)
    settings = choose_settings(device.type, deterministic=config.deterministic, precision=config.precision,
                               autotune=config.autotune, total_steps=total_steps)
    with applied(settings):
        return _fit(spec, bundle, config, device, settings, callbacks, init_state_dict, started,
                    train_loader, val_loader, epochs, total_steps)


def _fit(spec: ArchSpec, bundle: DataBundle, config: TrainConfig, device: torch.device, settings, callbacks: CallbackList,
         init_state_dict: Mapping[str, Any] | None, started: float, train_loader: DataLoader, val_loader: DataLoader,
         epochs: int, total_steps: int) -> TrainResult:
    analysis = analyze(spec, num_classes=bundle.num_classes)
    seed_everything(config.seed)  # right before building: the seed fixes the initial weights
    model = build_model(analysis.spec, num_classes=bundle.num_classes, device=device, analysis=analysis)
    inherited = inherit_weights(model, init_state_dict) if init_state_dict is not None else None
    steps_per_epoch = len(train_loader)
    scaler = grad_scaler(device, config.precision)
    optimizer = build_optimizer(model, config.optimizer, config.lr, config.weight_decay, config.momentum)
    scheduler = build_scheduler(optimizer, total_steps=total_steps, warmup_steps=config.warmup_steps, schedule=config.schedule)
    criterion = _criterion(bundle.multilabel, config.label_smoothing)

    callbacks.on_model(model)
    callbacks.on_train_start(jsonable({
        "spec_name": spec.name, "spec_hash": spec.content_hash(), "family": spec.family,
        "num_classes": bundle.num_classes, "class_names": bundle.class_names, "multilabel": bundle.multilabel,
        "params": analysis.params, "macs": analysis.macs, "device": str(device), "runtime": settings.to_dict(), "seed": config.seed,
        "epochs": epochs, "steps_per_epoch": steps_per_epoch, "total_steps": total_steps,
        "inherited": inherited, "data": bundle.info, "config": config.to_dict(),
    }))
    progress = _Progress(config.log_every, stop_reason=callbacks.stop_reason)
    history: list[dict[str, Any]] = []
    final_metrics: dict[str, Any] | None = None
    evaluated_at = -1
    train_started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        if progress.stop_reason is not None:
            break
        epoch_started = time.perf_counter()
        _set_epoch(bundle.train, epoch)
        callbacks.on_epoch_start(epoch)
        progress.stop_reason = progress.stop_reason or callbacks.stop_reason
        stats = _train_epoch(model, train_loader, optimizer, scheduler, scaler, criterion, config, device, callbacks,
                             progress, epoch, total_steps, bundle.multilabel)
        finishing = progress.stop_reason is not None or progress.step >= total_steps or epoch == epochs
        if finishing:
            progress.flush()
        val = None
        if finishing or _evaluates_at(config, epoch, epochs):
            final_metrics = evaluate(model, val_loader, bundle, device, config.precision)
            evaluated_at = progress.step
            val = compact(final_metrics)
        history.append(jsonable({"epoch": epoch, "steps": progress.step, **stats, "val": val,
                                 "seconds": time.perf_counter() - epoch_started}))
        callbacks.on_epoch_end(epoch, history[-1])
        progress.stop_reason = progress.stop_reason or callbacks.stop_reason
    progress.flush()
    if final_metrics is None or evaluated_at != progress.step:
        final_metrics = evaluate(model, val_loader, bundle, device, config.precision)
    train_time = time.perf_counter() - train_started
    model.eval()

    latency = None
    if config.latency_device is not None:
        latency = measure_model_latency(model, analysis.spec, device=config.latency_device, threads=config.num_threads,
                                        warmup=config.latency_warmup, runs=config.latency_runs)
    return TrainResult(
        # Name and hash of the spec as given (what a caller knows it by); json: as built, defaults filled in.
        spec=spec_summary(spec) | {"json": analysis.spec.to_dict()},
        num_classes=bundle.num_classes,
        class_names=list(bundle.class_names),
        multilabel=bundle.multilabel,
        primary_metric="mAP" if bundle.multilabel else "top1",
        metrics=jsonable(final_metrics),
        history=history,
        loss_curve=progress.loss_curve,
        latency=jsonable(latency) if latency else None,
        params=analysis.params,
        macs=analysis.macs,
        steps=progress.step,
        epochs_completed=len(history),
        stop_reason=progress.stop_reason,
        inherited=inherited,
        seed=config.seed,
        device=str(device),
        runtime=settings.to_dict(),
        wall_time_s=time.perf_counter() - started,
        train_time_s=train_time,
        config=jsonable(config.to_dict()),
        data=jsonable(bundle.info),
        model=model,
    )


def _write_outputs(out: Path, result: TrainResult) -> dict[str, str]:
    result.files = {name: str(out / name) for name in ("checkpoint.pt", "metrics.json", "spec.json")}
    built = ArchSpec.from_dict(result.spec["json"])
    # The cache the model was trained on fixes how predict must decode a new video.
    preprocessing = preprocessing_for(built, cache_frames=result.data.get("cache_frames"), cache_size=result.data.get("cache_size"))
    save_checkpoint(out / "checkpoint.pt", result.model, num_classes=result.num_classes, class_names=result.class_names,
                    multilabel=result.multilabel, metrics=result.metrics, preprocessing=preprocessing)
    (out / "spec.json").write_text(ArchSpec.from_dict(result.spec["json"]).to_json() + "\n", encoding="utf-8")
    write_json(out / "metrics.json", result.to_dict())
    return result.files
