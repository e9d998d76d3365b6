"""An evaluation job: one architecture version trained and scored on one dataset with one budget.

Its results (accuracy, latency, params/MACs, per-step losses, learned edge weights) live on the
row, so the version's page and drawing read them back. A job of webapp.jobs: claimed by one worker at
a time, a killed worker's evaluation is redone, never recorded twice.
"""
from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.db import models

from videomodels.archspec import ArchSpec

from webapp.jobs.models import Job
from webapp.studio.models import Dataset
from webapp.teams.models import TeamScopedQuerySet


class EvaluationQuerySet(TeamScopedQuerySet):
    team_path = "version__architecture__team"


class Evaluation(Job):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Training"
        EVALUATED = "evaluated", "Evaluated"
        FAILED = "failed", "Failed"

    version = models.ForeignKey("architectures.ArchitectureVersion", on_delete=models.CASCADE, related_name="evaluations")
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # The budget.
    steps = models.PositiveIntegerField()
    batch_size = models.PositiveIntegerField()
    seed = models.BigIntegerField(default=0)
    # What trains: the version's spec fitted to the dataset (classes, frames, size), and what was adapted.
    spec = models.JSONField()
    notes = models.JSONField(default=list, blank=True)
    # Progress and results.
    step = models.PositiveIntegerField(default=0)
    losses = models.JSONField(default=list, blank=True, help_text="[step, training loss] of every step")
    accuracy = models.FloatField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    params = models.BigIntegerField(null=True, blank=True)
    macs = models.BigIntegerField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    edge_weights = models.JSONField(default=list, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    # Scheduling (claimed_by, attempt, heartbeat_at, started_at, finished_at, reason): webapp.jobs.models.Job.
    created = models.DateTimeField(auto_now_add=True)

    objects = EvaluationQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return f"evaluation {self.pk} of {self.version_id}"

    @cached_property
    def spec_hash(self) -> str:
        """The identity of the spec it trained (a review thread anchored on it names this, as on a version)."""
        return ArchSpec.from_dict(self.spec).content_hash()

    def state(self) -> dict:
        """What a viewer is sent (small: no spec, no per-step losses beyond the last few)."""
        return {"kind": "evaluation", "id": self.pk, "status": self.status, "status_label": self.get_status_display(),
                "stage": self.stage, "step": self.step, "steps": self.steps,
                "loss": self.losses[-1][1] if self.losses else None, "accuracy": self.accuracy, "latency_ms": self.latency_ms,
                "params": self.params, "macs": self.macs, "edge_weights": self.edge_weights if self.status == "evaluated" else [],
                "reason": self.reason, "attempt": self.attempt}
