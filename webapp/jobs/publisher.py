"""The one module that talks to the channel layer.

Every message a browser can hear is one typed definition below: its ``kind`` is the channel
message type (the consumer's handler, ``experiment.event`` -> ``experiment_event``), its group is
built here and nowhere else, and ``body()`` is all it carries (ids and deltas, never a spec: the
layer drops messages near 1 MB). Channel layers deliver at most once, so every sender is best
effort and never raises; pages repair a loss from the database (stored events and ``seq`` replay,
whole states, the audit trail). Callers inside a transaction publish with ``send_on_commit`` so a
browser never hears of a row it cannot read yet.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any, ClassVar, Protocol

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger("webapp.jobs.publisher")


# ---------------------------------------------------------------------- groups
def experiment_group(experiment_id: int) -> str:
    return f"experiment.{experiment_id}"


def evaluation_group(evaluation_id: int) -> str:
    return f"evaluation.{evaluation_id}"


def job_group(kind_name: str, job_id: int) -> str:
    return f"job.{kind_name}.{job_id}"


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


# ---------------------------------------------------------------------- messages
class Message(Protocol):
    kind: ClassVar[str]

    @property
    def group(self) -> str: ...

    def body(self) -> dict[str, Any]: ...


@dataclasses.dataclass(frozen=True)
class ExperimentEvent:
    """A stored event of a search (its ``seq`` lets the page drop duplicates and fill gaps)."""
    kind: ClassVar[str] = "experiment.event"
    experiment_id: int
    seq: int
    event: dict

    @property
    def group(self) -> str:
        return experiment_group(self.experiment_id)

    def body(self) -> dict[str, Any]:
        return {"seq": self.seq, "event": self.event}


@dataclasses.dataclass(frozen=True)
class ExperimentWeights:
    """A candidate's learned edge weights while it trains (not stored)."""
    kind: ClassVar[str] = "experiment.weights"
    experiment_id: int
    candidate: int
    step: int
    weights: list

    @property
    def group(self) -> str:
        return experiment_group(self.experiment_id)

    def body(self) -> dict[str, Any]:
        return {"candidate": self.candidate, "step": self.step, "weights": self.weights}


@dataclasses.dataclass(frozen=True)
class EvaluationState:
    """The whole (small) state of an evaluation: a lost one is repaired by the next."""
    kind: ClassVar[str] = "evaluation.state"
    evaluation_id: int
    state: dict

    @property
    def group(self) -> str:
        return evaluation_group(self.evaluation_id)

    def body(self) -> dict[str, Any]:
        return {"state": self.state}


@dataclasses.dataclass(frozen=True)
class EvaluationWeights:
    """An evaluated network's learned edge weights while it trains (not stored)."""
    kind: ClassVar[str] = "evaluation.weights"
    evaluation_id: int
    step: int
    weights: list

    @property
    def group(self) -> str:
        return evaluation_group(self.evaluation_id)

    def body(self) -> dict[str, Any]:
        return {"step": self.step, "weights": self.weights}


@dataclasses.dataclass(frozen=True)
class JobState:
    """Where a job of any kind is now (status, stage, progress, reason): its page re-reads the rest over HTTP."""
    kind: ClassVar[str] = "job.state"
    kind_name: str
    job_id: int
    state: dict

    @property
    def group(self) -> str:
        return job_group(self.kind_name, self.job_id)

    def body(self) -> dict[str, Any]:
        return {"state": self.state}


@dataclasses.dataclass(frozen=True)
class TeamActivity:
    """One audit entry of a team, for its activity feed."""
    kind: ClassVar[str] = "team.activity"
    team_id: int
    entry: dict

    @property
    def group(self) -> str:
        return team_group(self.team_id)

    def body(self) -> dict[str, Any]:
        return {"message": self.entry}


@dataclasses.dataclass(frozen=True)
class MembershipChanged:
    """A user's role in a team changed: their open sockets decide again."""
    kind: ClassVar[str] = "membership.changed"
    user_id: int
    team_id: int

    @property
    def group(self) -> str:
        return user_group(self.user_id)

    def body(self) -> dict[str, Any]:
        return {"team": self.team_id}


# ---------------------------------------------------------------------- sending
def send(message: Message) -> bool:
    """Send now; False (logged) when the layer refused. Never raises: the work that publishes goes on."""
    try:
        async_to_sync(get_channel_layer().group_send)(message.group, {"type": message.kind, **message.body()})
        return True
    except Exception as error:  # noqa: BLE001 - viewers catch up from the database
        log.warning("could not send %s to %s: %s", message.kind, message.group, error)
        return False


def send_on_commit(message: Message) -> None:
    """Send once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: send(message))
