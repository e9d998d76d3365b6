"""Review pages: leaderboard, Pareto chart, model page, lineage, structural diff, team activity.

Everything comes from the same services as the API; pages hold data in json_script blocks and
static ES modules draw it (no inline script or style: strict CSP)."""
from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from webapp.apikit.csvfiles import csv_response
from webapp.architectures.views import drawing_boot
from webapp.studio.models import Candidate, Dataset, Experiment
from webapp.studio.services import StudioError
from webapp.teams.models import Team
from webapp.teams.roles import can, role_of

from . import leaderboard, services
from .diffing import diff_models, parse_ref
from .export_jobs import export_row, trained_weights
from .models import Export, Subject
from .models_view import lineage_tree, model_view, ref_url
from .presenters import subject_summary

PAGE_SIZE = 50
COLUMNS = (("name", "Model", None), ("experiment", "Experiment", None), ("family", "Family", None), ("dataset", "Dataset", None),
           ("accuracy", "Accuracy", "accuracy"), ("latency", "Latency (batch 1)", "latency"), ("params", "Params", "params"), ("macs", "MACs", "macs"),
           ("generation", "Gen", "generation"), ("status", "Status", None), ("review", "Review", None), ("tags", "Tags", None))


def _query_or_400(request):
    try:
        return leaderboard.parse_query(request.GET), None
    except leaderboard.FilterError as error:
        return leaderboard.Query(), f"{error.field}: {error}"


@login_required
@require_safe
def leaderboard_page(request):
    query, problem = _query_or_400(request)
    offset = request.GET.get("offset", "0")
    offset = int(offset) if offset.isdigit() and len(offset) < 10 else 0
    rows_qs = leaderboard.leaderboard(request.user, query)
    total = leaderboard.capped_count(rows_qs)
    rows = leaderboard.rows(rows_qs[offset:offset + PAGE_SIZE])
    params = query.params()

    def link(**changes):
        merged = {**params, **{k: str(v) for k, v in changes.items() if v not in (None, "")}}
        for k, v in changes.items():
            if v in (None, ""):
                merged.pop(k, None)
        return "?" + urlencode(merged)

    headers = []
    for key, label, sort in COLUMNS:
        if sort is None:
            headers.append({"label": label})
            continue
        current = query.sort.lstrip("-") == sort
        descending = query.sort.startswith("-")
        next_sort = ("" if not current else ("-" if not descending else "")) + sort
        if not current and sort in ("accuracy",):
            next_sort = "-" + sort
        headers.append({"label": label, "url": link(sort=next_sort, offset=None), "active": current,
                        "arrow": ("▼" if descending else "▲") if current else ""})
    teams = Team.objects.filter(memberships__user=request.user).order_by("name")
    return render(request, "review/leaderboard.html", {
        "rows": rows, "total": total, "offset": offset, "query": query, "problem": problem, "headers": headers,
        "prev_url": link(offset=max(0, offset - PAGE_SIZE) or None) if offset else None,
        "next_url": link(offset=offset + PAGE_SIZE) if offset + PAGE_SIZE < total else None,
        "first": offset + 1 if total else 0, "last": min(total, offset + PAGE_SIZE),
        "capped": total > leaderboard.COUNT_CAP, "cap": leaderboard.COUNT_CAP,
        "pareto_url": reverse("pareto-page") + link(offset=None),
        "csv_url": reverse("leaderboard-csv") + link(offset=None),
        "teams": teams, "experiments": Experiment.objects.for_user(request.user).newest_first().select_related("dataset")[:200],
        "datasets": Dataset.objects.for_user(request.user)[:200],
        "families": ("evanet", "assemblenet", "tvn"), "statuses": Candidate.Status.choices,
        "reviews": Subject.Status.choices, "sorts": [(s, s) for s in leaderboard.SORTS],
        "latency_devices": [("cpu", "CPU"), ("cuda", "GPU")],
    }, status=400 if problem else 200)


LEADERBOARD_CSV_ROWS = 10_000


@login_required
@require_safe
def leaderboard_csv(request):
    """The leaderboard as CSV with the page's filters and sort: its first 10,000 rows (every page, not one)."""
    try:
        query = leaderboard.parse_query(request.GET)
    except leaderboard.FilterError as error:
        return HttpResponse(f"{error.field}: {error}", status=400, content_type="text/plain; charset=utf-8")
    rows = leaderboard.rows(leaderboard.leaderboard(request.user, query)[:LEADERBOARD_CSV_ROWS])
    header = ["id", "name", "experiment", "family", "dataset", "generation", "status", "accuracy", "latency_ms", "latency_device",
              "params", "macs", "mutation", "review_status", "tags"]
    keys = {"experiment": "experiment_name"}
    return csv_response("leaderboard", header, ([";".join(r["tags"]) if h == "tags" else r[keys.get(h, h)] for h in header]
                                                 for r in rows))


@login_required
@require_safe
def pareto_page(request):
    query, problem = _query_or_400(request)
    cost = request.GET.get("cost") if request.GET.get("cost") in leaderboard.PARETO_COSTS else "latency"
    return render(request, "review/pareto.html", {
        "problem": problem, "cost": cost, "leaderboard_url": reverse("leaderboard-page") + "?" + urlencode(query.params()),
        "boot": {"api": reverse("review-api:pareto") + "?" + urlencode({**query.params(), "cost": cost}), "cost": cost,
                 "model_url": reverse("model-page", args=["candidate", 0]), "diff_url": reverse("diff-page"),
                 "ensembles_api": reverse("review-api:ensembles"),
                 "ensemble_url": reverse("model-page", args=["ensemble", 0])},
    }, status=400 if problem else 200)


