"""The page of one evaluation (a version trained and scored on a dataset): while it runs its loss curve
and step, then what a model page shows (curves, per-class accuracy, confusion matrix, learned weights),
or why it failed with a retry; and its trained weights to take away like a candidate's.

The page and its JSON (``report``) come from one function, so what the page re-reads when its socket
(re)connects or the job finishes is exactly what the server rendered. Another team's evaluation is a
404, as everywhere.
"""
from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from webapp.architectures.evaluation_job import trained_checkpoint
from webapp.apikit.refusals import refused
from webapp.architectures.evaluations import Evaluation
from webapp.architectures.jobs import retry_evaluation
from webapp.architectures.services import with_learned_weights
from webapp.architectures.views import drawing_boot
from webapp.studio.services import StudioError
from webapp.teams.roles import can, require

from .export_jobs import filename_for
from .exports import checkpoint_download
from .models_view import report_beside, training_charts

WHAT = ("spec", "card", "checkpoint")
FINISHED = (Evaluation.Status.EVALUATED, Evaluation.Status.FAILED)


def _evaluation_or_404(request, pk: int, action: str = "read") -> Evaluation:
    evaluation = (Evaluation.objects.for_user(request.user).select_related("version__architecture", "dataset", "created_by")
                  .filter(pk=min(pk, 2**62)).first())
    if evaluation is None:
        raise Http404("No such evaluation.")
    require(request.user, action, evaluation)
    return evaluation


def title_of(evaluation: Evaluation) -> str:
    v = evaluation.version
    return f"{v.architecture.name} v{v.number} on {evaluation.dataset.name}"


def facts_of(evaluation: Evaluation) -> list[tuple[str, object]]:
    e, v = evaluation, evaluation.version
    rounded = lambda value, digits: round(value, digits) if isinstance(value, float) else value  # noqa: E731
    facts = [("Status", e.get_status_display()), ("Architecture", f"{v.architecture.name} v{v.number}"),
             ("Family", v.architecture.family), ("Dataset", e.dataset.name), ("Steps", f"{e.step} of {e.steps}"),
             ("Batch size", e.batch_size), ("Seed", e.seed), ("Attempt", e.attempt),
             ("Accuracy", rounded(e.accuracy, 4)), ("Latency (ms, batch 1)", rounded(e.latency_ms, 2)),
             ("Parameters", e.params), ("Multiply-adds", e.macs), ("Training seconds", rounded(e.seconds, 1)),
             ("Started by", e.created_by.username if e.created_by else None)]
    if e.reason:
        facts.append(("Failed because" if e.status == Evaluation.Status.FAILED else "Note", e.reason))
    return facts


def export_links(evaluation: Evaluation) -> list[tuple[str, str]]:
    """The spec always; the card and the trained checkpoint once it is evaluated and its checkpoint is on the server."""
    kinds = [("spec", "ArchSpec JSON (as trained)")]
    if trained_checkpoint(evaluation) is not None:
        kinds += [("card", "Model card (Markdown)"), ("checkpoint", "PyTorch checkpoint")]
    return [(label, reverse("evaluation-export", args=[evaluation.pk, what])) for what, label in kinds]


def report(evaluation: Evaluation, user) -> dict:
    """Everything the page shows, as JSON: its live state, facts, charts, downloads, links and whether this user may retry."""
    v = evaluation.version
    finished = evaluation.status == Evaluation.Status.EVALUATED
    checkpoint = trained_checkpoint(evaluation)
    charts = training_charts(report_beside(checkpoint), evaluation.metrics or {}, list(evaluation.dataset.class_names or []),
                             losses=evaluation.losses)
    return {
        "state": {**evaluation.state(), "status_label": evaluation.get_status_display(), "stage": evaluation.stage},
        "title": title_of(evaluation),
        "facts": [[label, value] for label, value in facts_of(evaluation)],
        "evaluation": charts,
        "exports": [{"label": label, "url": url} for label, url in export_links(evaluation)],
        "retry_url": reverse("evaluation-retry", args=[evaluation.pk])
        if evaluation.status == Evaluation.Status.FAILED and can(user, "train", evaluation) else None,
        "links": {"version": v.get_absolute_url(), "model": reverse("model-page", args=["version", v.pk]),
                  "architecture": v.architecture.get_absolute_url()},
        "edge_weights": evaluation.edge_weights if finished else [],
    }


