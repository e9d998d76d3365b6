"""What an ensemble's page does beyond a model page's: run a failed one again."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from webapp.apikit.refusals import refused
from webapp.studio.services import StudioError

from .ensembles import retry_ensemble
from .models import Ensemble


@login_required
@require_POST
def ensemble_retry(request, pk: int):
    """A failed ensemble's "Run again" (members and owners); anything but a failed one is a 409."""
    ensemble = Ensemble.objects.for_user(request.user).filter(pk=min(pk, 2**62)).first()
    if ensemble is None:
        raise Http404("No such ensemble.")
    try:
        queued = retry_ensemble(ensemble, request.user)
    except StudioError as error:
        messages.error(request, str(error))
    else:
        if not queued:
            return refused(request, f"Only a failed ensemble runs again; this one is {ensemble.get_status_display().lower()}.")
        messages.success(request, "Queued again: this page follows the new attempt.")
    return redirect(reverse("model-page", args=["ensemble", pk]))
