"""`data` command line: prepare a clip cache, synthesise the motion benchmark, inspect a cache.

Mounted by the main CLI through `register(subparsers)` (`python -m videomodels data ...`)
and runnable alone through `main(argv)` (`python -m videomodels.data ...`). Every
subcommand handler is stored as `func` on its parser and returns an exit code; user
mistakes print one clear line to stderr and return 2, never a traceback.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .cache import NothingPreparedError, PrepareReport, load_cache, prepare_cache
from .encode import CONTAINER_CODECS
from .errors import DataError
from .synth import MOTION_CLASSES, synthesize
from videomodels.argtypes import fraction as _fraction, non_negative_int as _non_negative_int, positive_int as _positive_int

EXIT_USER_ERROR = 2

Handler = Callable[[argparse.Namespace], int]


def _user_errors_to_exit_code(handler: Handler) -> Handler:
    @functools.wraps(handler)
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except NothingPreparedError as exc:
            _print_bad_files(exc.report, sys.stderr)
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USER_ERROR
        except (DataError, OSError) as exc:  # OSError: unreadable paths, full disks; all name the path
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USER_ERROR
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130

    return wrapped


# ---------------------------------------------------------------- prepare


def _print_bad_files(report: PrepareReport, stream) -> None:
    if report.bad_files:
        print(f"{len(report.bad_files)} bad file(s) skipped:", file=stream)
        for bad in report.bad_files:
            print(f"  {bad.path}: {bad.reason}", file=stream)


def _format_splits(counts: dict[str, int]) -> str:
    order = ["train", "val", "test"]
    return ", ".join(f"{name} {counts[name]}" for name in sorted(counts, key=lambda n: (order + [n]).index(n)))


@_user_errors_to_exit_code
def run_prepare(args: argparse.Namespace) -> int:
    if not Path(args.source).exists():
        raise DataError(f"{args.source}: dataset source does not exist")
    report = prepare_cache(
        args.source,
        args.out,
        frames=args.frames,
        size=args.size,
        flow=args.flow,
        val_fraction=args.val_fraction,
        test_fraction=args.test_fraction,
        seed=args.seed,
        force=args.force,
        workers=args.workers,
        progress=True,
    )
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    verb = "Reused existing cache with" if report.reused else "Prepared"
    print(f"{verb} {report.num_prepared} clip(s) in {report.cache_dir} ({report.seconds:.1f} s)")
    print(f"  splits: {_format_splits(report.split_counts)}")
    kind = "multi-label" if report.multilabel else "single-label"
    print(f"  classes ({len(report.class_names)}, {kind}): {', '.join(report.class_names)}")
    print(f"  clips: {report.frames} frames of {report.size}x{report.size}, flow: {'yes' if report.has_flow else 'no'}")
    if report.skipped_files:
        print(f"  {len(report.skipped_files)} non-video file(s) ignored (see index.json)")
    _print_bad_files(report, sys.stdout)
    return 0


# ---------------------------------------------------------------- synth


@_user_errors_to_exit_code
def run_synth(args: argparse.Namespace) -> int:
    result = synthesize(
        args.out,
        clips_per_class=args.clips_per_class,
        seed=args.seed,
        multilabel=args.multilabel,
        frames=args.frames,
        size=args.size,
        fps=args.fps,
        container=args.container,
    )
    layout = f"manifest {result.manifest}" if result.manifest else "one folder per class"
    print(f"Wrote {len(result.files)} {args.container}/{result.codec} clip(s) to {result.out_dir} ({layout})")
    print(f"  classes ({len(result.class_names)}): {', '.join(result.class_names)}")
    return 0


# ---------------------------------------------------------------- info


def _class_counts(cache) -> dict[str, int]:
    labels = np.asarray(cache.labels)
    if cache.multilabel:
        totals = labels.sum(axis=0)
        return {name: int(totals[i]) for i, name in enumerate(cache.class_names)}
    counts = Counter(labels.tolist())
    return {name: counts.get(i, 0) for i, name in enumerate(cache.class_names)}


@_user_errors_to_exit_code
def run_info(args: argparse.Namespace) -> int:
    cache = load_cache(args.cache)
    index = cache.index
    if args.json:
        summary = {k: v for k, v in index.items() if k != "items"}
        summary["split_counts"] = cache.split_counts()
        summary["class_counts"] = _class_counts(cache)
        print(json.dumps(summary, indent=2))
        return 0
    print(f"Clip cache {cache.directory} (format {index['format']} v{index['format_version']}, created {index['created']})")
    print(f"  source: {index['params']['source']}")
    print(f"  items: {len(cache)}; splits: {_format_splits(cache.split_counts())}")
    print(f"  clips: {cache.frames} frames of {cache.size}x{cache.size}, flow: {index['flow_method'] or 'no'}")
    kind = "multi-label" if cache.multilabel else "single-label"
    print(f"  classes ({cache.num_classes}, {kind}):")
    for name, count in _class_counts(cache).items():
        print(f"    {name}: {count}")
    if index["skipped_files"]:
        print(f"  {len(index['skipped_files'])} non-video file(s) ignored")
    if index["bad_files"]:
        print(f"  {len(index['bad_files'])} bad file(s) skipped:")
        for bad in index["bad_files"]:
            print(f"    {bad['path']}: {bad['reason']}")
    return 0


# ---------------------------------------------------------------- wiring


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add prepare/synth/info to `subparsers`."""
    prepare = subparsers.add_parser("prepare", help="decode a dataset once into a memory-mapped clip cache")
    prepare.add_argument("source", metavar="DIR_OR_CSV", help="folder with one subfolder per class, a manifest .csv, or a folder holding manifest.csv")
    prepare.add_argument("--frames", type=_positive_int, required=True, help="frames stored per video, spread over its whole length")
    prepare.add_argument("--size", type=_positive_int, required=True, help="stored frame side in pixels (short side resize + centre crop)")
    prepare.add_argument("--flow", action="store_true", help="also compute and store optical flow")
    prepare.add_argument("--out", required=True, metavar="CACHE", help="cache folder to create")
    prepare.add_argument("--val-fraction", type=_fraction, default=0.2, help="validation share for videos without a given split (default 0.2)")
    prepare.add_argument("--test-fraction", type=_fraction, default=0.0,
                         help="test share for videos without a given split (default 0: train and val only)")
    prepare.add_argument("--seed", type=_non_negative_int, default=0, help="seed of the stratified split (default 0)")
    prepare.add_argument("--force", action="store_true", help="rebuild even if an identical cache exists")
    prepare.add_argument("--workers", type=_non_negative_int, default=0, help="decoding processes (default 0: decode in this process)")
    prepare.add_argument("--json", action="store_true", help="print the report as JSON")
    prepare.set_defaults(func=run_prepare)

    synth = subparsers.add_parser("synth", help="write the synthetic motion benchmark as real video files")
    synth.add_argument("out", metavar="OUT", help="new (or empty) output folder")
    synth.add_argument("--clips-per-class", type=_positive_int, required=True)
    synth.add_argument("--seed", type=_non_negative_int, default=0)
    synth.add_argument("--multilabel", action="store_true", help="2-3 objects per clip with their own motions; writes manifest.csv")
    synth.add_argument("--frames", type=_positive_int, default=24)
    synth.add_argument("--size", type=_positive_int, default=64)
    synth.add_argument("--fps", type=float, default=12.0)
    synth.add_argument("--container", choices=sorted(CONTAINER_CODECS), default="mp4")
    synth.set_defaults(func=run_synth)

    info = subparsers.add_parser("info", help="summarise a prepared clip cache")
    info.add_argument("cache", metavar="CACHE")
    info.add_argument("--json", action="store_true", help="print the index summary as JSON")
    info.set_defaults(func=run_info)


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Mount the `data` command on the main CLI; dispatch with `args.func(args)`."""
    data = subparsers.add_parser(
        "data",
        help="video datasets: prepare caches, synthesise the motion benchmark, inspect caches",
        description=f"Video data pipeline. Synthetic classes: {', '.join(MOTION_CLASSES)}.",
    )
    commands = data.add_subparsers(dest="data_command", metavar="{prepare,synth,info}", required=True)
    add_commands(commands)
    return data


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry point: `python -m videomodels.data {prepare,synth,info} ...`."""
    parser = argparse.ArgumentParser(prog="python -m videomodels.data", description="Video data pipeline.")
    commands = parser.add_subparsers(dest="data_command", metavar="{prepare,synth,info}", required=True)
    add_commands(commands)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the usage error
        return int(exc.code or 0)
    return args.func(args)
