"""Take a model away: self-describing PyTorch checkpoints, verified ONNX, model cards.

    export_checkpoint(model_or_checkpoint, "model.pt", class_names=..., metadata=...)
    report = export_onnx(model_or_checkpoint, "model.onnx")  # raises ExportRefused
    text = model_card({"name": ..., "metrics": ..., "lineage": [...], ...})
"""
from videomodels.export.card import card_from_training, front_matter, model_card, parse_front_matter
from videomodels.export.checkpoint import ExportError, LoadedModel, export_checkpoint, load_exported
from videomodels.export.onnx import ExportRefused, OnnxModel, OnnxReport, export_onnx, load_onnx

__all__ = [
    "card_from_training",
    "ExportError",
    "ExportRefused",
    "LoadedModel",
    "OnnxModel",
    "OnnxReport",
    "export_checkpoint",
    "export_onnx",
    "front_matter",
    "load_exported",
    "load_onnx",
    "model_card",
    "parse_front_matter",
]
