"""Pages' actions of the jobs (without JavaScript): inject a version into a running search."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from webapp.studio.models import Experiment
from webapp.teams.roles import require

from . import jobs
from .models import ArchitectureVersion


@login_required
@require_POST
def experiment_inject(request, pk: int):
    experiment = get_object_or_404(Experiment.objects.for_user(request.user), pk=pk)
    require(request.user, "train", experiment)  # as the API's inject: a viewer adds nothing (403)
    raw = request.POST.get("version", "")
    version = None
    if raw.isdigit() and len(raw) <= 18:
        version = ArchitectureVersion.objects.for_user(request.user).select_related("architecture", "author").filter(pk=int(raw)).first()
    if version is None:
        messages.error(request, "Choose one of your team's saved versions.")
        return redirect(experiment)
    try:
        candidate = jobs.inject_version(user=request.user, experiment_id=experiment.pk, version=version)
    except jobs.StudioError as error:
        messages.error(request, str(error))
        return redirect(experiment)
    messages.success(request, f"{version} joined the search as {candidate.name}.")
    return redirect(experiment)
