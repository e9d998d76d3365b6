"""The studio's data: datasets, experiments (searches), their candidates and events (teams: webapp.teams).

Fat models: state questions (progress, ETA, what the engine needs to rebuild its state)
are answered here; the services package changes state; tasks stay thin.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from webapp.jobs.models import Job
from webapp.teams.models import Team, TeamScopedQuerySet

from . import figures
from .outcomes import accuracy_note


class DatasetQuerySet(TeamScopedQuerySet):
    pass


class Dataset(models.Model):
    class Kind(models.TextChoices):
        FOLDER = "folder", "Server folder"
        SYNTHETIC = "synthetic", "Motion benchmark (generated)"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PREPARING = "preparing", "Preparing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="datasets")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source_path = models.CharField(max_length=1000, blank=True, help_text="Folder (or CSV manifest) on the server")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Preparation parameters.
    frames = models.PositiveIntegerField(default=8)
    size = models.PositiveIntegerField(default=32)
    flow = models.BooleanField(default=False, help_text="Compute optical flow (AssembleNet needs it)")
    clips_per_class = models.PositiveIntegerField(null=True, blank=True)
    synthetic_classes = models.JSONField(default=list, blank=True)
    seed = models.IntegerField(default=0)
    # What preparation found.
    cache_path = models.CharField(max_length=1000, blank=True)
    has_flow = models.BooleanField(default=False)
    num_classes = models.PositiveIntegerField(default=0)
    class_names = models.JSONField(default=list, blank=True)
    report = models.JSONField(default=dict, blank=True)  # PrepareReport.to_dict(): bad_files with reasons
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = DatasetQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="dataset_name_unique_per_team")]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("dataset-detail", args=[self.pk])

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    @property
    def preparation(self) -> "DatasetPreparation | None":
        """The latest preparation (its stage and progress while it runs); lists prefetch them all."""
        return max(self.preparations.all(), key=lambda job: job.pk, default=None)

    @property
    def bad_files(self) -> list[dict[str, str]]:
        return list(self.report.get("bad_files") or [])

    @property
    def split_counts(self) -> dict[str, int]:
        return dict(self.report.get("split_counts") or {})

    @property
    def val_clips(self) -> int | None:
        """Clips that score a candidate (the cache falls back to 'test' when there is no 'val')."""
        counts = self.split_counts
        return counts.get("val") or counts.get("test") or None

    @property
    def accuracy_note(self) -> str:
        """Why accuracies on this dataset move in big steps, or '' when they do not."""
        return accuracy_note(self.val_clips)


class DatasetPreparation(Job):
    """One preparation of a dataset into its clip cache: a job of webapp.jobs (claimed, beaten, handed
    back, recorded once, redone if its worker dies). The dataset's own status follows it (queued is
    the dataset's pending, running its preparing); what the preparation found is written on the dataset."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Preparing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="preparations")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"preparation {self.pk} of {self.dataset}"


class ExperimentQuerySet(TeamScopedQuerySet):
    def newest_first(self) -> "ExperimentQuerySet":
        # Explicit: Meta.ordering is dropped from GROUP BY queries (e.g. with evaluated counts annotated).
        return self.order_by("-created", "-pk")


