"""The pages' rename form and delete confirmation, shared by datasets, experiments and architectures.

A rename is a small form on the object's page; a deletion first shows what goes with it (counts,
files) and what blocks it, and deletes only on the confirmation's POST. Viewers see the page with
the reason they may not delete; their POST is a 403 with it. The services decide everything again.
"""
from __future__ import annotations

from typing import Callable

from django.contrib import messages
from django.shortcuts import redirect, render

from webapp.teams.roles import decide, require

from .services import Removal, StudioError


def rename_page(request, obj, rename: Callable, *, field: str = "name", what: str = "") -> object:
    """POST only: rename (or re-note) ``obj`` and go back to its page with what happened."""
    require(request.user, "change", obj)
    try:
        rename(request.POST.get(field, ""))
    except StudioError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{what or 'Renamed'}.")
    return redirect(obj)


def delete_page(request, obj, plan: Removal, delete: Callable, *, back: str, after: str):
    """GET: the confirmation (what goes, what blocks it, or why this user may not); POST: delete and go to ``after``."""
    decision = decide(request.user, "change", obj)
    if request.method == "POST":
        require(request.user, "change", obj)
        try:
            delete()
        except StudioError as error:
            messages.error(request, str(error))
            return redirect(request.path)
        messages.success(request, f"Deleted the {plan.kind} {plan.name!r}.")
        return redirect(after)
    return render(request, "studio/confirm_delete.html", {
        "plan": plan, "back": back, "refusal": "" if decision.allowed else decision.reason,
        "counts": [(count, name if count != 1 else name.rstrip("s")) for name, count in plan.counts.items()],
    })
