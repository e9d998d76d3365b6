"""The page of one evaluation (a version trained and scored on a dataset): while it runs its loss curve
and step, then what a model page shows (curves, per-class accuracy, confusion matrix, learned weights),
or why it failed with a retry; and its trained weights to take away like a candidate's: the spec and the
model card at once, ONNX and a portable checkpoint through export jobs (the evaluation is a review
Subject of its own, so its exports are the same jobs, page section, retry and limits as a candidate's).

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
from .exports import card_fields, made_by_a_job
from .models_view import evaluation_charts, evaluation_facts, evaluation_title
from .pages import export_jobs
from .services import subject_for_evaluation

WHAT = ("spec", "card", "checkpoint", "onnx")
FINISHED = (Evaluation.Status.EVALUATED, Evaluation.Status.FAILED)


def _evaluation_or_404(request, pk: int, action: str = "read") -> Evaluation:
    evaluation = (Evaluation.objects.for_user(request.user).select_related("version__architecture", "dataset", "created_by")
                  .filter(pk=min(pk, 2**62)).first())
    if evaluation is None:
        raise Http404("No such evaluation.")
    require(request.user, action, evaluation)
    return evaluation


title_of, facts_of = evaluation_title, evaluation_facts


def export_links(evaluation: Evaluation) -> list[tuple[str, str]]:
    """What downloads at once: the spec always; the card once it is evaluated and its checkpoint is on the server (its
    weights, ONNX and checkpoint, are export jobs: ``export_jobs``)."""
    kinds = [("spec", "ArchSpec JSON (as trained)")]
    if trained_checkpoint(evaluation) is not None:
        kinds += [("card", "Model card (Markdown)")]
    return [(label, reverse("evaluation-export", args=[evaluation.pk, what])) for what, label in kinds]


def report(evaluation: Evaluation, user) -> dict:
    """Everything the page shows, as JSON: its live state, facts, charts, downloads, links and whether this user may retry."""
    v = evaluation.version
    finished = evaluation.status == Evaluation.Status.EVALUATED
    charts = evaluation_charts(evaluation)
    return {
        "state": {**evaluation.state(), "status_label": evaluation.get_status_display(), "stage": evaluation.stage},
        "title": title_of(evaluation),
        "facts": [[label, value] for label, value in facts_of(evaluation)],
        "evaluation": charts,
        "exports": [{"label": label, "url": url} for label, url in export_links(evaluation)],
        "export_jobs": export_jobs(subject_for_evaluation(evaluation)),
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
    subject = subject_for_evaluation(evaluation)
    if what != "card":  # its weights are made by export jobs: the latest ready file, or how to make one
        return made_by_a_job(request, subject, what)
    if trained_checkpoint(evaluation) is None:
        detail = ("This evaluation's trained checkpoint is not on the server any more." if evaluation.status == Evaluation.Status.EVALUATED
                  else f"Only a finished evaluation has trained weights to export; this one is {evaluation.get_status_display().lower()}.")
        return refused(request, detail)
    from videomodels.export import model_card

    response = HttpResponse(model_card(card_fields(subject)), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.md"'
    return response
