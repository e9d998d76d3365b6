"""Early termination on the learning curve: the median stopping rule (Golovin et al., Vizier, 2017).

At a fixed step of its first training rung, a candidate's running training loss is compared
with the losses the current population had at that same step; one worse than their median
stops there (the trainer still scores it on the validation split), so its remaining steps
go to the next candidate. Training loss is free to read at every step, unlike a validation
pass, which is why the curve is the loss and not the accuracy.
"""
from __future__ import annotations

import statistics
from typing import Iterable

from videomodels.train import TrainCallback


def check_step(low_steps: int, fraction: float) -> int | None:
    """The step of the first rung at which the rule looks, or None when it is off."""
    if fraction <= 0 or low_steps < 2:
        return None
    return min(low_steps - 1, max(1, round(low_steps * fraction)))


def median_threshold(losses: Iterable[float | None]) -> float | None:
    """The loss a candidate must not exceed at the check: the population's median (None: no rule yet)."""
    known = [loss for loss in losses if loss is not None]
    return statistics.median(known) if len(known) >= 2 else None


class CurveWatch(TrainCallback):
    """Records the mean training loss over the steps up to ``at`` and stops a run above ``threshold``."""

    def __init__(self, at: int, threshold: float | None):
        self.at = at
        self.threshold = threshold
        self.window = max(1, at // 3)  # a mean of the last steps: one noisy batch must not decide
        self.losses: list[float] = []
        self.loss_at_check: float | None = None
        self.stopped = False

    def on_step(self, step: int, epoch: int, loss: float, lr: float) -> bool:
        if self.loss_at_check is not None:
            return False
        self.losses.append(loss)
        if step < self.at:
            return False
        recent = self.losses[-self.window:]
        self.loss_at_check = sum(recent) / len(recent)
        self.stopped = self.threshold is not None and self.loss_at_check > self.threshold
        return self.stopped
