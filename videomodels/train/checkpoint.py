"""Checkpoints that load without pickle, and weight inheritance between specs.

A checkpoint is a dict of plain tensors and JSON-able values, so it loads with
``torch.load(path, weights_only=True)``:
    format        "videomodels-checkpoint/1"
    state_dict    parameter/buffer name -> tensor (on CPU)
    spec          the spec JSON string (defaults filled in, head sized to num_classes)
    num_classes   int
    class_names   list[str]
    multilabel    bool
    metrics       the run's final validation metrics
    preprocessing how to turn a video file into the model's inputs (videomodels.preprocessing);
                  older checkpoints lack it and readers derive it from the spec
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from videomodels.archspec import ArchSpec
from videomodels.graph import GraphNet, build_model

from .errors import TrainError

CHECKPOINT_FORMAT = "videomodels-checkpoint/1"


def jsonable(value: Any) -> Any:
    """Plain Python copy of ``value``: numpy/torch scalars become numbers, NaN/inf become
    None (JSON has no NaN), tuples become lists. Raises TypeError for anything else."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (torch.Tensor, np.ndarray, np.generic)):
        return jsonable(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    raise TypeError(f"not JSON-able: {type(value).__name__}")


def save_checkpoint(path: str | Path, model: GraphNet, *, num_classes: int, class_names: list[str],
                    multilabel: bool, metrics: dict[str, Any], preprocessing: dict[str, Any] | None = None,
                    metadata: dict[str, Any] | None = None) -> Path:
    path = Path(path)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "state_dict": {name: tensor.detach().cpu().clone() for name, tensor in model.state_dict().items()},
        "spec": model.spec_json,
        "num_classes": int(num_classes),
        "class_names": [str(name) for name in class_names],
        "multilabel": bool(multilabel),
        "metrics": jsonable(metrics),
    }
    if preprocessing is not None:
        payload["preprocessing"] = jsonable(preprocessing)
    if metadata is not None:
        payload["metadata"] = jsonable(metadata)
    temporary = path.with_name(path.name + ".tmp")
    torch.save(payload, temporary)
    os.replace(temporary, path)  # never leave a half-written checkpoint under the real name
    return path


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The raw checkpoint dict, loaded with weights_only=True (no pickle code runs)."""
    path = Path(path)
    if not path.is_file():
        raise TrainError(f"{path}: checkpoint file does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises several types for foreign or corrupt files
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise TrainError(f"{path}: not a loadable checkpoint ({type(exc).__name__}: {first_line})") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise TrainError(f"{path}: not a {CHECKPOINT_FORMAT} checkpoint")
    return payload


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> tuple[GraphNet, dict[str, Any]]:
    """Rebuild the model from the stored spec, load its weights, return (model in eval mode, meta).

    ``meta`` holds everything but the weights: spec (JSON string), num_classes,
    class_names, multilabel, metrics, format.
    """
    payload = read_checkpoint(path)
    spec = ArchSpec.from_json(payload["spec"])
    model = build_model(spec, num_classes=payload["num_classes"], device=device)
    model.load_state_dict(payload["state_dict"])
    model.eval()
    meta = {key: value for key, value in payload.items() if key != "state_dict"}
    return model, meta


def inherit_weights(model: nn.Module, source: Mapping[str, Any]) -> dict[str, Any]:
    """Copy every tensor of ``source`` whose name and shape match one of ``model``'s.

    ``source`` is a state dict or a checkpoint dict (its 'state_dict' is used). Used
    by the search engine to warm-start a child from its parent: unchanged nodes keep
    their trained weights, changed ones keep their fresh initialisation. Returns
    counts (JSON-able): inherited, total (tensors in the model), shape_mismatch,
    missing (model tensors absent from source), unused (source tensors not in model).
    """
    if "state_dict" in source and isinstance(source["state_dict"], Mapping):
        source = source["state_dict"]
    target = model.state_dict()
    matched, mismatched = {}, []
    for name, tensor in target.items():
        if name not in source:
            continue
        candidate = source[name]
        if isinstance(candidate, torch.Tensor) and candidate.shape == tensor.shape:
            matched[name] = candidate
        else:
            mismatched.append(name)
    with torch.no_grad():
        for name, candidate in matched.items():
            target[name].copy_(candidate.to(device=target[name].device, dtype=target[name].dtype))
    return {
        "inherited": len(matched),
        "total": len(target),
        "shape_mismatch": len(mismatched),
        "missing": sum(1 for name in target if name not in source),
        "unused": sum(1 for name in source if name not in target),
    }


def write_json(path: Path, data: Any) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
