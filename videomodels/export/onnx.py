"""ONNX export with torch.onnx (dynamo exporter + onnxscript), checked in onnxruntime.

The exported graph takes one tensor per input stream (named after the stream ids,
batch axis dynamic) and returns ``logits``. Spec, class names and preprocessing ride
along in the model's metadata_props, so ``predict`` needs nothing but the .onnx file.
The export is checked on sample clips at two batch sizes: the largest absolute
difference from PyTorch's output is recorded, and an export outside tolerance
(atol + rtol x the largest |logit|) is refused, as is a model with an op ONNX cannot express (the error names the op).
"""
from __future__ import annotations

import contextlib
import io
import json
import re
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from videomodels.archspec import ArchSpec
from videomodels.graph import GraphNet

from .checkpoint import ExportError, _head_classes, load_exported

META_PREFIX = "videomodels."
ONNX_FORMAT = "videomodels-onnx/1"
DEFAULT_RTOL, DEFAULT_ATOL = 1e-3, 1e-5


class ExportRefused(ExportError):
    """The model cannot be exported faithfully; ``op`` names the culprit where known."""

    def __init__(self, reason: str, *, op: str | None = None, stage: str = "export"):
        self.reason, self.op, self.stage = reason, op, stage
        super().__init__(f"ONNX export refused ({stage}{': op ' + op if op else ''}): {reason}")

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "stage": self.stage, "reason": self.reason}


@dataclass
class OnnxReport:
    path: str
    opset: int
    input_names: list[str]
    output_name: str
    batch_sizes: list[int]
    max_abs_diff: float  # over every batch size and logit
    max_abs_diff_by_batch: dict[str, float]
    max_rel_diff: float  # max |diff| / max |logit|, over every batch size
    rtol: float
    atol: float
    samples: str  # "clips" (given sample clips) or "random" (seeded normal noise)
    export_seconds: float
    file_bytes: int
    metadata_keys: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _PositionalInputs(nn.Module):
    """GraphNet takes a dict; ONNX graphs take positional tensors, one per stream."""

    def __init__(self, model: GraphNet):
        super().__init__()
        self.model = model
        self.input_ids = list(model.input_ids)

    def forward(self, *streams: torch.Tensor) -> torch.Tensor:
        return self.model(dict(zip(self.input_ids, streams)))


def _culprit(exc: BaseException) -> tuple[str | None, str, str]:
    """(op, stage, reason) from a torch.onnx failure message."""
    text = str(exc)
    op = None
    match = re.search(r"No ONNX function found for <OpOverload\(op='([^']+)', overload='([^']+)'\)>\.?\s*(?:Failure message:\s*)?([^\n]*)", text)
    if match:
        op = f"{match.group(1)}.{match.group(2)}"
        reason = f"no ONNX translation for {op}" + (f" ({match.group(3).strip()})" if match.group(3).strip() else "")
        if "adaptive" in op:
            reason += "; non-global adaptive pooling has no ONNX operator (use global pooling or fixed-size pooling)"
        return op, "translate", reason
    stage = "torch.export" if "step 1/3" in text else "decompose" if "step 2/3" in text else "translate" if "step 3/3" in text else "export"
    summary = re.search(r"## Exception summary\s*\n\s*\n?(.*?)(?:\n\n|$)", text, re.S)
    line = (summary.group(1) if summary else text).strip().splitlines()
    reason = re.sub(r"\x1b\[[0-9;]*m", "", line[0] if line else type(exc).__name__)[:500]
    node = re.search(r"target=torch\.ops\.([A-Za-z0-9_.]+)", text)
    if node:
        op = node.group(1)
    return op, stage, reason


def _random_samples(model: GraphNet, batch: int, seed: int) -> dict[str, torch.Tensor]:
    spec = model.spec
    generator = torch.Generator().manual_seed(seed)
    return {s.id: torch.randn((batch, s.channels, s.frames, s.size, s.size), generator=generator) for s in spec.inputs}


