"""Self-describing PyTorch checkpoints: weights, spec, class names and preprocessing.

The file is the training checkpoint format (``videomodels-checkpoint/1``, see
videomodels.train.checkpoint) with ``preprocessing`` always present and optional
``metadata``; it holds only tensors and JSON-able values, so it loads with
``torch.load(path, weights_only=True)``; no pickled code ever runs.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from videomodels.archspec import ArchSpec
from videomodels.graph import GraphNet, build_model
from videomodels.preprocessing import preprocessing_for
from videomodels.train.checkpoint import CHECKPOINT_FORMAT, read_checkpoint, save_checkpoint
from videomodels.train.errors import TrainError
from videomodels.validation import SpecError


class ExportError(ValueError):
    """An export that cannot be made or a file that cannot be loaded (the message says why)."""


@dataclass
class LoadedModel:
    model: GraphNet  # eval mode, on CPU
    spec: ArchSpec
    class_names: list[str]
    preprocessing: dict[str, Any]
    multilabel: bool
    meta: dict[str, Any]  # everything in the file but the weights


def _head_classes(spec: ArchSpec) -> int:
    from videomodels.schema import NODE_TYPES

    for node in spec.nodes:
        node_type = NODE_TYPES.get(node.type)
        if node_type is not None and node_type.is_head:
            return int(node.attrs["num_classes"])
    raise ExportError("the model's spec has no classifier node")


def export_checkpoint(
    source: GraphNet | str | Path | Mapping[str, Any],
    path: str | Path,
    *,
    class_names: list[str] | None = None,
    preprocessing: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write a self-describing checkpoint of ``source`` to ``path`` and check it reloads.

    ``source``: a built model (GraphNet), or a training checkpoint (its path, or the dict
    read from it). Values given here override what the source carries; class names
    default to the source's (or "0".."K-1"), preprocessing to the source's (or the
    recipe derived from the spec). ``metadata``: JSON-able extras (model id, review
    state, ...). Raises ExportError.
    """
    multilabel = False
    if isinstance(source, nn.Module):
        if not isinstance(source, GraphNet):
            raise ExportError(f"expected a videomodels GraphNet, got {type(source).__name__}")
        model = source
        stored: dict[str, Any] = {}
    else:
        stored = _read(source)
        model = _rebuild(stored)
        multilabel = bool(stored.get("multilabel", False))
    spec = model.spec
    num_classes = _head_classes(spec)
    names = list(class_names or stored.get("class_names") or [str(i) for i in range(num_classes)])
    if len(names) != num_classes:
        raise ExportError(f"class_names has {len(names)} entries but the model predicts {num_classes} classes")
    recipe = preprocessing or stored.get("preprocessing") or preprocessing_for(spec)
    merged_meta = {**(stored.get("metadata") or {}), **(metadata or {})}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        save_checkpoint(path, model, num_classes=num_classes, class_names=[str(n) for n in names],
                        multilabel=multilabel, metrics=metrics if metrics is not None else stored.get("metrics", {}),
                        preprocessing=recipe, metadata=merged_meta or None)
    except TypeError as exc:  # jsonable() met a value JSON cannot hold
        raise ExportError(f"metadata/metrics must be JSON-able: {exc}") from None
    load_exported(path)  # an export that does not load again is not an export
    return path


def _read(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(source, Mapping):
        if source.get("format") != CHECKPOINT_FORMAT:
            raise ExportError(f"not a {CHECKPOINT_FORMAT} checkpoint dict")
        return dict(source)
    try:
        return read_checkpoint(source)
    except TrainError as exc:
        raise ExportError(str(exc)) from None


def _rebuild(payload: Mapping[str, Any]) -> GraphNet:
    try:
        spec = ArchSpec.from_json(payload["spec"])
        model = build_model(spec, num_classes=int(payload["num_classes"]))
        model.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError) as exc:
        raise ExportError(f"checkpoint is missing or has a malformed field: {exc}") from None
    except SpecError as exc:
        raise ExportError(f"checkpoint spec is invalid: {exc}") from None
    except RuntimeError as exc:  # state dict does not fit the spec
        raise ExportError(f"checkpoint weights do not fit its spec: {str(exc).splitlines()[0]}") from None
    return model.eval()


def load_exported(path: str | Path) -> LoadedModel:
    """Load a checkpoint (exported, or written by ``train``) for inference, weights_only.

    Checkpoints from before preprocessing was stored get the recipe derived from
    their spec. Raises ExportError naming what is wrong.
    """
    payload = _read(path)
    model = _rebuild(payload)
    spec = model.spec
    recipe = payload.get("preprocessing") or preprocessing_for(spec)
    names = payload.get("class_names")
    if not isinstance(names, list) or len(names) != _head_classes(spec):
        raise ExportError(f"{path}: class_names missing or not one per class")
    meta = {key: value for key, value in payload.items() if key != "state_dict"}
    return LoadedModel(model, spec, [str(n) for n in names], recipe, bool(payload.get("multilabel", False)), meta)

