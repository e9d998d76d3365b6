"""Server-rendered pages. Every one needs a login; another team's objects are 404."""
from __future__ import annotations

import inspect
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from archsearch.config import FAMILIES
from webapp.apikit.csvfiles import csv_response
from webapp.apikit.listing import ListProblem, filtered, listed, read_filters
from webapp.teams.permissions import role_required
from webapp.teams.roles import can, require

from . import comparison, services
from .manage_pages import delete_page, rename_page
from .forms import DatasetFolderForm, DatasetSyntheticForm, ExperimentForm
from .models import Candidate, Dataset, Experiment, latency_label
from .outcomes import SUGGESTED_VAL_CLIPS, parallelism_note, suggested_clips_per_class, val_clips_for


@login_required
@require_safe
def dashboard(request):
    """The experiment list: search by name, filters (status, family, dataset) and pages, on the server."""
    experiments = (Experiment.objects.for_user(request.user).select_related("team", "dataset", "best_candidate")
                   .annotate(evaluated_count=Count("candidates", filter=Q(candidates__status=Candidate.Status.EVALUATED)))
                   .newest_first())
    listing, status = listed(request.GET, experiments, choices=EXPERIMENT_CHOICES, ids=("dataset",),
                             lookups={"dataset": "dataset_id"})
    chosen = listing["query"].chosen
    datasets = Dataset.objects.for_user(request.user).order_by("name").values_list("pk", "name")[:500]
    return render(request, "studio/dashboard.html", {
        **listing,
        "rows": [(e, e.progress(e.evaluated_count)) for e in listing["rows"]],
        "filter_fields": [("status", "Status", Experiment.Status.choices, chosen.get("status")),
                          ("family", "Family", [(f, f) for f in FAMILIES], chosen.get("family")),
                          ("dataset", "Dataset", list(datasets), chosen.get("dataset"))],
        "teams": services.teams_of(request.user).order_by("name"),
        "has_experiments": experiments.exists(),
        "datasets_ready": Dataset.objects.for_user(request.user).filter(status=Dataset.Status.READY).count(),
    }, status=status)


EXPERIMENT_CHOICES = {"status": Experiment.Status.values, "family": list(FAMILIES)}
DATASET_CHOICES = {"status": Dataset.Status.values, "kind": Dataset.Kind.values}


@login_required
@require_http_methods(["GET", "POST"])
@role_required("change")  # registering needs the member role (in the team the form names: the service decides)
def datasets(request):
    folder_form = DatasetFolderForm(user=request.user, prefix="folder")
    synthetic_form = DatasetSyntheticForm(user=request.user, prefix="synthetic")
    if request.method == "POST":
        form = None
        if "folder-name" in request.POST:
            form = folder_form = DatasetFolderForm(request.POST, user=request.user, prefix="folder")
        elif "synthetic-name" in request.POST:
            form = synthetic_form = DatasetSyntheticForm(request.POST, user=request.user, prefix="synthetic")
        if form is not None and form.is_valid():
            dataset = form.save()
            if dataset is not None:
                messages.success(request, f"Dataset {dataset.name!r} registered; it is being prepared.")
                return redirect(dataset)
    describe_validation_split(synthetic_form)
    datasets = Dataset.objects.for_user(request.user).select_related("team").prefetch_related("preparations")
    listing, status = listed(request.GET, datasets, choices=DATASET_CHOICES)
    chosen = listing["query"].chosen
    return render(request, "studio/datasets.html", {
        **listing,
        "datasets": listing["rows"],
        "filter_fields": [("status", "Status", Dataset.Status.choices, chosen.get("status")),
                          ("kind", "Kind", Dataset.Kind.choices, chosen.get("kind"))],
        "has_datasets": datasets.exists(),
        "folder_form": folder_form,
        "synthetic_form": synthetic_form,
        "has_team": services.teams_of(request.user).exists(),
    }, status=400 if request.method == "POST" else status)


def describe_validation_split(form: DatasetSyntheticForm) -> None:
    """The clips-per-class hint: how many validation clips the default gives, and a size for fine accuracy."""
    fraction = validation_fraction()
    field = form.fields["clips_per_class"]
    classes = len(form.fields["classes"].initial or []) or 1
    val = val_clips_for(classes, field.initial, fraction)
    suggested = suggested_clips_per_class(classes, fraction)
    field.help_text = (f"1 in {round(1 / fraction)} clips is kept for validation: {field.initial} per class with {classes} "
                       f"classes gives {val} validation clips, so accuracy moves in steps of 1/{val}. For steps of "
                       f"1/{val_clips_for(classes, suggested, fraction)}, use about {suggested} per class.")


