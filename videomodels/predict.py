"""`predict` command: classify real video files with an exported model or a training checkpoint.

    python -m videomodels predict MODEL.pt|MODEL.onnx VIDEO... [--top 3] [--json]

Each video is decoded with the project's PyAV decoder and preprocessed exactly as
validation clips were (the recipe travels inside the model file). One line per
file: the predicted class and its score (softmax probability; sigmoid for
multi-label models). A file that cannot be read is named with the reason on stderr
and the rest carry on; the exit code is 1 only when no file could be classified
(2 when the model itself cannot be used).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from videomodels.argtypes import positive_int
from videomodels.data import VideoDecodeError
from videomodels.preprocessing import PreprocessingError, batch_clips, check_preprocessing, clips_from_video

EXIT_NONE_CLASSIFIED = 1
EXIT_USER_ERROR = 2


@dataclass
class Predictor:
    """A model (PyTorch or onnxruntime) with its class names and preprocessing."""

    run: Callable[[dict[str, torch.Tensor]], torch.Tensor]
    class_names: list[str]
    preprocessing: dict[str, Any]
    multilabel: bool
    kind: str  # "checkpoint" or "onnx"

    def scores(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        logits = self.run(inputs).float()
        return torch.sigmoid(logits) if self.multilabel else torch.softmax(logits, dim=-1)


def open_model(path: str | Path) -> Predictor:
    """A checkpoint (`train`'s checkpoint.pt or an exported .pt) or an exported .onnx.
    Raises ExportError / PreprocessingError naming what is wrong."""
    from videomodels.export import ExportError, load_exported, load_onnx

    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path}: model file does not exist")
    with path.open("rb") as handle:
        is_zip = handle.read(4) == b"PK\x03\x04"  # torch.save writes a zip archive; ONNX is protobuf
    if is_zip:
        loaded = load_exported(path)
        model = loaded.model

        def run(inputs):
            with torch.no_grad():
                return model(inputs)

        predictor = Predictor(run, loaded.class_names, loaded.preprocessing, loaded.multilabel, "checkpoint")
    else:
        onnx_model = load_onnx(path)
        predictor = Predictor(onnx_model, onnx_model.class_names, onnx_model.preprocessing, False, "onnx")
    check_preprocessing(predictor.preprocessing)  # refuse now, not once per video
    return predictor


def classify(predictor: Predictor, video: str | Path, top: int = 1) -> list[tuple[str, float]]:
    """[(class name, score)] best first for one video; raises VideoDecodeError if unreadable."""
    clips = batch_clips([clips_from_video(video, predictor.preprocessing)])
    scores = predictor.scores(clips)[0]
    values, indices = torch.topk(scores, k=min(top, scores.numel()))
    return [(predictor.class_names[int(i)], float(v)) for v, i in zip(values, indices)]


def run_predict(args: argparse.Namespace) -> int:
    from videomodels.export import ExportError

    threads = args.threads or min(4, torch.get_num_threads())
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        try:
            predictor = open_model(args.model)
        except (ExportError, PreprocessingError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USER_ERROR
        classified = 0
        for video in args.videos:
            try:
                ranked = classify(predictor, video, top=args.top)
            except VideoDecodeError as exc:
                _report_failure(args, video, exc.reason)
                continue
            except (OSError, ValueError, RuntimeError) as exc:  # e.g. a clip the model cannot take
                _report_failure(args, video, f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}")
                continue
            classified += 1
            if args.json:
                print(json.dumps({"file": str(video), "class": ranked[0][0], "score": ranked[0][1],
                                  "top": [{"class": c, "score": s} for c, s in ranked]}), flush=True)
            else:
                others = "".join(f"  ({c} {s:.3f})" for c, s in ranked[1:])
                print(f"{video}: {ranked[0][0]} {ranked[0][1]:.3f}{others}", flush=True)
    finally:
        torch.set_num_threads(previous)
    if classified == 0:
        print(f"error: none of the {len(args.videos)} file(s) could be classified", file=sys.stderr)
        return EXIT_NONE_CLASSIFIED
    return 0


def _report_failure(args: argparse.Namespace, video: str, reason: str) -> None:
    if args.json:
        print(json.dumps({"file": str(video), "error": reason}), flush=True)
    print(f"error: {video}: {reason}", file=sys.stderr, flush=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="CHECKPOINT_OR_ONNX", help="checkpoint.pt from `train`, an exported .pt, or an exported .onnx")
    parser.add_argument("videos", metavar="VIDEO", nargs="+", help="video files to classify")
    parser.add_argument("--top", type=positive_int, default=1, help="also show the next best classes (default 1)")
    parser.add_argument("--threads", type=positive_int, help="CPU threads (default min(4, cores))")
    parser.add_argument("--json", action="store_true", help="one JSON object per file on stdout")
    parser.set_defaults(func=run_predict)


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("predict", help="classify video files with a checkpoint or an exported ONNX model",
                                   description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m videomodels predict")
    add_arguments(parser)
    return run_predict(parser.parse_args(argv))
