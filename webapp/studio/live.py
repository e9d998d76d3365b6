"""Live learned edge weights: while a network trains, its fusion weights go to the viewers.

A training callback (see videomodels.train.callbacks) that, at most every ``interval`` seconds,
reads the model's post-sigmoid fusion weights and sends them as one list aligned with the spec's
edges (``null`` where an edge has no learned weight). Only that vector travels, never the spec:
a few kilobytes even for AssembleNet-101, far under the channel layer's limit. Best effort, not
stored: the final weights are stored with the result and are what a page shows afterwards.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable

log = logging.getLogger("webapp.studio.live")


def weights_vector(spec: dict, learned: list[dict]) -> list[float | None]:
    by_ends = {(w["source"], w["target"]): round(float(w["weight"]), 4) for w in learned}
    return [by_ends.get((e.get("source"), e.get("target"))) for e in spec.get("edges", [])]


class LiveWeights:
    """Training callback: calls ``send(vector, step)`` at a modest rate while the model learns."""

    def __init__(self, spec: dict, send: Callable[[list, int], Any], interval: float = 2.0):
        self.spec, self.send, self.interval = spec, send, interval
        self.model = None
        self.last = 0.0

    def on_model(self, model) -> None:
        self.model = model if getattr(model, "fusions", None) else None  # nothing to show without fusion weights

    def on_step(self, step: int, epoch: int, loss: float, lr: float) -> None:
        now = time.monotonic()
        if self.model is None or now - self.last < self.interval:
            return
        self.last = now
        from archsearch.evaluate import edge_weights_of

        try:
            self.send(weights_vector(self.spec, edge_weights_of(self.model)), step)
        except Exception as error:  # noqa: BLE001 - a viewer's courtesy must never stop training
            log.warning("live weights not sent: %s", error)