@login_required
@require_safe
def dataset_detail(request, pk: int):
    dataset = get_object_or_404(Dataset.objects.for_user(request.user), pk=pk)
    suggested = None
    if dataset.accuracy_note and dataset.num_classes:
        suggested = suggested_clips_per_class(dataset.num_classes, validation_fraction())
    return render(request, "studio/dataset_detail.html", {
        "dataset": dataset, "experiments": dataset.experiments.all()[:50], "can_change": can(request.user, "change", dataset),
        "suggested_clips_per_class": suggested, "suggested_val_clips": SUGGESTED_VAL_CLIPS,
    })


def validation_fraction() -> float:
    """The share of clips the clip cache keeps for validation (its default; the studio does not change it)."""
    from videomodels.data import prepare_cache

    return inspect.signature(prepare_cache).parameters["val_fraction"].default


@login_required
@require_http_methods(["GET", "POST"])
@role_required("change")
def experiment_new(request):
    initial = {"dataset": request.GET["dataset"]} if request.GET.get("dataset", "").isdigit() else {}
    workers = services.train_workers()
    initial["parallelism"] = min(64, workers or 1)  # as many at once as there are workers to train them
    form = ExperimentForm(request.POST or None, user=request.user, initial=initial)
    form.fields["parallelism"].help_text = parallelism_help(workers)
    experiment = form.save() if request.method == "POST" and form.is_valid() else None
    if experiment is not None:
        # Tagged so the live page can take it down once the run is over (it would read as current news).
        messages.success(request, f"Experiment {experiment.name!r} {'started' if experiment.status == 'running' else 'queued'}.",
                         extra_tags="run-notice")
        return redirect(experiment)
    return render(request, "studio/experiment_new.html", {"form": form, "has_team": services.teams_of(request.user).exists()},
                  status=400 if request.method == "POST" else 200)


def parallelism_help(workers: int | None) -> str:
    if not workers:
        return "Candidates evaluated at once. No worker on the train queue answered just now: candidates wait until one runs."
    return f"Candidates evaluated at once; {workers} worker{'s' * (workers != 1)} on the train queue now."


@login_required
@require_safe
def experiment_detail(request, pk: int):
    experiment = get_object_or_404(Experiment.objects.for_user(request.user).select_related("dataset", "team", "best_candidate"),
                                   pk=pk)
    config = experiment.config
    counts = candidate_counts(experiment)
    progress = experiment.progress(counts["evaluated"])
    return render(request, "studio/experiment_detail.html", {
        "experiment": experiment,
        # What the user's role in the experiment's team lets the page offer (the API decides again).
        "can_change": can(request.user, "change", experiment),
        "can_train": can(request.user, "train", experiment),
        "progress": progress,
        "counts": counts,
        "result": search_result(experiment),
        "parallelism_note": parallelism_note_for(experiment),
        "config_rows": [(key, config[key]) for key in ("population", "rounds", "latency_budget_ms", "latency_device", "seed",
                                                         "low_steps", "high_steps", "batch_size", "objective", "tournament_size",
                                                         "num_threads", "precision", "deterministic")
                        if key in config],
        "latency_where": latency_where(experiment),
        # What the page shows before the WebSocket's replay arrives; the script starts from it.
        "boot": {"id": experiment.pk, "status": experiment.status, "total": experiment.total_candidates,
                 "population": config["population"], "generations": config["rounds"] + 1, "counts": counts,
                 "progress": progress, "outcome": experiment.outcome, "latency_device": config.get("latency_device", "cpu")},
    })


def latency_where(experiment: Experiment) -> str:
    """Where this search measures latency, in words: 'CPU', 'GPU' or 'GPU (NVIDIA H200)'."""
    device = experiment.config.get("latency_device", "cpu")
    hardware = "" if device == "cpu" else (experiment.candidates.exclude(latency_hardware="")
                                           .values_list("latency_hardware", flat=True).first() or "")
    return latency_label(device, hardware) + ", batch 1"


