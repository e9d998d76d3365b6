"""A job's run in a worker: claim, run while the heartbeat beats, then record (or hand back)."""
from __future__ import annotations

import logging

from .claims import claim, record, release
from .heartbeat import Heartbeat
from .kinds import failure, kind_named
from .reporting import Interrupted, Reporter
from .shown import showing

log = logging.getLogger("webapp.jobs")


def run_job(kind_name: str, job_id: int, worker: str, beat_seconds: float = 1.0) -> str:
    """The run task's body. Returns what happened: skipped, recorded, discarded or interrupted."""
    kind = kind_named(kind_name)
    taken = claim(kind, job_id, worker)
    if taken is None:
        return "skipped"
    job = kind.model.objects.get(pk=job_id)
    reporter = Reporter()
    heartbeat = Heartbeat(kind, job, taken, reporter, beat_seconds)
    heartbeat.start()
    try:
        try:
            with showing(kind.name, job.pk, kind.shown(job)):
                result = kind.run(job, reporter)
        except Interrupted as why:
            heartbeat.close()
            release(kind, taken, str(why))
            return "interrupted"
        except Exception as error:  # a broken job fails itself, not the worker
            log.exception("%s %s failed", kind.name, job_id)
            result = failure(f"{type(error).__name__}: {error}")
        finally:
            heartbeat.close()
        return "recorded" if record(kind, taken, result, reporter.latest()) else "discarded"
    finally:
        kind.clean_up(job, taken.attempt)
