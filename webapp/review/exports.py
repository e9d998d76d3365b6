"""Downloads of a reviewed model, through videomodels.export: ArchSpec JSON and a Markdown model card with
lineage and review history, at once; trained weights, as verified ONNX (opset and max difference in the
headers, or the refusal's reason) or as a portable PyTorch checkpoint (loaded again with
``torch.load(weights_only=True)`` before it counts), through an export job (webapp.review.export_jobs),
whose file is downloaded once it is ready, its size shown before.

Reading a model is enough to export it (viewers too). The old direct address of a format made by a
job (``.../export/checkpoint/``, ``.../export/onnx/``) leads to the latest ready file, or says how to
make one: a browser goes to the page's Export section, an API client gets a 409 naming the job's URL.
"""
from __future__ import annotations

import json
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from webapp.apikit.refusals import refused
from webapp.architectures.evaluation_job import trained_checkpoint
from webapp.studio.models import Candidate
from webapp.studio.services import StudioError

from .export_jobs import create_export, export_row, filename_for as _filename, retry_export, trained_weights
from .models import AuditEntry, Export, Subject
from .models_view import evaluation_file, lineage_tree, model_view, ref_url, report_beside
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
    if subject.kind == Subject.Kind.EVALUATION:
        return evaluation_card_fields(subject, extra)
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
    return made_by_a_job(request, subject, what)


def made_by_a_job(request, subject: Subject, fmt: str):
    """The old direct address of a format an export job makes (it takes minutes for a large model): the latest ready
    file; else a browser goes to the page's Export section (told why), an API client gets a 409 naming the job's URL."""
    ready = next((e for e in Export.objects.filter(subject=subject, format=fmt, status=Export.Status.READY)
                  if e.path and Path(e.path).is_file()), None)
    if ready is not None:
        return redirect("export-download", ready.pk)
    label = Export.Format(fmt).label
    try:
        trained_weights(subject)
    except StudioError as error:
        why = str(error)
    else:
        why = (f"No {label} export is ready: it is made by an export job. Start one under Export on the model's page "
               f"(or POST {{\"format\": \"{fmt}\"}} to {reverse('review-api:subject-exports', args=[subject.kind, subject.target_id])}).")
    if "text/html" in request.headers.get("Accept", ""):
        messages.info(request, why)
        return redirect(ref_url(subject) + "#exports")
    return JsonResponse({"detail": why, "exports": reverse("review-api:subject-exports", args=[subject.kind, subject.target_id])},
                        status=409)


def evaluation_card_fields(subject: Subject, extra: dict) -> dict:
    """An evaluation's card: its dataset, its training's curves and scores, and the short budget it trained with."""
    from videomodels.export import card_from_training

    evaluation = subject.evaluation
    dataset = {"name": evaluation.dataset.name, "classes": evaluation.dataset.class_names}
    extra = {**extra, "limitations": [f"Evaluated on {evaluation.dataset.name} only, after {evaluation.steps} training steps "
                                      f"(batch {evaluation.batch_size}): a short budget to compare architectures, not a final model."]}
    training = report_beside(trained_checkpoint(evaluation))
    base = card_from_training(training, **extra) if training else {**extra}
    # The training's own counts (train and validation clips) stay, as on a candidate's card.
    base["dataset"] = {**{k: v for k, v in (base.get("dataset") or {}).items() if v is not None}, **dataset}
    base.setdefault("metrics", {}).update({"top1": evaluation.accuracy})
    base["latency"] = {**(base.get("latency") or {}), "ms": evaluation.latency_ms, "device": "cpu", "batch": 1}
    base.setdefault("architecture", {}).update({"params": evaluation.params, "macs": evaluation.macs,
                                                "spec_hash": evaluation.spec_hash})
    return base


@login_required
@require_POST
def export_job_page(request, kind: str, pk: int):
    """A model page's (or an evaluation page's) "Export ONNX" or "Export checkpoint" button (without JavaScript): start
    the job, back to the page."""
    subject = _subject_or_404(request, kind, pk, action="export")
    try:
        export, created = create_export(subject, request.user, request.POST.get("format", "onnx"))
    except StudioError as error:
        messages.error(request, str(error))
    else:
        what = "started" if created else f"already {export.get_status_display().lower()}"
        messages.success(request, f"{export.get_format_display()} export {what}: its progress and size show under Export.")
    return redirect(ref_url(subject) + "#exports")


@login_required
@require_safe
def export_download(request, pk: int):
    """A ready export's file; the size was on the page before."""
    export = get_object_or_404(Export.objects.for_user(request.user).select_related("subject"), pk=min(pk, 2**62))
    path = Path(export.path) if export.path else None
    if export.status != Export.Status.READY or path is None or not path.is_file():
        return refused(request, f"This export is not ready ({export.get_status_display().lower()}).")
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=export.filename, content_type="application/octet-stream")
    report = export.report or {}
    if export.format == Export.Format.ONNX:
        response["X-Onnx-Opset"] = str(report.get("opset"))
        response["X-Onnx-Max-Abs-Diff"] = repr(report.get("max_abs_diff"))
    elif report.get("verified"):
        response["X-Checkpoint-Verified"] = str(report["verified"])
    return response


@login_required
@require_POST
def export_retry(request, pk: int):
    """A failed export's "Run again" (without JavaScript): a new attempt, back to the model page."""
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
            return refused(request, f"Only a failed export runs again; this one is {export.get_status_display().lower()}.")
        if wants_json:
            export.refresh_from_db()
            return JsonResponse(export_row(export))
        messages.success(request, f"{export.get_format_display()} export queued again: its progress shows under Export.")
    return redirect(ref_url(export.subject) + "#exports")
