"""Metrics against values computed by hand."""
import math

import pytest
import torch

from videomodels.train.metrics import (
    MetricAccumulator,
    average_precision,
    confusion_matrix,
    mean_average_precision,
    per_class_accuracy,
    single_label_metrics,
    topk_accuracy,
)

# 4 samples, 3 classes. Predictions (argmax): 0, 2, 1, 2; targets: 0, 1, 1, 2.
LOGITS = torch.tensor([
    [3.0, 1.0, 0.0],
    [0.0, 1.0, 2.0],
    [0.5, 2.0, 0.0],
    [0.0, 1.0, 4.0],
])
TARGETS = torch.tensor([0, 1, 1, 2])


def test_top1_and_top2_accuracy():
    assert topk_accuracy(LOGITS, TARGETS, 1) == pytest.approx(3 / 4)
    # Sample 1's true class (1) is its second-highest logit.
    assert topk_accuracy(LOGITS, TARGETS, 2) == pytest.approx(1.0)


def test_topk_needs_enough_classes():
    with pytest.raises(ValueError, match="top-5"):
        topk_accuracy(LOGITS, TARGETS, 5)


def test_confusion_matrix_rows_are_true_classes():
    confusion = confusion_matrix(LOGITS.argmax(1), TARGETS, 3)
    assert confusion.tolist() == [
        [1, 0, 0],
        [0, 1, 1],
        [0, 0, 1],
    ]


def test_per_class_accuracy_marks_classes_without_samples():
    confusion = confusion_matrix(torch.tensor([0, 0, 1]), torch.tensor([0, 1, 1]), 3)
    assert per_class_accuracy(confusion) == [1.0, 0.5, None]


def test_single_label_summary():
    metrics = single_label_metrics(LOGITS, TARGETS, ["a", "b", "c"], mean_loss=0.25)
    assert metrics["top1"] == pytest.approx(0.75)
    assert metrics["top5"] is None  # fewer than 5 classes
    assert metrics["per_class_accuracy"] == {"a": 1.0, "b": 0.5, "c": 1.0}
    assert metrics["mean_class_accuracy"] == pytest.approx(2.5 / 3)
    assert metrics["num_samples"] == 4 and metrics["loss"] == 0.25


def test_top5_reported_from_five_classes():
    logits = torch.tensor([[5.0, 4, 3, 2, 1, 0], [0.0, 1, 2, 3, 4, 5]])
    metrics = single_label_metrics(logits, torch.tensor([4, 0]), list("abcdef"))
    assert metrics["top1"] == 0.0
    assert metrics["top5"] == pytest.approx(0.5)  # class 4 is 5th for sample 0; class 0 is 6th for sample 1


def test_average_precision_by_hand():
    # Ranked: +, -, +, -  -> precision at the positives 1/1 and 2/3.
    ap = average_precision(torch.tensor([0.9, 0.8, 0.7, 0.6]), torch.tensor([1, 0, 1, 0]))
    assert ap == pytest.approx((1.0 + 2 / 3) / 2)
    # Ranked: -, +, +  -> precisions 1/2 and 2/3.
    ap = average_precision(torch.tensor([0.1, 0.9, 0.5]), torch.tensor([1, 0, 1]))
    assert ap == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_average_precision_ties_do_not_depend_on_order():
    # Two samples tie at the top, one positive: one threshold with precision 1/2.
    assert average_precision(torch.tensor([0.5, 0.5]), torch.tensor([1, 0])) == pytest.approx(0.5)
    assert average_precision(torch.tensor([0.5, 0.5]), torch.tensor([0, 1])) == pytest.approx(0.5)


def test_average_precision_without_positives_is_none():
    assert average_precision(torch.tensor([0.3, 0.2]), torch.tensor([0, 0])) is None


def test_mean_average_precision_skips_classes_without_positives():
    scores = torch.tensor([
        [0.9, 0.1, 0.2],
        [0.8, 0.7, 0.6],
        [0.1, 0.6, 0.3],
    ])
    targets = torch.tensor([
        [1, 0, 0],
        [0, 1, 0],
        [1, 0, 0],
    ], dtype=torch.float32)
    mean_ap, per_class = mean_average_precision(scores, targets)
    # class 0 ranking: +, -, +  -> (1 + 2/3) / 2; class 1 ranking: +, -, - -> 1; class 2: no positives.
    assert per_class[0] == pytest.approx(5 / 6)
    assert per_class[1] == pytest.approx(1.0)
    assert per_class[2] is None
    assert mean_ap == pytest.approx((5 / 6 + 1.0) / 2)


def test_accumulator_weights_loss_by_batch_size():
    accumulator = MetricAccumulator(["a", "b", "c"], multilabel=False)
    accumulator.update(LOGITS[:3], TARGETS[:3], mean_batch_loss=1.0)
    accumulator.update(LOGITS[3:], TARGETS[3:], mean_batch_loss=3.0)
    metrics = accumulator.compute()
    assert metrics["loss"] == pytest.approx((3 * 1.0 + 1 * 3.0) / 4)
    assert metrics["top1"] == pytest.approx(0.75)
    assert not any(isinstance(v, float) and math.isnan(v) for v in metrics.values())


def test_accumulator_multilabel_reports_map():
    accumulator = MetricAccumulator(["x", "y"], multilabel=True)
    accumulator.update(torch.tensor([[2.0, -1.0], [-1.0, 1.0]]), torch.tensor([[1.0, 0.0], [0.0, 1.0]]), 0.5)
    metrics = accumulator.compute()
    assert metrics["mAP"] == pytest.approx(1.0)
    assert metrics["per_class_ap"] == {"x": 1.0, "y": 1.0}
