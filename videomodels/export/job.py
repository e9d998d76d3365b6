"""One export of trained weights in a process of its own: ``python -m videomodels.export.job`` (what the
studio's export jobs run). ONNX, or a portable PyTorch checkpoint (weights only, with its spec, class
names, preprocessing and metadata, loaded again with ``torch.load(weights_only=True)`` before it counts).

torch.onnx's exporter keeps process-wide state (the dispatcher's registrations, dynamo's caches):
two exports in one process can break each other and every later one. A process per export keeps
each one's state to itself, and whatever happens to it dies with it.

The job comes as JSON on stdin: ``{"format" ("onnx", the default, or "checkpoint"), "checkpoint", "out",
"class_names", "metadata"}``. Progress goes
to stdout, one line per step, each ``@@export {"stage": ..., "progress": 0..1}``, then one last line
``@@export {"done": <OnnxReport, or the checkpoint's {"verified", "tensors", "params", "export_seconds"}>}``, ``@@export {"refused": {"op", "stage", "reason"}}`` or
``@@export {"error": "..."}``. Other output (libraries print) is not part of the protocol. The exit
status is 0 when done, 2 when refused or failed.
"""
from __future__ import annotations

import json
import pickle  # only for its error type: nothing here unpickles
import sys
import time
from typing import Any

MARK = "@@export "


def emit(stream, **message: Any) -> None:
    stream.write(MARK + json.dumps(message) + "\n")
    stream.flush()


def main() -> int:
    out = sys.stdout
    try:
        job = json.loads(sys.stdin.read())
        checkpoint, target, fmt = str(job["checkpoint"]), str(job["out"]), str(job.get("format") or "onnx")
    except (ValueError, KeyError, TypeError) as error:
        emit(out, error=f"bad job: {error}")
        return 2
    if fmt not in ("onnx", "checkpoint"):
        emit(out, error=f"bad job: unknown format {fmt!r}")
        return 2
    emit(out, stage="loading the checkpoint", progress=0.02)
    from videomodels.export import ExportError, ExportRefused, export_onnx

    try:
        if fmt == "checkpoint":
            done = portable_checkpoint(checkpoint, target, job, lambda stage, fraction: emit(out, stage=stage, progress=fraction))
        else:
            done = export_onnx(checkpoint, target, class_names=job.get("class_names") or None, metadata=job.get("metadata") or None,
                               progress=lambda stage, fraction: emit(out, stage=stage, progress=round(fraction, 3))).to_dict()
    except ExportRefused as refused:
        emit(out, refused=refused.to_dict())
        return 2
    except ExportError as error:
        emit(out, error=str(error)[:2000])
        return 2
    emit(out, stage="done", progress=1.0)
    emit(out, done=done)
    return 0


def portable_checkpoint(source: str, target: str, job: dict, progress) -> dict:
    """The training checkpoint at ``source`` re-saved at ``target`` as weights only (with its spec and metadata), then
    loaded back with ``torch.load(weights_only=True)``: no pickled object is needed to read it. Raises ExportError."""
    import torch

    from videomodels.export import ExportError, export_checkpoint

    started = time.perf_counter()
    progress("rebuilding the network and writing its weights", 0.2)
    export_checkpoint(source, target, class_names=job.get("class_names") or None, metadata=job.get("metadata") or None)
    progress("loading it back with weights_only=True", 0.8)
    try:
        payload = torch.load(target, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, OSError, EOFError) as error:  # what weights_only refuses, or a broken file
        raise ExportError(f"the written checkpoint does not load with weights_only=True: {error}") from None
    state = payload.get("state_dict") if isinstance(payload, dict) else None
    if not isinstance(state, dict) or not state:
        raise ExportError("the written checkpoint holds no weights")
    return {"verified": "torch.load(weights_only=True)", "tensors": len(state),
            "params": int(sum(t.numel() for t in state.values() if isinstance(t, torch.Tensor))),
            "export_seconds": round(time.perf_counter() - started, 3)}


if __name__ == "__main__":
    sys.exit(main())
