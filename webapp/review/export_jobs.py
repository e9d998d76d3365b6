"""ONNX exports as jobs: asked for on the model page or the API, run by a worker, one process each.

torch.onnx's exporter keeps process-wide state, so exports that share a process (request threads,
or one worker's successive tasks) can break each other and every later one. Here each export runs
in a child process (``python -m videomodels.export.job``) that dies with whatever it did, and a
worker process runs one at a time. The job follows the evaluations' protocol
(webapp.architectures.jobs): claimed under a row lock (status running, the worker's name,
attempt + 1), a heartbeat while the child works, the result recorded only while the claim holds.

The child writes into a folder of its own under ``<data>/exports/``; only a finished, verified file
is moved to the export's folder and its size recorded, so the page shows the size before anyone
downloads it. Anything else (refused, failed, timed out, claim lost) removes the folder: a failed
export leaves nothing behind, and the next one starts clean in a fresh process.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webapp.studio.models import Candidate
from webapp.studio.services import LimitError, StudioError, data_dir
from webapp.studio.services.worker import Heartbeat
from webapp.teams.roles import require

from .models import Export, Subject

log = logging.getLogger("webapp.review.exports")
Status = Export.Status
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


# ---------------------------------------------------------------------- asking for one
def create_export(subject: Subject, user, fmt: str = "onnx") -> tuple[Export, bool]:
    """(A new export job of ``subject``, True), or (the one already ready or under way, False). Reading the
    model is enough (viewers export too); a team runs at most STUDIO_TEAM_MAX_ACTIVE_EXPORTS at once."""
    require(user, "export", subject)
    if fmt != "onnx":
        raise StudioError("Only ONNX exports run as jobs (the spec, card and checkpoint download at once).", "format")
    if subject.kind != Subject.Kind.CANDIDATE or subject.candidate.status != Candidate.Status.EVALUATED:
        raise StudioError("Only an evaluated candidate has trained weights to export.", "model")
    if training_checkpoint(subject.candidate) is None:
        raise StudioError("This candidate's trained checkpoint is not on the server any more.", "model")
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
        c = subject.candidate
        export = Export.objects.create(subject=subject, format=fmt, created_by=user, stage="queued",
                                       filename=filename_for(f"{c.experiment.name} · {c.name}") + ".onnx")
        queue_export(export.pk)
    return export, True


def queue_export(export_id: int) -> None:
    from .tasks import export_model_task

    transaction.on_commit(lambda: export_model_task.apply_async(args=[export_id], queue="train"))


# ---------------------------------------------------------------------- running one
def claim(export_id: int, worker: str) -> Export | None:
    with transaction.atomic():
        export = Export.objects.select_for_update().select_related("subject__candidate__experiment__dataset").filter(
            pk=export_id).first()
        if export is None or export.status not in Export.ACTIVE:
            return None
        fresh = timezone.now() - timedelta(seconds=settings.STUDIO_HEARTBEAT_TIMEOUT)
        if export.status == Status.RUNNING and export.claimed_by != worker and export.heartbeat and export.heartbeat > fresh:
            return None  # a live worker has it (a duplicated message)
        export.status, export.claimed_by, export.attempt = Status.RUNNING, worker, export.attempt + 1
        export.heartbeat, export.stage, export.progress = timezone.now(), "starting", 0.0
        export.save(update_fields=["status", "claimed_by", "attempt", "heartbeat", "stage", "progress"])
        return export


def _held(export: Export):
    return Export.objects.filter(pk=export.pk, status=Status.RUNNING, claimed_by=export.claimed_by, attempt=export.attempt)


class ExportWatch(Heartbeat):
    """Reports the child's latest stage and progress with a heartbeat (one small update per interval)."""

    def __init__(self, export: Export, interval: float = 1.0):
        super().__init__(f"export-{export.pk}", interval)
        self.export = export
        self.stage, self.progress = "starting", 0.0
        self.lost = False

    def beat(self) -> None:
        try:
            updated = _held(self.export).update(heartbeat=timezone.now(), stage=self.stage[:100], progress=self.progress)
            self.lost = self.lost or not updated
        except Exception as error:  # noqa: BLE001 - a busy database now and then must not stop the export
            log.warning("heartbeat of export %s failed: %s", self.export.pk, error)


