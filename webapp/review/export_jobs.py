"""Exports of trained weights as jobs: ONNX or a portable PyTorch checkpoint, asked for on the model page, an
evaluation's page or the API, run by a worker, one process each.

What has trained weights: an evaluated candidate, and an evaluated version (an Evaluation: a version
trained on a dataset). Both export the same way, through ``create_export(subject, user, fmt)``.

torch.onnx's exporter keeps process-wide state, so exports that share a process (request threads,
or one worker's successive tasks) can break each other and every later one. Here each export runs
in a child process (``python -m videomodels.export.job``) that dies with whatever it did, and a
worker process runs one at a time. A checkpoint goes the same way: rebuilding a large network and
re-saving its weights as a weights-only state dict with its spec and metadata, then loading it again
with ``torch.load(weights_only=True)`` to prove it portable, is long work and has no place in a
request. An export is a job of webapp.jobs: claimed by one worker, its stage and progress written
with the heartbeat while the child works, the result recorded once, only while the claim holds;
redone if its worker dies.

The child writes into a folder of its own under ``<data>/exports/``; only a finished, verified file
is moved to the export's folder and its size recorded, so the page shows the size before anyone
downloads it. Anything else (refused, failed, timed out, claim lost) removes the folder: a failed
export leaves nothing behind, and the next one starts clean in a fresh process.
"""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from webapp.architectures.evaluation_job import trained_checkpoint
from webapp.architectures.evaluations import Evaluation
from webapp.jobs.claims import queue
from webapp.jobs.kinds import JobKind, Shown
from webapp.jobs.reporting import Interrupted, Reporter
from webapp.jobs.retrying import retry
from webapp.studio.models import Candidate
from webapp.studio.services import LimitError, StudioError, data_dir
from webapp.teams.roles import require

from .models import Export, Subject
from .models_view import evaluation_title, ref_url

Status = Export.Status
Format = Export.Format
SUFFIX = {Format.ONNX: ".onnx", Format.CHECKPOINT: ".pt"}
MARK = "@@export "
_one_at_a_time = threading.Lock()  # per worker process, whatever its pool


def exports_dir() -> Path:
    return data_dir() / "exports"


def filename_for(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in text)[:80] or "model"


def training_checkpoint(candidate: Candidate) -> Path | None:
    """The candidate's trained checkpoint, read only from inside the studio's data folder."""
    if not candidate.checkpoint:
        return None
    root = Path(settings.STUDIO_DATA_DIR).resolve()
    path = Path(candidate.checkpoint).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


@dataclasses.dataclass(frozen=True)
class Weights:
    """Trained weights to export: the training's checkpoint and what the exported file says about them."""
    checkpoint: Path
    title: str
    class_names: list[str] | None
    metadata: dict


def trained_weights(subject: Subject) -> Weights:
    """The subject's trained weights, or StudioError naming why there are none (not finished, file gone, no weights
    of its own)."""
    if subject.kind == Subject.Kind.CANDIDATE:
        c = subject.candidate
        if c.status != Candidate.Status.EVALUATED:
            raise StudioError(f"Only an evaluated candidate has trained weights to export; this one is "
                              f"{c.get_status_display().lower()}.", "model")
        source = training_checkpoint(c)
        if source is None:
            raise StudioError("This candidate's trained checkpoint is not on the server any more.", "model")
        return Weights(source, f"{c.experiment.name} · {c.name}", list(c.experiment.dataset.class_names or []) or None,
                       {"candidate": c.name, "experiment": c.experiment.name, "accuracy": c.accuracy})
    if subject.kind == Subject.Kind.EVALUATION:
        e = subject.evaluation
        if e.status != Evaluation.Status.EVALUATED:
            raise StudioError(f"Only a finished evaluation has trained weights to export; this one is "
                              f"{e.get_status_display().lower()}.", "model")
        source = trained_checkpoint(e)
        if source is None:
            raise StudioError("This evaluation's trained checkpoint is not on the server any more.", "model")
        v = e.version
        return Weights(source, evaluation_title(e), list(e.dataset.class_names or []) or None,
                       {"evaluation": e.pk, "architecture": v.architecture.name, "version": v.number, "dataset": e.dataset.name,
                        "accuracy": e.accuracy})
    if subject.kind == Subject.Kind.VERSION:
        raise StudioError("An architecture version has no trained weights of its own: evaluate it, then export the evaluation "
                          "(as an evaluated candidate's are).", "model")
    raise StudioError("An ensemble is exported through its members.", "model")