def _batch_of(samples: Mapping[str, torch.Tensor], batch: int) -> dict[str, torch.Tensor]:
    """``batch`` clips cycling through the given ones (so any batch size can be checked)."""
    out = {}
    for key, value in samples.items():
        index = torch.arange(batch) % value.shape[0]
        out[key] = value[index].contiguous()
    return out


def _metadata(model: GraphNet, class_names: list[str], preprocessing: dict[str, Any] | None, extra: dict[str, Any] | None) -> dict[str, str]:
    from videomodels.preprocessing import preprocessing_for

    data = {
        "format": ONNX_FORMAT,
        "spec": model.spec_json,
        "class_names": json.dumps(class_names),
        "preprocessing": json.dumps(preprocessing or preprocessing_for(model.spec)),
        "input_ids": json.dumps(list(model.input_ids)),
    }
    if extra:
        data["metadata"] = json.dumps(extra)
    return {META_PREFIX + key: value for key, value in data.items()}


def export_onnx(
    source: GraphNet | str | Path,
    path: str | Path,
    *,
    class_names: list[str] | None = None,
    preprocessing: dict[str, Any] | None = None,
    sample_inputs: Mapping[str, torch.Tensor] | None = None,
    batch_sizes: Sequence[int] = (1, 2),
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    opset: int | None = None,
    metadata: dict[str, Any] | None = None,
    seed: int = 0,
    progress: Callable[[str, float], None] | None = None,
) -> OnnxReport:
    """Export ``source`` (a GraphNet, or a checkpoint path) to ONNX at ``path`` and verify it.

    ``sample_inputs``: stream id -> [N, C, T, H, W] clips to compare on (for example real
    clips from ``videomodels.preprocessing.clips_from_video``); seeded noise otherwise.
    Raises ExportRefused (with ``op``/``stage``/``reason``) when torch.onnx cannot export
    the model or onnxruntime's outputs differ from PyTorch's beyond rtol/atol.
    ``progress(stage, fraction)`` is told where it is (exporting, writing metadata, each check).
    """
    import onnx
    import onnxruntime

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    stored_meta: dict[str, Any] = {}
    if isinstance(source, GraphNet):
        model = source
    elif isinstance(source, (str, Path)):
        loaded = load_exported(source)
        model, stored_meta = loaded.model, loaded.meta
        class_names = class_names or loaded.class_names
        preprocessing = preprocessing or loaded.preprocessing
    else:
        raise ExportError(f"expected a GraphNet or a checkpoint path, got {type(source).__name__}")
    if any(t.device.type != "cpu" for t in model.state_dict().values()):
        raise ExportError("export_onnx checks the export on CPU: pass a model on the CPU (model.cpu())")
    if not batch_sizes or any(int(b) < 1 for b in batch_sizes):
        raise ExportError(f"batch_sizes must be positive integers, got {list(batch_sizes)}")
    num_classes = _head_classes(model.spec)
    names = list(class_names or [str(i) for i in range(num_classes)])
    if len(names) != num_classes:
        raise ExportError(f"class_names has {len(names)} entries but the model predicts {num_classes} classes")
    was_training = model.training
    model.eval()
    wrapper = _PositionalInputs(model).eval()
    ids = wrapper.input_ids
    if sample_inputs is not None:
        missing = [key for key in ids if key not in sample_inputs]
        if missing:
            raise ExportError(f"sample_inputs lacks streams {missing}")
        samples, kind = {key: sample_inputs[key].float().cpu() for key in ids}, "clips"
    else:
        samples, kind = _random_samples(model, max(batch_sizes), seed), "random"

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    example = _batch_of(samples, max(2, min(batch_sizes)))
    batch = torch.export.Dim("batch", min=1, max=4096)
    report("exporting with torch.onnx", 0.1)
    started = time.perf_counter()
    log = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(log):
            warnings.simplefilter("ignore")
            with torch.no_grad():
                program = torch.onnx.export(
                    wrapper, tuple(example[key] for key in ids), dynamo=True, input_names=ids, output_names=["logits"],
                    dynamic_shapes=(tuple({0: batch} for _ in ids),), opset_version=opset, verbose=False,
                )
            program.save(str(path))
    except Exception as exc:  # noqa: BLE001 - torch.onnx raises several error types; all mean "cannot export"
        op, stage, reason = _culprit(exc)
        raise ExportRefused(reason, op=op, stage=stage) from None
    finally:
        model.train(was_training)
    seconds = time.perf_counter() - started

    report("writing metadata", 0.6)
    proto = onnx.load(str(path))
    for key, value in _metadata(model, [str(n) for n in names], preprocessing, metadata or stored_meta.get("metadata")).items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))
    opset_used = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), -1)

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    diffs: dict[str, float] = {}
    scaled: dict[str, float] = {}
    model.eval()
    try:
        for i, size in enumerate(batch_sizes):
            report(f"checking in onnxruntime at batch {size}", 0.7 + 0.25 * i / len(batch_sizes))
            inputs = _batch_of(samples, int(size))
            with torch.no_grad():
                expected = model(inputs).numpy()
            got = session.run(["logits"], {key: inputs[key].numpy() for key in ids})[0]
            if got.shape != expected.shape:
                raise ExportRefused(f"onnxruntime output shape {got.shape} != PyTorch {expected.shape} at batch {size}", stage="verify")
            diff = float(np.max(np.abs(got - expected))) if got.size else 0.0
            scale = float(np.max(np.abs(expected))) if expected.size else 0.0
            diffs[str(size)] = diff
            scaled[str(size)] = diff / scale if scale > 0 else diff
            # Tolerance relative to the output's scale, not element by element: logits of a deep
            # network span orders of magnitude, and float32 summation order moves the tiny ones
            # by more than rtol of their own size while the prediction cannot change.
            if not np.isfinite(got).all() or diff > atol + rtol * scale:
                raise ExportRefused(f"onnxruntime differs from PyTorch at batch {size}: max |diff| {diff:.3g} > "
                                    f"atol {atol} + rtol {rtol} x max |logit| {scale:.3g}", stage="verify")
    finally:
        model.train(was_training)
    return OnnxReport(
        path=str(path), opset=int(opset_used), input_names=ids, output_name="logits",
        batch_sizes=[int(b) for b in batch_sizes], max_abs_diff=max(diffs.values()), max_abs_diff_by_batch=diffs,
        max_rel_diff=max(scaled.values()), rtol=rtol, atol=atol, samples=kind, export_seconds=seconds, file_bytes=path.stat().st_size,
        metadata_keys=[e.key for e in proto.metadata_props],
    )