def run_export(export_id: int, worker: str) -> str:
    """The task's body: claim, export in a child process, record. Returns what happened."""
    export = claim(export_id, worker)
    if export is None:
        return "skipped"
    with _one_at_a_time:
        work = exports_dir() / f"{export.pk}.attempt{export.attempt}"
        try:
            outcome = _export_in_child(export, work)
            return record(export, outcome, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)  # whatever happened, no half-written folder stays


def _export_in_child(export: Export, work: Path) -> dict:
    """Run the child; its last protocol message ({"done"}, {"refused"} or {"error"})."""
    candidate = export.subject.candidate
    source = training_checkpoint(candidate)
    if source is None:
        return {"error": "the candidate's trained checkpoint is not on the server any more"}
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, mode=0o700)
    job = {"checkpoint": str(source), "out": str(work / export.filename),
           "class_names": list(candidate.experiment.dataset.class_names or []) or None,
           "metadata": {"candidate": candidate.name, "experiment": candidate.experiment.name, "accuracy": candidate.accuracy}}
    watch = ExportWatch(export)
    watch.start()
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
                    watch.stage, watch.progress = str(message["stage"]), float(message.get("progress") or 0.0)
                else:
                    last = message
                if watch.lost:
                    _kill(child)
            code = child.wait()
        finally:
            timer.cancel()
            _kill(child)
            watch.close()
    if watch.lost:
        return {"lost": True}
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


def record(export: Export, outcome: dict, work: Path) -> str:
    """The outcome on the row, if the claim still holds; a finished file moves to the export's own folder."""
    final = exports_dir() / str(export.pk)
    with transaction.atomic():
        row = _held(export).select_for_update().first()
        if row is None or outcome.get("lost"):
            log.info("export %s: attempt %s discarded (claim lost)", export.pk, export.attempt)
            return "discarded"
        row.claimed_by, row.finished_at = "", timezone.now()
        done = outcome.get("done")
        produced = work / export.filename
        if done and produced.is_file():
            shutil.rmtree(final, ignore_errors=True)
            final.mkdir(parents=True, mode=0o700)
            os.replace(produced, final / export.filename)
            row.status, row.stage, row.progress = Status.READY, "ready", 1.0
            row.path, row.size_bytes = str(final / export.filename), (final / export.filename).stat().st_size
            row.report = {k: done.get(k) for k in ("opset", "max_abs_diff", "max_rel_diff", "export_seconds", "batch_sizes")}
            row.reason = ""
        else:
            refused = outcome.get("refused")
            row.status, row.stage = Status.FAILED, "failed"
            row.reason = (f"ONNX export refused ({refused.get('stage')}" + (f": op {refused['op']}" if refused.get("op") else "")
                          + f"): {refused.get('reason')}") if refused else str(outcome.get("error") or "the export produced no file")
            row.reason = row.reason[:2000]
        row.save()
        return row.status


def recover_exports(worker_name: str | None = None) -> list[int]:
    """At a worker's start: exports it (or a silent worker) left running go back to queued; every queued one
    is queued again. Returns the ids queued."""
    limit = timezone.now() - timedelta(seconds=settings.STUDIO_HEARTBEAT_TIMEOUT)
    with transaction.atomic():
        for export in Export.objects.select_for_update().filter(status=Status.RUNNING):
            mine = bool(worker_name) and export.claimed_by.startswith(f"{worker_name}:")
            if mine or (export.heartbeat and export.heartbeat < limit):
                export.status, export.claimed_by, export.stage = Status.QUEUED, "", "queued again (its worker stopped)"
                export.save(update_fields=["status", "claimed_by", "stage"])
        ids = list(Export.objects.filter(status=Status.QUEUED).values_list("pk", flat=True))
        for pk in ids:
            queue_export(pk)
    return ids


def export_row(export: Export) -> dict:
    """What the page and the API show of an export: where it is, and its size before the download."""
    from django.urls import reverse

    ready = export.status == Status.READY
    return {"id": export.pk, "format": export.format, "status": export.status, "status_label": export.get_status_display(),
            "stage": export.stage, "progress": round(export.progress, 3), "filename": export.filename,
            "size_bytes": export.size_bytes, "size": human_size(export.size_bytes) if ready else None,
            "download_url": reverse("export-download", args=[export.pk]) if ready else None,
            "opset": (export.report or {}).get("opset"), "max_abs_diff": (export.report or {}).get("max_abs_diff"),
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