# ---------------------------------------------------------------------- asking for one
def create_export(subject: Subject, user, fmt: str = "onnx") -> tuple[Export, bool]:
    """(A new export job of ``subject`` in ``fmt`` (onnx or checkpoint), True), or (the one already ready or under way,
    False). Reading the model is enough (viewers export too); a team runs at most STUDIO_TEAM_MAX_ACTIVE_EXPORTS at once."""
    require(user, "export", subject)
    if fmt not in Format.values:
        raise StudioError(f"Unknown export format {str(fmt)[:20]!r}: give one of {', '.join(Format.values)} "
                          "(the spec and the model card download at once).", "format")
    weights = trained_weights(subject)
    limit = settings.STUDIO_TEAM_MAX_ACTIVE_EXPORTS
    with transaction.atomic():
        Subject.objects.select_for_update().filter(pk=subject.pk).first()  # one request per model at a time decides
        existing = Export.objects.filter(subject=subject, format=fmt, status__in=(*Export.ACTIVE, Status.READY)).first()
        if existing is not None and (existing.status != Status.READY or Path(existing.path).is_file()):
            return existing, False
        active = Export.objects.filter(subject__team_id=subject.team_id, status__in=Export.ACTIVE).count()
        if active >= limit:
            raise LimitError(f"Your team has {active} export(s) in progress, the most at once "
                             f"(max_active_exports = {limit}): wait for one to finish.", "max_active_exports")
        export = Export.objects.create(subject=subject, format=fmt, created_by=user, stage="queued",
                                       filename=filename_for(weights.title) + SUFFIX[fmt])
        queue(EXPORT, export.pk)
    return export, True


def retry_export(export: Export, user) -> bool:
    """A failed export run again as its next attempt, by whoever may start one (the same action: viewers export
    too), within the team's limit; False when it is not failed."""
    require(user, "export", export)  # a checkpoint gone since fails the new attempt with that reason
    limit = settings.STUDIO_TEAM_MAX_ACTIVE_EXPORTS
    with transaction.atomic():
        Subject.objects.select_for_update().filter(pk=export.subject_id).first()
        active = Export.objects.filter(subject__team_id=export.subject.team_id, status__in=Export.ACTIVE).count()
        if active >= limit:
            raise LimitError(f"Your team has {active} export(s) in progress, the most at once "
                             f"(max_active_exports = {limit}): wait for one to finish.", "max_active_exports")
        return retry(EXPORT, export.pk, f"run again by {user.username}")


# ---------------------------------------------------------------------- running one
def work_dir(export: Export, attempt: int) -> Path:
    """Where one attempt's child writes (removed whatever happens)."""
    return exports_dir() / f"{export.pk}.attempt{attempt}"


class ExportKind(JobKind):
    name = "export"
    model = Export

    def shown(self, job: Export) -> Shown:
        return Shown(f"{job.get_format_display()} export {job.filename}", ref_url(job.subject) + "#exports", job.subject.team_id)

    def run(self, job: Export, reporter: Reporter) -> dict[str, Any]:
        """The child's last protocol message ({"done"}, {"refused"} or {"error"})."""
        with _one_at_a_time:
            return _export_in_child(job, work_dir(job, job.attempt), reporter)

    def record(self, job: Export, result: dict[str, Any]) -> None:
        """A finished file moves to the export's own folder; anything else fails the export."""
        done = result.get("done")
        produced = work_dir(job, job.attempt) / job.filename
        if done and produced.is_file():
            final = exports_dir() / str(job.pk)
            shutil.rmtree(final, ignore_errors=True)
            final.mkdir(parents=True, mode=0o700)
            os.replace(produced, final / job.filename)
            job.status, job.stage, job.progress = Status.READY, "ready", 1.0
            job.path, job.size_bytes = str(final / job.filename), (final / job.filename).stat().st_size
            job.report = {k: done.get(k) for k in REPORTED[job.format] if k in done}
            job.reason = ""
            return
        job.status, job.stage = Status.FAILED, "failed"
        job.reason = failure_reason(result)[:2000]

    def clean_up(self, job: Export, attempt: int) -> None:
        shutil.rmtree(work_dir(job, attempt), ignore_errors=True)  # whatever happened, no half-written folder stays


