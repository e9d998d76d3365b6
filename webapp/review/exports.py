"""Downloads of a reviewed model, through videomodels.export: ArchSpec JSON, a weights_only-loadable
PyTorch checkpoint and a Markdown model card with lineage and review history, at once; verified ONNX
(opset and max difference in the headers, or the refusal's reason) through an export job
(webapp.review.export_jobs), whose file is downloaded once it is ready, its size shown before.

Reading a model is enough to export it (viewers too). The checkpoint is written to a temporary
folder and streamed, and the folder is removed whatever happens; the training checkpoint is read
only from inside the studio's data folder.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST, require_safe

from webapp.studio.models import Candidate
from webapp.studio.services import StudioError

from .export_jobs import create_export, export_row, filename_for as _filename, retry_export, training_checkpoint
from .models import AuditEntry, Export, Subject
from .models_view import evaluation_file, lineage_tree, model_view, ref_url
from .pages import _subject_or_404

WHAT = ("spec", "card", "checkpoint", "onnx")


def card_fields(subject: Subject) -> dict:
    view = model_view(subject)
    history = [{"status": e.detail.get("new"), "by": e.actor.username if e.actor else None, "at": e.created.isoformat(),
                "comment": e.detail.get("comment", "")}
               for e in AuditEntry.objects.filter(subject=subject, action__startswith="review.").select_related("actor").order_by("pk")]
    extra = {"name": _filename(view.title), "family": view.family, "review_history": history, "library_name": "pytorch",
             "tags": ["video-classification", view.family] + list(subject.tags.values_list("name", flat=True))}
    if subject.kind == Subject.Kind.CANDIDATE:
        from videomodels.export import card_from_training

        c = subject.candidate
        tree = lineage_tree(c)
        extra["lineage"] = [{"id": a["name"], "name": a["name"], "mutation": a["mutation"], "score": a["accuracy"],
                             "hand_edited": a["hand_edited"]} for a in tree["ancestors"]]
        dataset = {"name": c.experiment.dataset.name, "classes": c.experiment.dataset.class_names}
        extra["limitations"] = [f"Evaluated on {c.experiment.dataset.name} only; found by an automatic search "
                                f"({c.experiment.name}) with a short training budget ({c.fidelity or 'low'} fidelity)."]
        report = evaluation_file(c)
        base = card_from_training(report, **extra) if report else {**extra}
        # The training's own counts (train and validation clips) stay: the studio adds the name and classes.
        base["dataset"] = {**{k: v for k, v in (base.get("dataset") or {}).items() if v is not None}, **dataset}
        base.setdefault("metrics", {}).update({"top1": c.accuracy})
        base["latency"] = candidate_card_latency(c, base.get("latency") or {})
        base.setdefault("architecture", {}).update({"params": c.params, "macs": c.macs, "spec_hash": c.spec_hash})
        return base
    return {**extra, "architecture": {"params": subject.version.params, "macs": subject.version.macs,
                                      "spec_hash": subject.version.spec_hash}}


def candidate_card_latency(c: Candidate, recorded: dict) -> dict:
    """The card's latency: what the search measured and where, with the thread count and the spread
    it recorded (from the search's settings when the training report has none); absent when nobody measured it."""
    if c.latency_ms is None:
        return {}
    config = c.experiment.config or {}
    threads = recorded.get("threads") or (config.get("latency_threads", 1) if c.latency_device != "cuda" else None)
    spread = c.latency_spread or recorded.get("spread") or {}
    return {**recorded, "ms": c.latency_ms, "device": c.latency_label, "batch": 1, "threads": threads,
            "runs": spread.get("runs") or recorded.get("runs"), "spread": spread}


@login_required
@require_safe
def export_view(request, kind: str, pk: int, what: str):
    if what not in WHAT:
        raise Http404("No such export.")
    subject = _subject_or_404(request, kind, pk)
    if subject.kind == Subject.Kind.ENSEMBLE:
        raise Http404("An ensemble is exported through its members.")
    view = model_view(subject)
    name = _filename(view.title)
    if what == "spec":
        response = HttpResponse(json.dumps(view.spec, indent=2) + "\n", content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response
    if what == "card":
        from videomodels.export import model_card

        response = HttpResponse(model_card(card_fields(subject)), content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.md"'
        return response
    if what == "onnx":  # made by a job (it takes minutes for a large model): the latest ready one
        ready = Export.objects.filter(subject=subject, format="onnx", status=Export.Status.READY).first()
        if ready is None:
            return JsonResponse({"detail": "No ONNX export is ready: start one on the model page (or POST to "
                                           f"/api/models/{kind}/{pk}/exports/); it runs as a job."}, status=409)
        return redirect("export-download", ready.pk)
    if subject.kind != Subject.Kind.CANDIDATE or subject.candidate.status != Candidate.Status.EVALUATED:
        return JsonResponse({"detail": "Only an evaluated candidate has trained weights to export."}, status=409)
    source = training_checkpoint(subject.candidate)
    if source is None:
        return JsonResponse({"detail": "This candidate's trained checkpoint is not on the server any more."}, status=409)
    c = subject.candidate
    return checkpoint_download(source, name, list(c.experiment.dataset.class_names or []),
                               {"candidate": c.name, "experiment": c.experiment.name, "accuracy": c.accuracy})


def checkpoint_download(source: Path, name: str, class_names: list[str], meta: dict):
    """A weights_only-loadable checkpoint of the trained network at ``source``, streamed as ``<name>.pt``."""
    from videomodels.export import ExportError, export_checkpoint

    folder = Path(tempfile.mkdtemp(prefix="export-"))
    class_names = class_names or None
    try:
        path = export_checkpoint(str(source), folder / f"{name}.pt", class_names=class_names, metadata=meta)
        handle = open(path, "rb")  # the open handle keeps the data until the response is sent
    except ExportError as error:
        return JsonResponse({"detail": f"Export failed: {error}"}, status=422)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # refused, failed or streamed: the folder goes
    return FileResponse(handle, as_attachment=True, filename=path.name, content_type="application/octet-stream")


@login_required
@require_POST
def export_job_page(request, kind: str, pk: int):
    """The model page's "Export ONNX" button (without JavaScript): start the job, back to the page."""
    subject = _subject_or_404(request, kind, pk, action="export")
    try:
        export, created = create_export(subject, request.user, request.POST.get("format", "onnx"))
    except StudioError as error:
        messages.error(request, str(error))
    else:
        what = "started" if created else f"already {export.get_status_display().lower()}"
        messages.success(request, f"ONNX export {what}: its progress and size show under Export.")
    return redirect(ref_url(subject) + "#exports")


@login_required
@require_safe
def export_download(request, pk: int):
    """A ready export's file; the size was on the page before."""
    export = get_object_or_404(Export.objects.for_user(request.user).select_related("subject"), pk=min(pk, 2**62))
    path = Path(export.path) if export.path else None
    if export.status != Export.Status.READY or path is None or not path.is_file():
        return JsonResponse({"detail": f"This export is not ready ({export.get_status_display().lower()})."}, status=409)
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=export.filename, content_type="application/octet-stream")
    report = export.report or {}
    response["X-Onnx-Opset"] = str(report.get("opset"))
    response["X-Onnx-Max-Abs-Diff"] = repr(report.get("max_abs_diff"))
    return response


@login_required
@require_POST
def export_retry(request, pk: int):
    """A failed ONNX export's "Run again" (without JavaScript): a new attempt, back to the model page."""
    export = get_object_or_404(Export.objects.for_user(request.user).select_related("subject"), pk=min(pk, 2**62))
    wants_json = "application/json" in request.headers.get("Accept", "")  # the page's own button, not the form
    try:
        queued = retry_export(export, request.user)
    except StudioError as error:
        if wants_json:
            return JsonResponse({"detail": str(error)}, status=409)
        messages.error(request, str(error))
    else:
        if not queued:
            return JsonResponse({"detail": f"Only a failed export runs again; this one is {export.get_status_display().lower()}."},
                                status=409)
        if wants_json:
            export.refresh_from_db()
            return JsonResponse(export_row(export))
        messages.success(request, "ONNX export queued again: its progress shows under Export.")
    return redirect(ref_url(export.subject) + "#exports")
