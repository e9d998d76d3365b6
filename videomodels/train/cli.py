"""`train` command: train a preset or spec file on a video dataset and report the result.

Mounted on the main CLI with `register(subparsers)` (`python -m videomodels train ...`)
and runnable alone with `main(argv)` (`python -m videomodels.train ...`). User mistakes
(missing data, unknown preset, bad or invalid spec, bad settings) print one line
naming the problem to stderr and return 2, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from videomodels.archspec import ArchSpec, with_input_size
from videomodels.data import DataError
from videomodels.validation import SpecError

from .errors import TrainError
from .loop import TrainConfig, TrainResult, train_and_evaluate
from .latency import LATENCY_DEVICES
from .runtime import DEVICES, PRECISIONS
from .specs import resolve_spec
from videomodels.argtypes import positive_float as _positive_float, positive_int as _positive_int

EXIT_USER_ERROR = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="NAME_OR_SPEC", help="preset name (see `presets`) or spec JSON file")
    parser.add_argument("--data", required=True, metavar="DIR_OR_CACHE",
                        help="prepared clip cache (has index.json), or a video folder/CSV manifest to prepare into RUN/cache")
    parser.add_argument("--out", required=True, metavar="RUN", help="run folder for checkpoint.pt, metrics.json, spec.json")
    parser.add_argument("--epochs", type=_positive_int, help="passes over the train split (default 10, or as many as --steps needs)")
    parser.add_argument("--steps", type=_positive_int, help="cap on optimizer steps")
    parser.add_argument("--batch-size", type=_positive_int, default=16)
    parser.add_argument("--lr", type=_positive_float, default=1e-3, help="peak learning rate (default 1e-3)")
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--optimizer", choices=("adamw", "sgd"), default="adamw")
    parser.add_argument("--warmup-steps", type=int, default=0)
    parser.add_argument("--label-smoothing", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=DEVICES, default="auto", help="training device")
    parser.add_argument("--latency-device", choices=LATENCY_DEVICES, default="cpu",
                        help="where latency is measured at batch 1 (default cpu; cuda: synchronised, the GPU alone)")
    parser.add_argument("--deterministic", action="store_true",
                        help="bit-for-bit repeatable CUDA training: cuDNN's deterministic algorithms, no autotuning (slower)")
    parser.add_argument("--precision", choices=PRECISIONS, default="fp32",
                        help="fp32 (default), or bf16 / fp16 autocast (fp16 with a gradient scaler)")
    parser.add_argument("--threads", type=_positive_int, help="CPU threads (default min(4, cores))")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader worker processes (default 0)")
    parser.add_argument("--frames", type=_positive_int, help="override the frame count of every input stream")
    parser.add_argument("--size", type=_positive_int, help="override the resolution of every input stream")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.set_defaults(func=run_train)


def _config(args: argparse.Namespace) -> TrainConfig:
    epochs = args.epochs if args.epochs is not None else (None if args.steps is not None else 10)
    config = TrainConfig(
        epochs=epochs,
        max_steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        optimizer=args.optimizer,
        warmup_steps=args.warmup_steps,
        label_smoothing=args.label_smoothing,
        seed=args.seed,
        device=args.device,
        latency_device=args.latency_device,
        deterministic=args.deterministic,
        precision=args.precision,
        num_workers=args.workers,
        progress=not args.json,
    )
    if args.threads is not None:
        config.num_threads = args.threads
    return config


def _load_spec(args: argparse.Namespace) -> ArchSpec:
    spec = resolve_spec(args.spec)
    if args.frames is not None or args.size is not None:
        spec = with_input_size(spec, frames=args.frames, size=args.size)
    return spec


def train_command(args: argparse.Namespace) -> TrainResult:
    """Everything `train` does except printing; raises on user mistakes."""
    data = Path(args.data).expanduser()
    if not data.exists():
        raise TrainError(f"{args.data}: data path does not exist")
    config = _config(args)
    config.validate()
    try:
        spec = _load_spec(args)
    except SpecError as exc:
        raise TrainError(f"{args.spec}: {exc}") from None
    out = Path(args.out).expanduser()
    if out.exists() and not out.is_dir():
        raise TrainError(f"{args.out}: exists and is not a folder")
    try:  # a raw video source is prepared into RUN/cache, sized for the spec (reused on reruns)
        return train_and_evaluate(spec, data, config, out_dir=out)
    except SpecError as exc:
        raise TrainError(f"{args.spec}: {exc}") from None


def run_train(args: argparse.Namespace) -> int:
    try:
        result = train_command(args)
    except (TrainError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as exc:  # unwritable run folder, full disk, ...
        print(f"error: {exc.filename or args.out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(result.to_dict()))
    else:
        print(format_summary(result))
    return 0


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def format_summary(result: TrainResult) -> str:
    """The human-readable report of a run."""
    metrics: dict[str, Any] = result.metrics
    lines = [
        f"Trained {result.spec['name'] or 'spec'} ({result.spec['family']}, {result.params:,} params, "
        f"{result.macs / 1e6:,.1f} M multiply-adds per clip) for {result.epochs_completed} epoch(s), "
        f"{result.steps} steps on {result.device} in {result.wall_time_s:.1f} s",
    ]
    runtime = result.runtime or {}
    if runtime.get("device") == "cuda" or runtime.get("precision", "fp32") != "fp32":
        lines.append(f"  {runtime.get('note')}; precision {runtime.get('precision')}")
    if result.stop_reason:
        lines.append(f"  stopped early: {result.stop_reason}")
    chance = 1.0 / result.num_classes
    if result.multilabel:
        lines.append(f"  val mAP {_percent(metrics.get('mAP'))}  loss {metrics['loss']:.4f}  ({metrics['num_samples']} clips)")
        per_class, title = metrics["per_class_ap"], "per-class AP"
    else:
        lines.append(f"  val top-1 {_percent(metrics['top1'])}  top-5 {_percent(metrics.get('top5'))}  "
                     f"loss {metrics['loss']:.4f}  ({metrics['num_samples']} clips, chance {_percent(chance)})")
        per_class, title = metrics["per_class_accuracy"], "per-class accuracy"
    lines.append(f"  {title}:")
    width = max(len(name) for name in per_class)
    lines += [f"    {name:<{width}}  {_percent(value)}" for name, value in per_class.items()]
    if result.latency:
        lat = result.latency
        where = lat["device"] if lat["device"] == "cpu" else f"{lat['device']}, {lat.get('hardware') or 'GPU'}"
        lines.append(f"  latency {lat['ms']:.2f} ms (batch 1, {where}, {lat['threads']} thread(s), median of {lat['runs']})")
    if result.inherited:
        lines.append(f"  inherited {result.inherited['inherited']}/{result.inherited['total']} tensors")
    if result.files:
        lines.append(f"  wrote {', '.join(result.files.values())}")
    return "\n".join(lines)


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Mount `train` on the main CLI; dispatch with `args.func(args)` (returns the exit code)."""
    parser = subparsers.add_parser(
        "train",
        help="train and evaluate a preset or spec on a video dataset",
        description="Train a preset or spec file on a clip cache (or a video folder, prepared into RUN/cache first), "
                    "evaluate on its val split, measure latency (CPU by default) and write checkpoint.pt, metrics.json and spec.json to RUN.",
    )
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry point: `python -m videomodels.train NAME_OR_SPEC --data ... --out ...`."""
    parser = argparse.ArgumentParser(prog="python -m videomodels.train", description="Train and evaluate a video model.")
    add_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage error
        return int(exc.code or 0)
    return args.func(args)
