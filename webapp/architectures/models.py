"""A team's architecture library: architectures and their immutable versions.

An ``Architecture`` is a named line of work in one family; each save adds an
``ArchitectureVersion`` (ArchSpec JSON, content hash, parent version, author, message).
Saving never overwrites: a version row is written once. Where an architecture came from
(a preset, a candidate, an import, another architecture's version) is recorded on it.

Later layers hang off a version by foreign key (evaluation jobs with accuracy, latency and
learned edge weights; seeding into searches), so nothing here needs to change for them.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse

from webapp.studio.models import Candidate
from webapp.teams.models import Team, TeamScopedQuerySet

FAMILIES = (("evanet", "EvaNet"), ("assemblenet", "AssembleNet"), ("tvn", "Tiny Video Networks"))


class ArchitectureQuerySet(TeamScopedQuerySet):
    pass


class Architecture(models.Model):
    class Origin(models.TextChoices):
        NEW = "new", "Drawn from scratch"
        PRESET = "preset", "Preset"
        CANDIDATE = "candidate", "Search candidate"
        IMPORTED = "imported", "Imported"
        VERSION = "version", "Forked from a version"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="architectures")
    name = models.CharField(max_length=200)
    family = models.CharField(max_length=20, choices=FAMILIES)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.NEW)
    origin_preset = models.CharField(max_length=100, blank=True)
    origin_candidate = models.ForeignKey(Candidate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    origin_version = models.ForeignKey("ArchitectureVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="forks")
    origin_note = models.CharField(max_length=300, blank=True, help_text="e.g. the imported format and file name")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = ArchitectureQuerySet.as_manager()

    class Meta:
        ordering = ["-updated"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("architecture-detail", args=[self.pk])

    def latest_version(self) -> "ArchitectureVersion | None":
        return self.versions.order_by("-number").first()

    def origin_text(self) -> str:
        """Where it came from, in words (also what a seeded candidate's lineage will quote)."""
        if self.origin == self.Origin.PRESET:
            return f"preset {self.origin_preset}"
        if self.origin == self.Origin.CANDIDATE:
            candidate = self.origin_candidate
            return f"candidate {candidate.name} of {candidate.experiment.name}" if candidate else "a candidate (since deleted)"
        if self.origin == self.Origin.VERSION:
            version = self.origin_version
            return f"{version.architecture.name} v{version.number}" if version else "a version (since deleted)"
        if self.origin == self.Origin.IMPORTED:
            return f"import ({self.origin_note})" if self.origin_note else "import"
        return "drawn from scratch"


class VersionQuerySet(TeamScopedQuerySet):
    team_path = "architecture__team"


class ImmutableError(RuntimeError):
    pass


class ArchitectureVersion(models.Model):
    architecture = models.ForeignKey(Architecture, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    spec = models.JSONField()  # ArchSpec JSON, validated before it is written
    spec_hash = models.CharField(max_length=80)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    message = models.CharField(max_length=500, blank=True)
    params = models.BigIntegerField(null=True, blank=True)
    macs = models.BigIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = VersionQuerySet.as_manager()

    class Meta:
        ordering = ["architecture", "-number"]
        constraints = [models.UniqueConstraint(fields=["architecture", "number"], name="version_number_unique")]

    def __str__(self) -> str:
        return f"{self.architecture.name} v{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("architecture-detail", args=[self.architecture_id]) + f"?version={self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableError("an architecture version is immutable; save a new version instead")
        super().save(*args, **kwargs)


from .evaluations import Evaluation  # noqa: E402,F401 - evaluation jobs (a module of their own)