@login_required
@require_safe
def evaluation_page(request, pk: int):
    evaluation = _evaluation_or_404(request, pk)
    data = report(evaluation, request.user)
    family = evaluation.version.architecture.family
    spec = with_learned_weights(evaluation.spec, evaluation.edge_weights) if data["edge_weights"] else evaluation.spec
    return render(request, "review/evaluation.html", {
        "evaluation": evaluation, "report": data, "finished": evaluation.status in FINISHED,
        "drawing": drawing_boot(spec, family, data["title"]),
        "boot": {**data, "report_url": reverse("evaluation-report", args=[evaluation.pk]),
                 "ws": f"/ws/evaluations/{evaluation.pk}/"},
    })


@login_required
@require_safe
def evaluation_report(request, pk: int):
    return JsonResponse(report(_evaluation_or_404(request, pk), request.user))


@login_required
@require_POST
def evaluation_retry(request, pk: int):
    """A failed evaluation runs again (members and owners); anything else is a 409."""
    evaluation = _evaluation_or_404(request, pk)
    try:
        queued = retry_evaluation(user=request.user, evaluation=evaluation)
    except StudioError as error:
        messages.error(request, str(error))
        return redirect("evaluation-page", pk)
    if not queued:
        return refused(request, f"Only a failed evaluation runs again; this one is {evaluation.get_status_display().lower()}.")
    messages.success(request, "Queued again: this page follows the new attempt.")
    return redirect("evaluation-page", pk)


@login_required
@require_safe
def evaluation_export(request, pk: int, what: str):
    if what not in WHAT:
        raise Http404("No such export.")
    evaluation = _evaluation_or_404(request, pk, action="export")
    name = filename_for(title_of(evaluation))
    if what == "spec":
        response = HttpResponse(json.dumps(evaluation.spec, indent=2) + "\n", content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response
    source = trained_checkpoint(evaluation)
    if source is None:
        detail = ("This evaluation's trained checkpoint is not on the server any more." if evaluation.status == Evaluation.Status.EVALUATED
                  else f"Only an evaluated network has trained weights to export; this one is {evaluation.get_status_display().lower()}.")
        return refused(request, detail)
    if what == "card":
        from videomodels.export import model_card

        response = HttpResponse(model_card(card_fields(evaluation, report_beside(source))), content_type="text/markdown; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.md"'
        return response
    return checkpoint_download(source, name, list(evaluation.dataset.class_names or []),
                               {"evaluation": evaluation.pk, "version": str(evaluation.version), "accuracy": evaluation.accuracy})


def card_fields(evaluation: Evaluation, training: dict) -> dict:
    from videomodels.export import card_from_training

    v = evaluation.version
    extra = {"name": filename_for(title_of(evaluation)), "family": v.architecture.family, "library_name": "pytorch",
             "tags": ["video-classification", v.architecture.family],
             "dataset": {"name": evaluation.dataset.name, "classes": evaluation.dataset.class_names},
             "limitations": [f"Evaluated on {evaluation.dataset.name} only, after {evaluation.steps} training steps "
                             f"(batch {evaluation.batch_size}): a short budget to compare architectures, not a final model."]}
    base = card_from_training(training, **extra) if training else {**extra}
    base.setdefault("metrics", {}).update({"top1": evaluation.accuracy})
    base["latency"] = {**(base.get("latency") or {}), "ms": evaluation.latency_ms, "device": "cpu", "batch": 1}
    base.setdefault("architecture", {}).update({"params": evaluation.params, "macs": evaluation.macs})
    return base