REPORTED = {Format.ONNX: ("opset", "max_abs_diff", "max_rel_diff", "export_seconds", "batch_sizes"),
            Format.CHECKPOINT: ("verified", "tensors", "params", "export_seconds")}


def failure_reason(result: dict[str, Any]) -> str:
    refused = result.get("refused")
    if refused:
        return (f"ONNX export refused ({refused.get('stage')}" + (f": op {refused['op']}" if refused.get("op") else "")
                + f"): {refused.get('reason')}")
    return str(result.get("error") or result.get("reason") or "the export produced no file")


def _export_in_child(export: Export, work: Path, reporter: Reporter) -> dict:
    """Run the child; its last protocol message. Its stages go to the reporter (written with the heartbeat)."""
    try:
        weights = trained_weights(export.subject)  # again: the file may have gone since it was asked for
    except StudioError as refused:
        return {"error": str(refused)}
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, mode=0o700)
    job = {"format": export.format, "checkpoint": str(weights.checkpoint), "out": str(work / export.filename),
           "class_names": weights.class_names, "metadata": weights.metadata}
    last: dict = {}
    with open(work / "stderr.log", "wb") as errors:
        # From the project's root, so the child runs this checkout's videomodels (paths in the job are absolute).
        child = subprocess.Popen([sys.executable, "-m", "videomodels.export.job"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=errors, text=True, start_new_session=True, cwd=str(settings.BASE_DIR))
        timer = threading.Timer(settings.STUDIO_EXPORT_TIMEOUT, _kill, args=(child,))
        timer.start()
        try:
            child.stdin.write(json.dumps(job))
            child.stdin.close()
            for line in child.stdout:
                if not line.startswith(MARK):
                    continue  # a library's own printing
                try:
                    message = json.loads(line[len(MARK):])
                except ValueError:
                    continue
                if "stage" in message:
                    reporter.report(stage=str(message["stage"])[:100], progress=float(message.get("progress") or 0.0))
                else:
                    last = message
                if reporter.lost:
                    _kill(child)
            code = child.wait()
        finally:
            timer.cancel()
            _kill(child)
    if reporter.lost:
        raise Interrupted("another worker took this export over")  # nothing of this attempt is recorded
    if not last:
        tail = (work / "stderr.log").read_bytes()[-1500:].decode("utf-8", "replace").strip()
        timed_out = code in (-signal.SIGKILL, -signal.SIGTERM)
        why = f"stopped after {settings.STUDIO_EXPORT_TIMEOUT:.0f} s (STUDIO_EXPORT_TIMEOUT)" if timed_out else f"exited with {code}"
        return {"error": f"the export process {why}" + (f": {tail.splitlines()[-1][:500]}" if tail else "")}
    return last


def _kill(child: subprocess.Popen) -> None:
    if child.poll() is None:
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        child.wait()


EXPORT = ExportKind()


def export_row(export: Export) -> dict:
    """What the page and the API show of an export: where it is, and its size before the download."""
    ready = export.status == Status.READY
    report = export.report or {}
    return {"id": export.pk, "format": export.format, "format_label": export.get_format_display(), "status": export.status, "status_label": export.get_status_display(),
            "stage": export.stage, "progress": round(export.progress, 3), "filename": export.filename,
            "size_bytes": export.size_bytes, "size": human_size(export.size_bytes) if ready else None,
            "download_url": reverse("export-download", args=[export.pk]) if ready else None,
            "retry_url": reverse("export-retry", args=[export.pk]) if export.status == Status.FAILED else None,
            "opset": report.get("opset"), "max_abs_diff": report.get("max_abs_diff"), "verified": report.get("verified"),
            "ws": f"/ws/jobs/{EXPORT.name}/{export.pk}/",
            "reason": export.reason, "created_by": export.created_by.username if export.created_by_id else None,
            "created": export.created.isoformat(), "finished_at": export.finished_at.isoformat() if export.finished_at else None,
            "url": reverse("review-api:export", args=[export.pk])}


def human_size(size: int | None) -> str | None:
    if size is None:
        return None
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return None
