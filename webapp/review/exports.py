"""Downloads of a reviewed model, through videomodels.export: ArchSpec JSON, a weights_only-loadable
PyTorch checkpoint, verified ONNX (opset and max difference in the headers, or the refusal's reason)
and a Markdown model card with lineage and review history.

Reading a model is enough to export it (viewers too). Files are written to a temporary folder
and streamed; the training checkpoint is read only from inside the studio's data folder.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, JsonResponse

from webapp.studio.models import Candidate

from .models import AuditEntry, Subject
from .models_view import evaluation_file, lineage_tree, model_view
from .pages import _subject_or_404

WHAT = ("spec", "card", "checkpoint", "onnx")


def _filename(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in text)[:80] or "model"


def training_checkpoint(candidate: Candidate) -> Path | None:
    if not candidate.checkpoint:
        return None
    root = Path(settings.STUDIO_DATA_DIR).resolve()
    path = Path(candidate.checkpoint).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


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
        extra["dataset"] = {"name": c.experiment.dataset.name, "classes": c.experiment.dataset.class_names}
        extra["limitations"] = [f"Evaluated on {c.experiment.dataset.name} only; found by an automatic search "
                                f"({c.experiment.name}) with a short training budget ({c.fidelity or 'low'} fidelity)."]
        report = evaluation_file(c)
        base = card_from_training(report, **extra) if report else {**extra}
        base.setdefault("metrics", {}).update({"top1": c.accuracy})
        base["latency"] = {**(base.get("latency") or {}), "ms": c.latency_ms, "device": "cpu", "batch": 1}
        base.setdefault("architecture", {}).update({"params": c.params, "macs": c.macs, "spec_hash": c.spec_hash})
        return base
    return {**extra, "architecture": {"params": subject.version.params, "macs": subject.version.macs,
                                      "spec_hash": subject.version.spec_hash}}


@login_required
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
    if subject.kind != Subject.Kind.CANDIDATE or subject.candidate.status != Candidate.Status.EVALUATED:
        return JsonResponse({"detail": "Only an evaluated candidate has trained weights to export."}, status=409)
    source = training_checkpoint(subject.candidate)
    if source is None:
        return JsonResponse({"detail": "This candidate's trained checkpoint is not on the server any more."}, status=409)
    return _weights_export(subject.candidate, source, what, name)


def _weights_export(candidate: Candidate, source: Path, what: str, name: str):
    from videomodels.export import ExportError, ExportRefused, export_checkpoint, export_onnx

    folder = Path(tempfile.mkdtemp(prefix="export-"))
    class_names = list(candidate.experiment.dataset.class_names or []) or None
    meta = {"candidate": candidate.name, "experiment": candidate.experiment.name, "accuracy": candidate.accuracy}
    try:
        if what == "checkpoint":
            path = export_checkpoint(str(source), folder / f"{name}.pt", class_names=class_names, metadata=meta)
            return _stream(path, "application/octet-stream")
        report = export_onnx(str(source), folder / f"{name}.onnx", class_names=class_names, metadata=meta)
    except ExportRefused as refused:
        return JsonResponse({"detail": f"ONNX export refused: {refused}", **refused.to_dict()}, status=422)
    except ExportError as error:
        return JsonResponse({"detail": f"Export failed: {error}"}, status=422)
    response = _stream(Path(report.path), "application/octet-stream")
    response["X-Onnx-Opset"] = str(report.opset)
    response["X-Onnx-Max-Abs-Diff"] = repr(report.max_abs_diff)
    return response


def _stream(path: Path, content_type: str) -> FileResponse:
    handle = open(path, "rb")
    path.unlink()  # the open handle keeps the data until the response is sent
    path.parent.rmdir()
    return FileResponse(handle, as_attachment=True, filename=path.name, content_type=content_type)