def candidate_counts(experiment: Experiment) -> dict[str, int]:
    """Evaluated, rejected (or failed) and in-training candidates, as the page's counters show them."""
    by_status = dict(experiment.candidates.values_list("status").annotate(n=Count("pk")))
    return {"evaluated": by_status.get(Candidate.Status.EVALUATED, 0),
            "rejected": by_status.get(Candidate.Status.REJECTED, 0) + by_status.get(Candidate.Status.FAILED, 0),
            "running": by_status.get(Candidate.Status.RUNNING, 0)}


def search_result(experiment: Experiment) -> dict | None:
    """The end of a search as rows: its Pareto front and (EvaNet) its ensemble; None while it runs."""
    summary = experiment.summary or {}
    if experiment.status not in Experiment.TERMINAL or not summary:
        return None
    ensemble = summary.get("ensemble") or None
    names = set(summary.get("pareto_ids") or []) | set((ensemble or {}).get("members") or [])
    by_name = {c.name: c for c in experiment.candidates.filter(name__in=names)}
    pareto = sorted((by_name[n] for n in summary.get("pareto_ids") or [] if n in by_name),
                    key=lambda c: (c.latency_ms is None, c.latency_ms or 0.0))
    members = []
    if ensemble and ensemble.get("members"):
        accuracies = ensemble.get("member_accuracy") or []
        for i, name in enumerate(ensemble["members"]):
            members.append({"name": name, "candidate": by_name.get(name),
                            "accuracy": accuracies[i] if i < len(accuracies) else None})
    return {"pareto": pareto, "ensemble": ensemble, "members": members}


def parallelism_note_for(experiment: Experiment) -> str:
    """Why fewer candidates train at once than the experiment asks for (asked only while it can train)."""
    if experiment.status not in (Experiment.Status.QUEUED, Experiment.Status.RUNNING):
        return ""
    return parallelism_note(experiment.parallelism, services.train_workers() or 0)


@login_required
@require_POST
def experiment_action(request, pk: int, action: str):
    """Start/stop/resume/cancel without JavaScript (the page's buttons use the API)."""
    experiment = get_object_or_404(Experiment.objects.for_user(request.user), pk=pk)
    require(request.user, "change", experiment)
    change = {"start": services.start_experiment, "stop": services.stop_experiment, "resume": services.resume_experiment,
              "cancel": services.cancel_experiment}.get(action)
    if change is None:
        raise Http404("No such action.")
    try:
        change(experiment.pk)
    except services.StudioError as error:  # a transition its status forbids, or a fair-use limit of the team
        messages.error(request, str(error))
    return redirect(experiment)


@login_required
@require_safe
def candidate_detail(request, pk: int):
    candidate = get_object_or_404(Candidate.objects.for_user(request.user).select_related("experiment", "parent"), pk=pk)
    return render(request, "studio/candidate_detail.html", {
        "candidate": candidate,
        "experiment": candidate.experiment,
        "lineage": candidate.lineage(),
        "children": candidate.children.order_by("index"),
        "spec_json": json.dumps(candidate.spec, indent=2),
        "metrics": sorted((candidate.metrics or {}).items()),
        # The architecture is drawn by the library's template tag (candidate_detail.html loads drawing_tags).
    })


@login_required
@require_safe
def workers_page(request):
    """The workers: host, device, busy or idle, what each trains (your teams' work by name), last report."""
    overview = services.workers_overview(request.user)
    return render(request, "studio/workers.html", {**overview, "beat_seconds": services.workers.beat_seconds()})


@login_required
@require_safe
def api_docs(request):
    """Swagger UI over /api/schema/, from the packaged sidecar's files (nothing from the internet, no inline script)."""
    return render(request, "studio/api_docs.html")


# ---------------------------------------------------------------------- rename and delete (webapp.studio.manage_pages)
@login_required
@require_POST
def dataset_rename(request, pk: int):
    dataset = get_object_or_404(Dataset.objects.for_user(request.user), pk=pk)
    return rename_page(request, dataset, lambda name: services.rename_dataset(user=request.user, dataset=dataset, name=name))


@login_required
@require_http_methods(["GET", "POST"])
def dataset_delete(request, pk: int):
    dataset = get_object_or_404(Dataset.objects.for_user(request.user), pk=pk)
    return delete_page(request, dataset, services.dataset_removal(dataset),
                       lambda: services.delete_dataset(user=request.user, dataset=dataset),
                       back=dataset.get_absolute_url(), after=reverse("datasets"))


