"""What a kind of job gives the runtime, and the registry of kinds by name.

A kind says only what is particular to it: its model, its queue, what to run, how to record the
result, what to show while it runs, and (when its jobs belong to something bigger, like a search's
candidates) which lock to take first, when to stop, and what a handed-back job becomes. Claiming, beating, handing back, recording once and recovering
are the runtime's (webapp.jobs.claims, runner, recovery), the same for every kind."""
from __future__ import annotations

import abc
import dataclasses
from typing import Any, ClassVar

from .models import QUEUED, Job
from .publisher import JobState, send_on_commit
from .reporting import Reporter


@dataclasses.dataclass(frozen=True)
class Shown:
    """What the workers page says a worker is busy with."""
    title: str
    url: str
    team_id: int | None


class JobKind(abc.ABC):
    name: ClassVar[str]
    model: ClassVar[type[Job]]
    queue: ClassVar[str] = "train"
    # A job whose worker vanishes is run again until it has been tried this many times, then fails:
    # a job that kills its worker every time must not take every worker down in turn forever.
    max_attempts: ClassVar[int] = 2
    # The status its model gives a job that waits for a worker (a search's candidate says "proposed").
    queued: ClassVar[str] = QUEUED

    @abc.abstractmethod
    def run(self, job: Job, reporter: Reporter) -> dict[str, Any]:
        """Do the work, outside any transaction; call ``reporter.check()`` often (it raises Interrupted
        when the job must stop). Returns the result ``record`` reads. An exception fails the job."""

    @abc.abstractmethod
    def record(self, job: Job, result: dict[str, Any]) -> None:
        """Put ``result`` on ``job`` (saved by the caller) and give it a finished status. ``result`` may
        be the runtime's ``failure(reason)``: {"status": "failed", "reason": ...}."""

    @abc.abstractmethod
    def shown(self, job: Job) -> Shown:
        """Its title and page while it runs."""

    def lock(self, job_id: int) -> None:
        """First thing in every transaction that claims, hands back or records one of its jobs, before the job's
        row: take the locks its hooks need (a parent's row), so that every path takes them in the same order."""

    def should_stop(self, job: Job) -> str | None:
        """Why the job must not start now (asked at the claim, after ``lock``) or must stop now (asked by the
        heartbeat at every beat: the run's ``reporter.check()`` raises Interrupted with it). None: go on."""
        return None

    def released(self, job: Job, why: str) -> bool:
        """The job is queued again without a result (its worker shut down, it was told to stop, or its worker
        went silent), inside that transaction. The kind may end it instead (give it a finished status and
        save it). True: send it to a worker now; False: it waits (the kind queues it when it wants it run)."""
        return True

    def claimed(self, job: Job) -> None:
        """A new attempt starts (inside the claim's transaction): clear what the last attempt left."""

    def changed(self, job: Job) -> None:
        """Its state changed (inside the transaction that changed it): its page hears where it is now, once the
        transaction commits. Every kind's page listens (/ws/jobs/<kind>/<id>/), so none stays on a stale status."""
        send_on_commit(JobState(self.name, job.pk, self.state(job)))

    def state(self, job: Job) -> dict[str, Any]:
        """What its page hears at each change (small: the page reads results over HTTP)."""
        label = getattr(job, "get_status_display", lambda: job.status)()
        return {"kind": "job", "job": self.name, "id": job.pk, "status": job.status, "status_label": label, "stage": job.stage,
                "progress": round(job.progress, 3), "reason": job.reason, "attempt": job.attempt}

    def clean_up(self, job: Job, attempt: int) -> None:
        """After an attempt ends, recorded or not: remove what it left behind."""


def failure(reason: str) -> dict[str, Any]:
    return {"status": "failed", "reason": reason}


_kinds: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    """Called once by the app that owns the kind (its AppConfig.ready)."""
    existing = _kinds.get(kind.name)
    if existing is not None and type(existing) is not type(kind):
        raise ValueError(f"two kinds of job named {kind.name!r}: {type(existing).__name__} and {type(kind).__name__}")
    _kinds[kind.name] = kind
    return kind


def kind_named(name: str) -> JobKind:
    try:
        return _kinds[name]
    except KeyError:
        raise LookupError(f"no kind of job named {name!r} (registered: {sorted(_kinds)})") from None


def registered_kinds() -> list[JobKind]:
    return list(_kinds.values())
