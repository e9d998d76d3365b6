"""The thread that beats for a running job, on its own database connection."""
from __future__ import annotations

import logging
import threading

from django.db import connection

from .claims import Claim, beat
from .kinds import JobKind
from .models import Job
from .reporting import Reporter

log = logging.getLogger("webapp.jobs")


class Beating(threading.Thread):
    """Calls ``beat()`` every ``interval`` s on its own database connection until ``close()``."""

    def __init__(self, name: str, interval: float):
        super().__init__(name=name, daemon=True)
        self.interval = interval
        self.done = threading.Event()

    def beat(self) -> None:
        raise NotImplementedError

    def run(self) -> None:
        try:
            while not self.done.wait(self.interval):
                self.beat()
        finally:
            connection.close()

    def close(self) -> None:
        self.done.set()
        if self.is_alive():
            self.join(timeout=30)


class Heartbeat(Beating):
    """Every ``interval`` s: heartbeat_at, plus what the job reported since; notes on the reporter a lost claim,
    or why the job's kind says it must stop (``JobKind.should_stop``)."""

    def __init__(self, kind: JobKind, job: Job, claim: Claim, reporter: Reporter, interval: float = 1.0):
        super().__init__(f"heartbeat-{kind.name}-{claim.job_id}", interval)
        self.kind, self.job, self.claim, self.reporter = kind, job, claim, reporter

    def beat(self) -> None:
        changes = self.reporter.take_changes()
        try:
            if not beat(self.kind, self.claim, changes):
                self.reporter.lost = True
                return
            self.reporter.stop_reason = self.kind.should_stop(self.job) or self.reporter.stop_reason
        except Exception as error:  # noqa: BLE001 - a busy database now and then must not stop the job
            log.warning("heartbeat of %s %s failed: %s", self.kind.name, self.claim.job_id, error)
            if changes:
                self.reporter.report()  # not written: the next beat writes the latest values again