@login_required
@require_POST
def experiment_rename(request, pk: int):
    experiment = get_object_or_404(Experiment.objects.for_user(request.user), pk=pk)
    return rename_page(request, experiment,
                       lambda name: services.rename_experiment(user=request.user, experiment=experiment, name=name))


@login_required
@require_http_methods(["GET", "POST"])
def experiment_delete(request, pk: int):
    experiment = get_object_or_404(Experiment.objects.for_user(request.user), pk=pk)
    return delete_page(request, experiment, services.experiment_removal(experiment),
                       lambda: services.delete_experiment(user=request.user, experiment=experiment),
                       back=experiment.get_absolute_url(), after=reverse("dashboard"))


# ---------------------------------------------------------------------- compare, CSV downloads
@login_required
@require_safe
def experiment_compare(request):
    try:
        ids = comparison.experiment_ids(request.GET)
    except ListProblem as problem:
        return render(request, "studio/compare.html", {"problem": problem}, status=problem.status)
    columns = comparison.compared(request.user, ids)
    return render(request, "studio/compare.html", {
        "columns": columns, "ids_query": "&".join(f"ids={i}" for i in ids),
        "rows": [(label, [round(v, 4) if isinstance(v, float) else v for v in values])
                 for label, values in comparison.table(columns)],
        "boot": [{k: c[k] for k in ("name", "by_candidates", "by_time")} for c in columns],
    })


@login_required
@require_safe
def experiment_compare_csv(request):
    try:
        ids = comparison.experiment_ids(request.GET)
    except ListProblem as problem:
        return HttpResponse(str(problem), status=problem.status, content_type="text/plain; charset=utf-8")
    columns = comparison.compared(request.user, ids)
    return csv_response("comparison", ["", *(c["name"] for c in columns)],
                        ([label, *values] for label, values in comparison.table(columns)))


@login_required
@require_safe
def experiments_csv(request):
    """The experiment list as CSV, with the list's search and filters (every match, not one page)."""
    experiments = (Experiment.objects.for_user(request.user).select_related("team", "dataset", "best_candidate")
                   .annotate(evaluated_count=Count("candidates", filter=Q(candidates__status=Candidate.Status.EVALUATED)))
                   .newest_first())
    try:
        filters = read_filters(request.GET, choices=EXPERIMENT_CHOICES, ids=("dataset",))
    except ListProblem as problem:
        return HttpResponse(str(problem), status=problem.status, content_type="text/plain; charset=utf-8")
    experiments = filtered(experiments, filters, lookups={"dataset": "dataset_id"})
    header = ["id", "name", "team", "family", "dataset", "status", "evaluated", "planned", "best_candidate", "best_accuracy",
              "best_latency_ms", "created", "started_at", "finished_at"]
    return csv_response("experiments", header, (
        [e.pk, e.name, e.team.name, e.family, e.dataset.name, e.status, e.evaluated_count, e.total_candidates,
         e.best_candidate.name if e.best_candidate else None, e.best_candidate.accuracy if e.best_candidate else None,
         e.best_candidate.latency_ms if e.best_candidate else None, e.created.isoformat(),
         e.started_at.isoformat() if e.started_at else None, e.finished_at.isoformat() if e.finished_at else None]
        for e in experiments.iterator()))


@login_required
@require_safe
def experiment_candidates_csv(request, pk: int):
    experiment = get_object_or_404(Experiment.objects.for_user(request.user), pk=pk)
    header = ["index", "name", "generation", "parent", "mutation", "status", "accuracy", "low_accuracy", "latency_ms",
              "latency_device", "params", "macs", "fidelity", "seconds", "reason", "finished_at"]
    candidates = experiment.candidates.select_related("parent").order_by("index")
    return csv_response(f"{experiment.name}-candidates", header, (
        [c.index, c.name, c.generation, c.parent.name if c.parent_id else None, c.mutation, c.status, c.accuracy, c.low_accuracy,
         c.latency_ms, c.latency_device, c.params, c.macs, c.fidelity, c.seconds, c.reason,
         c.finished_at.isoformat() if c.finished_at else None]
        for c in candidates.iterator()))
