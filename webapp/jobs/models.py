"""The fields every job shares. A concrete job model adds what its kind needs (and may override
``status`` with its own choices: the runtime only needs ``queued``, ``running`` and ``failed``,
and treats every other status as finished)."""
from __future__ import annotations

from django.db import models

QUEUED, RUNNING, FAILED = "queued", "running", "failed"


class Job(models.Model):
    status = models.CharField(max_length=10, default=QUEUED)
    # Which worker process holds it ("<worker name>:<pid>") and which attempt that is: a result or a
    # heartbeat counts only while both still match, so a lost claim can never write.
    claimed_by = models.CharField(max_length=200, blank=True)
    attempt = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="why it failed, or why it was run again")
    stage = models.CharField(max_length=100, blank=True)
    progress = models.FloatField(default=0.0)

    class Meta:
        abstract = True
