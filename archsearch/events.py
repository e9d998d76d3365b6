"""Typed search events. The engine emits them through one callback; it never knows who listens."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable


@dataclass
class Event:
    type: str = field(init=False, default="event")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunStarted(Event):
    family: str
    config: dict[str, Any]
    resumed_from: int = 0  # candidates already in the run folder
    type: str = field(init=False, default="run_started")


@dataclass
class GenerationStarted(Event):
    generation: int
    evaluated: int
    type: str = field(init=False, default="generation_started")


@dataclass
class CandidateSampled(Event):
    candidate_id: str
    index: int
    generation: int
    parent_id: str | None
    mutation: str | None
    params: int
    macs: int
    type: str = field(init=False, default="candidate_sampled")


@dataclass
class CandidateEvaluated(Event):
    candidate_id: str
    generation: int
    accuracy: float
    latency_ms: float | None
    fidelity: str
    params: int
    seconds: float
    latency_device: str = "cpu"  # where latency_ms was measured
    type: str = field(init=False, default="candidate_evaluated")


@dataclass
class CandidateRejected(Event):
    candidate_id: str
    generation: int
    reason: str
    latency_ms: float | None = None
    latency_device: str = "cpu"
    type: str = field(init=False, default="candidate_rejected")


@dataclass
class NewBest(Event):
    candidate_id: str
    accuracy: float
    latency_ms: float | None
    type: str = field(init=False, default="new_best")


@dataclass
class GenerationFinished(Event):
    generation: int
    best_accuracy: float
    mean_accuracy: float
    evaluated: int
    type: str = field(init=False, default="generation_finished")


@dataclass
class RunFinished(Event):
    best_id: str | None
    best_accuracy: float | None
    evaluated: int
    rejected: int
    pareto_ids: list[str]
    ensemble: dict[str, Any] | None = None
    type: str = field(init=False, default="run_finished")


Listener = Callable[[Event], None]


class EventBus:
    """Fans events out to listeners; a failing listener never stops the search."""

    def __init__(self, listeners: Iterable[Listener] = ()):
        self.listeners = list(listeners)
        self.errors: list[str] = []

    def emit(self, event: Event) -> None:
        for listener in self.listeners:
            try:
                listener(event)
            except Exception as error:  # noqa: BLE001 - a broken viewer must not kill a search
                self.errors.append(f"{type(listener).__name__}: {error}")