class Experiment(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        STOPPING = "stopping", "Stopping"
        STOPPED = "stopped", "Stopped"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        GAVE_UP = "gave_up", "Gave up"  # ended before its budget: every proposal was rejected (see ``outcome``)

    TERMINAL = (Status.FINISHED, Status.CANCELLED, Status.GAVE_UP)

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="experiments")
    name = models.CharField(max_length=200)
    family = models.CharField(max_length=20)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="experiments")
    config = models.JSONField()  # archsearch SearchConfig.to_dict()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    outcome = models.TextField(blank=True, help_text="Why it ended the way it did, in words (e.g. why it gave up)")
    warnings = models.JSONField(default=list, blank=True, help_text="Launch-time warnings, e.g. a latency budget out of reach")
    parallelism = models.PositiveIntegerField(default=2, help_text="Candidates evaluated at once")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    resumed_at = models.DateTimeField(null=True, blank=True)  # start of the current running period
    active_seconds = models.FloatField(default=0.0)  # running time of the periods before it
    last_seq = models.PositiveIntegerField(default=0)  # of its events
    best_candidate = models.ForeignKey("Candidate", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    summary = models.JSONField(default=dict, blank=True)  # at the end: Pareto front, ensemble
    error = models.TextField(blank=True)

    objects = ExperimentQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]  # newest first, even for two created in the same clock tick

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("experiment-detail", args=[self.pk])

    # -- derived state --------------------------------------------------------------
    def search_config(self):
        from archsearch.config import SearchConfig

        return SearchConfig.from_dict(self.config)

    @property
    def total_candidates(self) -> int:
        """Trained candidates the search runs to: population x (rounds + 1)."""
        return int(self.config["population"]) * (int(self.config["rounds"]) + 1)

    def running_seconds(self, now=None) -> float:
        seconds = self.active_seconds
        if self.resumed_at is not None:
            seconds += ((now or timezone.now()) - self.resumed_at).total_seconds()
        return max(0.0, seconds)

    def progress(self, evaluated: int | None = None) -> dict[str, Any]:
        """Evaluated of total, the current generation and the time left at the pace so far."""
        if evaluated is None:
            evaluated = self.candidates.filter(status=Candidate.Status.EVALUATED).count()
        total = self.total_candidates
        population = int(self.config["population"])
        seconds = self.running_seconds()
        eta = None
        if self.status in (self.Status.FINISHED, self.Status.GAVE_UP):
            eta = 0.0
        elif evaluated and seconds > 0 and self.status in (self.Status.RUNNING, self.Status.STOPPING):
            eta = seconds / evaluated * max(0, total - evaluated)
        return {
            "evaluated": evaluated,
            "total": total,
            "fraction": min(1.0, evaluated / total) if total else 0.0,
            # Counted from 1 like "generations", as every page says it (webapp.studio.figures.generation).
            "generation": figures.generation(min(evaluated // population, int(self.config["rounds"]))),
            "generations": int(self.config["rounds"]) + 1,
            "running_seconds": round(seconds, 1),
            "eta_seconds": None if eta is None else round(eta, 1),
        }

    @property
    def can_start(self) -> bool:
        return self.status == self.Status.QUEUED

    @property
    def can_stop(self) -> bool:
        return self.status == self.Status.RUNNING

    @property
    def can_resume(self) -> bool:
        return self.status in (self.Status.STOPPED, self.Status.FAILED)

    @property
    def can_cancel(self) -> bool:
        return self.status not in self.TERMINAL


LEADERBOARD_SORTS = (("accuracy", "acc"), ("latency_ms", "lat"), ("params", "params"), ("macs", "macs"))


class CandidateQuerySet(TeamScopedQuerySet):
    team_path = "experiment__team"


class Candidate(Job):
    """A network the search proposed, and its evaluation: a job of webapp.jobs (kind "candidate", see
    candidate_job) whose waiting status is "proposed"; what the evaluation found is on the row."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        RUNNING = "running", "Training"
        EVALUATED = "evaluated", "Evaluated"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"

    IN_FLIGHT = (Status.PROPOSED, Status.RUNNING)
    COMPLETED = (Status.EVALUATED, Status.REJECTED, Status.FAILED)

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="candidates")
    index = models.PositiveIntegerField()
    name = models.CharField(max_length=20)  # the engine's id, e.g. "c0007"
    generation = models.PositiveIntegerField(default=0)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    mutation = models.TextField(blank=True)
    mutation_details = models.JSONField(default=dict, blank=True)
    spec = models.JSONField()  # ArchSpec JSON: what the graph editor, diffs and exports read
    spec_hash = models.CharField(max_length=80, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    accuracy = models.FloatField(null=True, blank=True)
    low_accuracy = models.FloatField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    # Where latency_ms was measured (the search's latency device): "cpu" or "cuda"; the hardware in words.
    latency_device = models.CharField(max_length=10, default="cpu")
    latency_hardware = models.CharField(max_length=200, blank=True)
    # How much the timed runs moved: {ms, p10, p50, p90, runs, rounds} (videomodels.robust_latency).
    latency_spread = models.JSONField(default=dict, blank=True)
    params = models.BigIntegerField(null=True, blank=True)
    macs = models.BigIntegerField(null=True, blank=True)
    fidelity = models.CharField(max_length=10, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    edge_weights = models.JSONField(default=list, blank=True)
    checkpoint = models.CharField(max_length=1000, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    # In which order results came (the search's history); who evaluates it and how is the job's (Job's fields).
    completion_order = models.PositiveIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    objects = CandidateQuerySet.as_manager()

    class Meta:
        ordering = ["experiment", "index"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "index"], name="candidate_index_unique"),
            models.UniqueConstraint(fields=["experiment", "name"], name="candidate_name_unique"),
        ]
        # The leaderboards (webapp.review) sort by these within an experiment and across a team.
        indexes = [
            *(models.Index(fields=["experiment", field, "id"], name=f"cand_exp_{short}") for field, short in LEADERBOARD_SORTS),
            *(models.Index(fields=[field, "id"], name=f"cand_{short}") for field, short in LEADERBOARD_SORTS),
        ]

    def __str__(self) -> str:
        return f"{self.experiment_id}/{self.name}"

    def get_absolute_url(self) -> str:
        return reverse("candidate-detail", args=[self.pk])

    @property
    def latency_label(self) -> str:
        """Where its latency was measured, as a page says it: 'CPU' or 'GPU (NVIDIA H200)'."""
        return latency_label(self.latency_device, self.latency_hardware)

    @property
    def latency_spread_text(self) -> str:
        """'p10–p90 11.9–14.0 ms, 15 runs in 2 rounds', or '' when the spread was not recorded."""
        return spread_text(self.latency_spread)

    def proposal(self) -> dict[str, Any]:
        """The engine's proposal dict this row was created from."""
        return {
            "id": self.name,
            "index": self.index,
            "generation": self.generation,
            "parent_id": self.parent.name if self.parent_id else None,
            "mutation": self.mutation or None,
            "mutation_details": self.mutation_details,
            "spec": self.spec,
            "spec_hash": self.spec_hash,
            "params": self.params,
            "macs": self.macs,
            "status": "proposed",
        }

    def history_record(self) -> dict[str, Any]:
        """What the engine recorded for it: proposal plus result."""
        record = self.proposal()
        record.update(status=self.status, accuracy=self.accuracy, low_accuracy=self.low_accuracy, latency_ms=self.latency_ms,
                      latency_device=self.latency_device,
                      fidelity=self.fidelity, checkpoint=self.checkpoint, edge_weights=self.edge_weights, reason=self.reason,
                      seconds=self.seconds, curve_loss=(self.metrics or {}).get("curve_loss"))
        return record

    def lineage(self) -> list["Candidate"]:
        """This candidate, its parent, the parent's parent... up to a sampled ancestor."""
        chain, seen, node = [], set(), self
        while node is not None and node.pk not in seen:
            chain.append(node)
            seen.add(node.pk)
            node = node.parent
        return chain


def latency_label(device: str | None, hardware: str = "") -> str:
    if (device or "cpu") == "cpu":
        return "CPU"
    return f"GPU ({hardware})" if hardware else "GPU"


class Event(models.Model):
    """A stored milestone of an experiment; ``seq`` orders them and lets a client resume."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["experiment", "seq"]
        constraints = [models.UniqueConstraint(fields=["experiment", "seq"], name="event_seq_unique")]

    def __str__(self) -> str:
        return f"{self.experiment_id}#{self.seq} {self.type}"

    def message(self) -> dict[str, Any]:
        """What a browser receives, live or replayed."""
        return {"kind": "event", "seq": self.seq, "type": self.type, "payload": self.payload, "created": self.created.isoformat()}


def spread_text(spread: dict | None) -> str:
    """How far a latency's timed runs wandered, in words ('' when not recorded)."""
    if not spread or spread.get("p10") is None or spread.get("p90") is None:
        return ""
    rounds = int(spread.get("rounds") or 1)
    return (f"p10–p90 {figures.ms(spread['p10'])[:-3]}–{figures.ms(spread['p90'])}, {spread.get('runs')} runs"
            + (f" in {rounds} rounds" if rounds > 1 else ""))


class LatencyCalibration(models.Model):
    """The editor's CPU latency model, fitted to networks measured on one machine
    (videomodels.latency_model): the newest one for a device is what the editor shows."""

    device = models.CharField(max_length=10, default="cpu")
    machine = models.CharField(max_length=300)  # host, processor, threads and torch version, in words
    threads = models.PositiveIntegerField(default=1)
    source = models.CharField(max_length=300)  # which networks: measured specs, or the studio's candidates
    fit = models.JSONField()  # Calibration.to_dict(): coefficients, networks, error, errors
    measured_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-measured_at", "-pk"]
        get_latest_by = "measured_at"

    def __str__(self) -> str:
        return f"{self.device} latency calibration on {self.machine} ({self.measured_at:%Y-%m-%d})"
