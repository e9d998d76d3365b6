"""Server-rendered pages. Every one needs a login; another team's objects are 404."""
from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from webapp.architectures.services import with_learned_weights
from webapp.architectures.views import drawing_boot

from . import services
from .forms import DatasetFolderForm, DatasetSyntheticForm, ExperimentForm
from .models import Candidate, Dataset, Experiment


@login_required
def dashboard(request):
    experiments = (Experiment.objects.for_user(request.user).select_related("team", "dataset", "best_candidate")
                   .annotate(evaluated_count=Count("candidates", filter=Q(candidates__status=Candidate.Status.EVALUATED))))
    rows = [(e, e.progress(e.evaluated_count)) for e in experiments[:200]]
    return render(request, "studio/dashboard.html", {
        "rows": rows,
        "teams": services.teams_of(request.user).order_by("name"),
        "datasets_ready": Dataset.objects.for_user(request.user).filter(status=Dataset.Status.READY).count(),
    })


@login_required
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
    return render(request, "studio/datasets.html", {
        "datasets": Dataset.objects.for_user(request.user).select_related("team"),
        "folder_form": folder_form,
        "synthetic_form": synthetic_form,
        "has_team": services.teams_of(request.user).exists(),
    }, status=400 if request.method == "POST" else 200)


@login_required
def dataset_detail(request, pk: int):
    dataset = get_object_or_404(Dataset.objects.for_user(request.user), pk=pk)
    return render(request, "studio/dataset_detail.html", {"dataset": dataset, "experiments": dataset.experiments.all()[:50]})


@login_required
def experiment_new(request):
    initial = {"dataset": request.GET["dataset"]} if request.GET.get("dataset", "").isdigit() else {}
    form = ExperimentForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        experiment = form.save()
        messages.success(request, f"Experiment {experiment.name!r} {'started' if experiment.status == 'running' else 'queued'}.")
        return redirect(experiment)
    return render(request, "studio/experiment_new.html", {"form": form, "has_team": services.teams_of(request.user).exists()},
                  status=400 if request.method == "POST" else 200)


@login_required
def experiment_detail(request, pk: int):
    experiment = get_object_or_404(Experiment.objects.for_user(request.user).select_related("dataset", "team"), pk=pk)
    config = experiment.config
    return render(request, "studio/experiment_detail.html", {
        "experiment": experiment,
        "progress": experiment.progress(),
        "config_rows": [(key, config[key]) for key in ("population", "rounds", "latency_budget_ms", "seed", "low_steps",
                                                         "high_steps", "batch_size", "objective", "tournament_size", "num_threads")
                        if key in config],
        "boot": json.dumps({"id": experiment.pk, "status": experiment.status, "total": experiment.total_candidates,
                            "population": config["population"], "generations": config["rounds"] + 1}),
    })


@login_required
@require_POST
def experiment_action(request, pk: int, action: str):
    """Start/stop/resume/cancel without JavaScript (the page's buttons use the API)."""
    experiment = get_object_or_404(Experiment.objects.for_user(request.user), pk=pk)
    change = {"start": services.start_experiment, "stop": services.stop_experiment, "resume": services.resume_experiment,
              "cancel": services.cancel_experiment}.get(action)
    if change is None:
        raise Http404("No such action.")
    try:
        change(experiment.pk)
    except services.TransitionError as error:
        messages.error(request, str(error))
    return redirect(experiment)


@login_required
def candidate_detail(request, pk: int):
    candidate = get_object_or_404(Candidate.objects.for_user(request.user).select_related("experiment", "parent"), pk=pk)
    return render(request, "studio/candidate_detail.html", {
        "candidate": candidate,
        "experiment": candidate.experiment,
        "lineage": candidate.lineage(),
        "children": candidate.children.order_by("index"),
        "spec_json": json.dumps(candidate.spec, indent=2),
        "metrics": sorted((candidate.metrics or {}).items()),
        # The architecture drawn read-only (webapp.architectures), with an "Open in editor" action.
        "drawing": drawing_boot(with_learned_weights(candidate.spec, candidate.edge_weights), candidate.experiment.family,
                                f"{candidate.experiment.name}-{candidate.name}"),
    })