@dataclass
class OnnxModel:
    """An exported .onnx file opened in onnxruntime, with what predict needs."""

    session: Any
    spec: ArchSpec
    class_names: list[str]
    preprocessing: dict[str, Any]
    input_ids: list[str]

    def __call__(self, inputs: Mapping[str, torch.Tensor]) -> torch.Tensor:
        feeds = {key: inputs[key].float().cpu().numpy() for key in self.input_ids}
        return torch.from_numpy(self.session.run(["logits"], feeds)[0])


def load_onnx(path: str | Path) -> OnnxModel:
    """Open an .onnx written by export_onnx. Raises ExportError naming what is wrong."""
    import onnxruntime

    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path}: file does not exist")
    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types for foreign/corrupt files
        raise ExportError(f"{path}: not a loadable ONNX model ({str(exc).strip().splitlines()[0][:300]})") from None
    meta = session.get_modelmeta().custom_metadata_map
    if meta.get(META_PREFIX + "format") != ONNX_FORMAT:
        raise ExportError(f"{path}: an ONNX model without videomodels metadata (export it with videomodels.export.export_onnx)")
    try:
        spec = ArchSpec.from_json(meta[META_PREFIX + "spec"])
        class_names = [str(n) for n in json.loads(meta[META_PREFIX + "class_names"])]
        preprocessing = json.loads(meta[META_PREFIX + "preprocessing"])
        input_ids = [str(i) for i in json.loads(meta[META_PREFIX + "input_ids"])]
    except (KeyError, ValueError, TypeError) as exc:
        raise ExportError(f"{path}: malformed videomodels metadata ({exc})") from None
    return OnnxModel(session, spec, class_names, preprocessing, input_ids)
