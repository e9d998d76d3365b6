"""One ONNX export in a process of its own: ``python -m videomodels.export.job`` (what the studio's export
jobs run).

torch.onnx's exporter keeps process-wide state (the dispatcher's registrations, dynamo's caches):
two exports in one process can break each other and every later one. A process per export keeps
each one's state to itself, and whatever happens to it dies with it.

The job comes as JSON on stdin: ``{"checkpoint", "out", "class_names", "metadata"}``. Progress goes
to stdout, one line per step, each ``@@export {"stage": ..., "progress": 0..1}``, then one last line
``@@export {"done": <OnnxReport>}``, ``@@export {"refused": {"op", "stage", "reason"}}`` or
``@@export {"error": "..."}``. Other output (libraries print) is not part of the protocol. The exit
status is 0 when done, 2 when refused or failed.
"""
from __future__ import annotations

import json
import sys
from typing import Any

MARK = "@@export "


def emit(stream, **message: Any) -> None:
    stream.write(MARK + json.dumps(message) + "\n")
    stream.flush()


def main() -> int:
    out = sys.stdout
    try:
        job = json.loads(sys.stdin.read())
        checkpoint, target = str(job["checkpoint"]), str(job["out"])
    except (ValueError, KeyError, TypeError) as error:
        emit(out, error=f"bad job: {error}")
        return 2
    emit(out, stage="loading the checkpoint", progress=0.02)
    from videomodels.export import ExportError, ExportRefused, export_onnx

    try:
        report = export_onnx(checkpoint, target, class_names=job.get("class_names") or None, metadata=job.get("metadata") or None,
                             progress=lambda stage, fraction: emit(out, stage=stage, progress=round(fraction, 3)))
    except ExportRefused as refused:
        emit(out, refused=refused.to_dict())
        return 2
    except ExportError as error:
        emit(out, error=str(error)[:2000])
        return 2
    emit(out, stage="done", progress=1.0)
    emit(out, done=report.to_dict())
    return 0


if __name__ == "__main__":
    sys.exit(main())
