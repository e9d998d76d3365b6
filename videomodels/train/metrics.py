"""Evaluation metrics for single-label and multi-label video classification.

Pure torch; every function returns plain Python numbers/lists so results can go
straight into JSON. A value that is undefined (accuracy of a class with no
samples, AP of a class with no positives) is None, never NaN.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch


def topk_accuracy(logits: torch.Tensor, targets: torch.Tensor, k: int = 1) -> float:
    """Share of samples whose true class is among the k highest logits."""
    if logits.shape[0] == 0:
        raise ValueError("no samples")
    if k > logits.shape[1]:
        raise ValueError(f"top-{k} accuracy needs at least {k} classes, got {logits.shape[1]}")
    top = logits.topk(k, dim=1).indices
    hits = (top == targets.view(-1, 1)).any(dim=1)
    return int(hits.sum()) / logits.shape[0]  # exact ratio, not a float32 mean


def confusion_matrix(predictions: torch.Tensor, targets: torch.Tensor, num_classes: int) -> torch.Tensor:
    """int64 [K, K]; row = true class, column = predicted class."""
    flat = targets.long() * num_classes + predictions.long()
    return torch.bincount(flat, minlength=num_classes * num_classes).view(num_classes, num_classes)


def per_class_accuracy(confusion: torch.Tensor) -> list[float | None]:
    """Recall of each class (diagonal / row sum); None for classes without samples."""
    totals = confusion.sum(dim=1)
    return [float(confusion[i, i]) / float(totals[i]) if totals[i] > 0 else None for i in range(confusion.shape[0])]


def average_precision(scores: torch.Tensor, positives: torch.Tensor) -> float | None:
    """Area under the precision-recall step curve for one class; None without positives.

    AP = sum over distinct score thresholds of (recall gain) x (precision there).
    Tied scores form one threshold, so the result does not depend on the order of
    tied samples (the same definition as scikit-learn's average_precision_score).
    Without ties this is the mean, over positives, of the precision at each positive's rank.
    """
    scores = scores.double().flatten()
    positives = positives.flatten() > 0.5
    num_positive = int(positives.sum())
    if num_positive == 0:
        return None
    order = torch.argsort(scores, descending=True, stable=True)
    sorted_scores, hits = scores[order], positives[order].double()
    true_pos = torch.cumsum(hits, 0)
    seen = torch.arange(1, len(hits) + 1, dtype=torch.float64)
    # Last index of each run of equal scores: the only places a threshold can sit.
    last_of_tie = torch.nonzero(sorted_scores[1:] != sorted_scores[:-1]).flatten()
    cut = torch.cat([last_of_tie, torch.tensor([len(hits) - 1])])
    precision = true_pos[cut] / seen[cut]
    recall = true_pos[cut] / num_positive
    recall_gain = torch.diff(recall, prepend=torch.zeros(1, dtype=torch.float64))
    return float((recall_gain * precision).sum())


def mean_average_precision(scores: torch.Tensor, targets: torch.Tensor) -> tuple[float | None, list[float | None]]:
    """(mAP, per-class AP) for multi-hot targets [N, K].

    The mean runs over classes with at least one positive; classes without one have
    AP None and do not count (an empty class has no ranking to score).
    """
    per_class = [average_precision(scores[:, k], targets[:, k]) for k in range(scores.shape[1])]
    defined = [ap for ap in per_class if ap is not None]
    return (sum(defined) / len(defined) if defined else None), per_class


def single_label_metrics(
    logits: torch.Tensor, targets: torch.Tensor, class_names: Sequence[str], mean_loss: float | None = None
) -> dict[str, Any]:
    """Everything reported for a single-label evaluation; top-5 is None below 5 classes."""
    num_classes = logits.shape[1]
    confusion = confusion_matrix(logits.argmax(dim=1), targets, num_classes)
    per_class = per_class_accuracy(confusion)
    defined = [acc for acc in per_class if acc is not None]
    return {
        "num_samples": int(logits.shape[0]),
        "loss": mean_loss,
        "top1": topk_accuracy(logits, targets, 1),
        "top5": topk_accuracy(logits, targets, 5) if num_classes >= 5 else None,
        "mean_class_accuracy": sum(defined) / len(defined) if defined else None,
        "per_class_accuracy": dict(zip(class_names, per_class)),
        "confusion_matrix": confusion.tolist(),
    }


def multilabel_metrics(
    logits: torch.Tensor, targets: torch.Tensor, class_names: Sequence[str], mean_loss: float | None = None
) -> dict[str, Any]:
    """Everything reported for a multi-label evaluation (scores are sigmoid(logits);
    AP only depends on the ranking, so logits give the same numbers)."""
    mean_ap, per_class = mean_average_precision(logits, targets)
    return {
        "num_samples": int(logits.shape[0]),
        "loss": mean_loss,
        "mAP": mean_ap,
        "per_class_ap": dict(zip(class_names, per_class)),
    }


# Keys small enough to repeat for every epoch in the history.
COMPACT_KEYS = ("num_samples", "loss", "top1", "top5", "mean_class_accuracy", "mAP")


def compact(metrics: dict[str, Any]) -> dict[str, Any]:
    return {key: metrics[key] for key in COMPACT_KEYS if key in metrics}


class MetricAccumulator:
    """Collects logits, targets and summed loss over batches, then computes the metrics."""

    def __init__(self, class_names: Sequence[str], multilabel: bool) -> None:
        self.class_names = list(class_names)
        self.multilabel = multilabel
        self.logits: list[torch.Tensor] = []
        self.targets: list[torch.Tensor] = []
        self.loss_sum = 0.0
        self.count = 0

    def update(self, logits: torch.Tensor, targets: torch.Tensor, mean_batch_loss: float | None = None) -> None:
        self.logits.append(logits.detach().float().cpu())
        self.targets.append(targets.detach().cpu())
        if mean_batch_loss is not None:
            self.loss_sum += mean_batch_loss * logits.shape[0]
        self.count += logits.shape[0]

    @property
    def mean_loss(self) -> float | None:
        return self.loss_sum / self.count if self.count else None

    def compute(self) -> dict[str, Any]:
        if not self.count:
            raise ValueError("no batches were accumulated")
        logits, targets = torch.cat(self.logits), torch.cat(self.targets)
        if self.multilabel:
            return multilabel_metrics(logits, targets, self.class_names, self.mean_loss)
        return single_label_metrics(logits, targets, self.class_names, self.mean_loss)
