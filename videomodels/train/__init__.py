"""Training and evaluation of ArchSpec networks on video clip datasets.

    from videomodels.train import TrainConfig, train_and_evaluate, load_checkpoint
    result = train_and_evaluate("tvn-1", "cache/ucf101-16x64", TrainConfig(epochs=5), out_dir="runs/tvn1")
    print(result.score, result.latency["ms"])
    model, meta = load_checkpoint("runs/tvn1/checkpoint.pt")

Pure Python + PyTorch; nothing here imports Django.
"""
from .callbacks import CallbackList, ProgressBar, TrainCallback
from .checkpoint import CHECKPOINT_FORMAT, inherit_weights, load_checkpoint, read_checkpoint, save_checkpoint
from .datasets import DataBundle, prepare_for_spec
from .errors import TrainError
from .latency import measure_model_latency
from .loop import TrainConfig, TrainResult, evaluate, train_and_evaluate
from .metrics import (
    MetricAccumulator,
    average_precision,
    confusion_matrix,
    mean_average_precision,
    multilabel_metrics,
    per_class_accuracy,
    single_label_metrics,
    topk_accuracy,
)
from .specs import cache_shape_for_spec, resolve_spec, streams_for_spec

__all__ = [
    "CHECKPOINT_FORMAT",
    "CallbackList",
    "DataBundle",
    "MetricAccumulator",
    "ProgressBar",
    "TrainCallback",
    "TrainConfig",
    "TrainError",
    "TrainResult",
    "average_precision",
    "cache_shape_for_spec",
    "confusion_matrix",
    "evaluate",
    "inherit_weights",
    "load_checkpoint",
    "mean_average_precision",
    "measure_model_latency",
    "multilabel_metrics",
    "per_class_accuracy",
    "prepare_for_spec",
    "read_checkpoint",
    "resolve_spec",
    "save_checkpoint",
    "single_label_metrics",
    "streams_for_spec",
    "topk_accuracy",
    "train_and_evaluate",
]