def _subject_or_404(request, kind: str, pk: int, action: str = "read") -> Subject:
    if kind not in Subject.Kind.values or pk > 2**62:
        raise Http404("No such model.")
    subject = services.resolve_subject(request.user, kind, pk, action=action)
    if subject is None:
        raise Http404("No such model.")
    return subject


@login_required
@require_safe
def model_page(request, kind: str, pk: int):
    subject = _subject_or_404(request, kind, pk)
    if subject.kind == Subject.Kind.EVALUATION:  # an evaluation's page is its model page (live training, then results)
        return redirect(ref_url(subject))
    view = model_view(subject)
    summary = subject_summary(subject, request.user)
    api = {name: reverse(f"review-api:{name}", args=[kind, pk]) for name in
           ("subject", "subject-review", "subject-tags", "subject-pointers", "subject-comments", "subject-exports")}
    api["resolve"] = reverse("review-api:comment-resolve", args=[0])
    return render(request, "review/model.html", {
        "view": view, "subject": subject, "summary": summary, "role": role_of(request.user, subject.team_id),
        "can_change": can(request.user, "review", subject),
        "parent_url": ref_url(view.parent) if view.parent else None,
        "diff_parent_url": (reverse("diff-page") + "?" + urlencode({"a": f"{view.parent.kind}:{view.parent.target_id}",
                                                                     "b": view.ref})) if view.parent else None,
        "lineage_url": reverse("lineage-page", args=[pk]) if kind == "candidate" else None,
        "exports": export_links(subject),
        "export_jobs": export_jobs(subject),
        "job": job_status(subject, request.user),
        "drawing": drawing_boot(view.spec_drawn, view.family, view.title) if view.spec_drawn else None,
        "review_boot": {"api": api, "summary": summary, "evaluation": view.evaluation, "user": request.user.username,
                        "teamId": subject.team_id},
    })


def job_status(subject: Subject, user) -> dict | None:
    """An ensemble is a job: where it is now, the socket its page follows until it is done, and a retry once it failed."""
    if subject.kind != Subject.Kind.ENSEMBLE:
        return None
    e = subject.ensemble
    failed = e.status == e.Status.FAILED and can(user, "train", e)
    return {"ws": f"/ws/jobs/ensemble/{e.pk}/", "status": e.status, "status_label": e.get_status_display(), "stage": e.stage,
            "progress": e.progress, "retry": reverse("ensemble-retry", args=[e.pk]) if failed else None}


def export_links(subject: Subject) -> list[tuple[str, str]]:
    """What downloads at once (spec, model card); trained weights, ONNX or checkpoint, are export jobs (export_jobs)."""
    if subject.kind == Subject.Kind.ENSEMBLE:
        return []
    kinds = [("spec", "ArchSpec JSON"), ("card", "Model card (Markdown)")]
    return [(label, reverse("model-export", args=[subject.kind, subject.target_id, what])) for what, label in kinds]


def export_jobs(subject: Subject) -> dict | None:
    """The export jobs of a model with trained weights (an evaluated candidate or evaluation): each one's format,
    status, progress, size and socket (/ws/jobs/export/<id>/), where to start one of each format, and where to
    re-read them. None when it has no trained weights, or they are gone and it was never exported."""
    rows = [export_row(e) for e in Export.objects.filter(subject=subject).select_related("created_by")[:10]]
    try:
        trained_weights(subject)
    except StudioError as why:
        if not rows:
            return None
        refused = str(why)
    else:
        refused = ""
    return {"start": reverse("model-export-job", args=[subject.kind, subject.target_id]), "rows": rows,
            "api": reverse("review-api:subject-exports", args=[subject.kind, subject.target_id]),
            "formats": [{"format": value, "label": label} for value, label in Export.Format.choices], "refused": refused}


@login_required
@require_safe
def lineage_page(request, pk: int):
    candidate = Candidate.objects.for_user(request.user).select_related("experiment").filter(pk=min(pk, 2**62)).first()
    if candidate is None:
        raise Http404("No such candidate.")
    tree = lineage_tree(candidate)
    return render(request, "review/lineage.html", {"candidate": candidate, "tree": tree,
                                                   "model_url": reverse("model-page", args=["candidate", pk])})


@login_required
@require_safe
def diff_page(request):
    refs = [parse_ref(request.GET.get(side, "")) for side in ("a", "b")]
    if None in refs:
        return render(request, "review/diff.html", {"problem": "Give two models: ?a=candidate:ID&b=candidate:ID (or version:ID)."},
                      status=400)
    subjects = [_subject_or_404(request, kind, pk) for kind, pk in refs]
    views = [model_view(s) for s in subjects]
    if any(v.spec is None for v in views):
        return render(request, "review/diff.html", {"problem": "An ensemble has no single graph to compare."}, status=400)
    result = diff_models(views[0].spec_drawn, views[1].spec_drawn)
    return render(request, "review/diff.html", {
        "views": views, "result": result, "urls": [ref_url(s) for s in subjects],
        "boot": {"a": drawing_boot(views[0].spec_drawn, views[0].family, views[0].title),
                 "b": drawing_boot(views[1].spec_drawn, views[1].family, views[1].title), "diff": result},
    }, status=400 if "error" in result else 200)


@login_required
@require_safe
def activity_page(request, pk: int):
    team = Team.objects.filter(memberships__user=request.user, pk=min(pk, 2**62)).first()
    if team is None:
        raise Http404("No such team.")
    return render(request, "review/activity.html", {"team": team, "boot": {
        "team": team.pk, "api": reverse("review-api:team-activity", args=[team.pk]), "ws": f"/ws/teams/{team.pk}/"}})
