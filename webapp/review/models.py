"""Review: one reference to any reviewable model, comments, review status, tags,
named pointers and an append-only audit trail.

``Subject`` is the one way review points at a model: a candidate, an architecture version, an
evaluation of a version (a version trained on a dataset: it has trained weights, a version has none)
or an ensemble, each by a real foreign key (exactly one is set, matching ``kind``), so deleting the
model deletes its review and the database keeps the references honest. Tags, pointers,
comments, status and audit all hang off a Subject.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from webapp.architectures.evaluations import Evaluation
from webapp.architectures.models import ArchitectureVersion
from webapp.jobs.models import Job
from webapp.studio.models import Candidate
from webapp.teams.models import Team, TeamScopedQuerySet


class SubjectQuerySet(TeamScopedQuerySet):
    pass


class Subject(models.Model):
    class Kind(models.TextChoices):
        CANDIDATE = "candidate", "Search candidate"
        VERSION = "version", "Architecture version"
        EVALUATION = "evaluation", "Evaluation of a version"
        ENSEMBLE = "ensemble", "Ensemble"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="review_subjects")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    candidate = models.OneToOneField(Candidate, null=True, blank=True, on_delete=models.CASCADE, related_name="review")
    version = models.OneToOneField(ArchitectureVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="review")
    ensemble = models.OneToOneField("Ensemble", null=True, blank=True, on_delete=models.CASCADE, related_name="review")
    evaluation = models.OneToOneField(Evaluation, null=True, blank=True, on_delete=models.CASCADE, related_name="review")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status_at = models.DateTimeField(null=True, blank=True)
    status_comment = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = SubjectQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(name="subject_points_at_its_kind", condition=(
                Q(kind="candidate", candidate__isnull=False, version__isnull=True, ensemble__isnull=True, evaluation__isnull=True)
                | Q(kind="version", candidate__isnull=True, version__isnull=False, ensemble__isnull=True, evaluation__isnull=True)
                | Q(kind="ensemble", candidate__isnull=True, version__isnull=True, ensemble__isnull=False, evaluation__isnull=True)
                | Q(kind="evaluation", candidate__isnull=True, version__isnull=True, ensemble__isnull=True,
                    evaluation__isnull=False))),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.target_id}"

    @property
    def target_id(self) -> int:
        return {"candidate": self.candidate_id, "version": self.version_id, "ensemble": self.ensemble_id,
                "evaluation": self.evaluation_id}[self.kind]

    @property
    def target(self):
        return getattr(self, self.kind)


class EnsembleQuerySet(TeamScopedQuerySet):
    pass


class Ensemble(Job):
    """Several candidates whose averaged logits are evaluated together (a job of webapp.jobs; ``reason`` says
    why one failed)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Evaluating"
        EVALUATED = "evaluated", "Evaluated"
        FAILED = "failed", "Failed"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="ensembles")
    name = models.CharField(max_length=200)
    members = models.ManyToManyField(Candidate, related_name="ensembles")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    accuracy = models.FloatField(null=True, blank=True)
    member_accuracy = models.JSONField(default=dict, blank=True)  # candidate id -> accuracy on the same clips
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    objects = EnsembleQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]


class CommentQuerySet(TeamScopedQuerySet):
    team_path = "subject__team"


class Comment(models.Model):
    """A thread starts with a comment without ``parent``; replies point at it. A thread may be anchored
    to a node or an edge of the spec it was written against (spec hash + element + attribute snapshot)."""

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    anchor_spec_hash = models.CharField(max_length=80, blank=True)
    anchor_node = models.CharField(max_length=200, blank=True)
    anchor_src = models.CharField(max_length=200, blank=True)
    anchor_dst = models.CharField(max_length=200, blank=True)
    anchor_snapshot = models.JSONField(default=dict, blank=True)  # the node's or edge's attributes then
    resolved = models.BooleanField(default=False)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created", "pk"]

    @property
    def anchor(self) -> dict | None:
        if self.anchor_node:
            return {"node": self.anchor_node}
        if self.anchor_src:
            return {"edge": [self.anchor_src, self.anchor_dst]}
        return None


class Tag(models.Model):
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=50)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["subject", "name"], name="tag_once_per_subject")]
        indexes = [models.Index(fields=["name", "subject"], name="tag_name_subject")]


class Pointer(models.Model):
    """A team-wide name ("production", "paper") that points at one model at a time; moves are audited."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="pointers")
    name = models.CharField(max_length=50)
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="pointers")
    moved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    moved = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="pointer_name_unique_per_team")]


class AppendOnlyError(RuntimeError):
    pass


class AuditQuerySet(TeamScopedQuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("the audit trail is append-only")

    def delete(self):
        raise AppendOnlyError("the audit trail is append-only")


class AuditEntry(models.Model):
    """One change of status, tag, pointer, comment or membership; never changed or deleted once written."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="audit")
    subject = models.ForeignKey(Subject, null=True, blank=True, on_delete=models.CASCADE, related_name="audit")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=40)
    detail = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["team", "-created"], name="audit_team_created")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("the audit trail is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("the audit trail is append-only")


class ExportQuerySet(TeamScopedQuerySet):
    team_path = "subject__team"


class Export(Job):
    """An ONNX or a portable PyTorch checkpoint of trained weights (an evaluated candidate's or evaluation's), made
    by a job in a process of its own (webapp.review.export_jobs).

    The row says where it is (stage, progress) and, once ready, how big the file is before anyone
    downloads it; a failed export keeps its reason and no file."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Exporting"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="exports")
    class Format(models.TextChoices):
        ONNX = "onnx", "ONNX"
        CHECKPOINT = "checkpoint", "PyTorch checkpoint"

    format = models.CharField(max_length=10, choices=Format.choices, default=Format.ONNX)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    filename = models.CharField(max_length=200)
    path = models.CharField(max_length=1000, blank=True, help_text="the finished file, inside the studio's data folder")
    size_bytes = models.BigIntegerField(null=True, blank=True)
    report = models.JSONField(default=dict, blank=True, help_text="ONNX: opset, largest difference from PyTorch; checkpoint: how it was verified; seconds")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)

    objects = ExportQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]


class ThreadFate(models.Model):
    """Whether an anchored thread still holds on a spec it was not written on, once worked out.

    Both specs are immutable (a version's, a candidate's), so the answer never changes: reading a
    review looks it up instead of diffing every earlier anchored version again (webapp.review.outdated)."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="fates")
    spec_hash = models.CharField(max_length=80)  # of the spec the thread is shown on
    reason = models.TextField(blank=True)  # why it is outdated there; "" when it still holds

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comment", "spec_hash"], name="one_fate_per_thread_and_spec")]
