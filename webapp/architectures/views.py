"""Pages: the library, an architecture with its versions, and the editor. Login required; other teams' objects 404."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from webapp.teams.permissions import role_required
from webapp.apikit.listing import listed
from webapp.studio.manage_pages import delete_page, rename_page
from webapp.teams.roles import can, writable_teams

from . import catalog, services
from .forms import ImportForm
from .models import Architecture, ArchitectureVersion


@login_required
@require_http_methods(["GET", "POST"])
@role_required("change")  # importing needs the member role (in the team the form names: the service decides)
def library(request):
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        version = form.save()
        if version is not None:
            messages.success(request, f"Imported {version.architecture.name!r}.")
            return redirect(version.architecture)
    presets = {}
    for preset in catalog.preset_list():
        presets.setdefault(preset["family"], []).append(preset)
    architectures = Architecture.objects.for_user(request.user).select_related("team", "created_by")
    listing, status = listed(request.GET, architectures, choices={"family": catalog.family_names()})
    return render(request, "architectures/library.html", {
        **listing,
        "architectures": listing["rows"],
        "has_architectures": architectures.exists(),
        "filter_fields": [("family", "Family", [(f, f) for f in catalog.family_names()], listing["query"].chosen.get("family"))],
        "presets": sorted(presets.items()),
        "families": catalog.family_names(),
        "form": form,
        "has_team": services.teams_of(request.user).exists(),
    }, status=400 if request.method == "POST" else status)


@login_required
@require_safe
def architecture_detail(request, pk: int):
    architecture = get_object_or_404(Architecture.objects.for_user(request.user).select_related("team"), pk=pk)
    versions = list(architecture.versions.select_related("author", "parent").order_by("-number"))
    wanted = request.GET.get("version", "")
    shown = versions[0] if versions else None
    if wanted:
        shown = next((v for v in versions if str(v.number) == wanted), None)
        if shown is None:
            raise Http404("No such version.")
    return render(request, "architectures/detail.html", {
        "architecture": architecture, "versions": versions, "shown": shown, "can_change": can(request.user, "change", architecture),
        "drawing": drawing_boot(shown.spec if shown else None, architecture.family,
                                f"{architecture.name}-v{shown.number}" if shown else architecture.name),
    })


def drawing_boot(spec, family: str, filename: str) -> dict:
    """What viewer.js needs to draw a spec read-only (also used by the candidate page)."""
    known = family in catalog.family_names()
    return {"spec": spec, "family": family, "familySchema": catalog.describe_family(family) if known else None,
            "analyzeUrl": reverse("api-analyze"), "filename": "".join(c if c.isalnum() or c in "-_" else "-" for c in filename)[:80]}


def editor_source(request) -> tuple[services.Source, Architecture | None]:
    """What ?preset=, ?candidate=, ?version= or ?new=<family> asks to open."""
    params = request.GET
    try:
        if params.get("preset"):
            return services.preset_source(params["preset"]), None
        for key, load in (("candidate", services.candidate_source), ("version", services.version_source)):
            if key in params:
                raw = params[key]
                if not raw.isdigit() or len(raw) > 18:
                    raise Http404(f"No such {key}.")
                source = load(request.user, int(raw))
                return source, source.version.architecture if source.version else None
        return services.blank_source(params.get("new", "tvn")), None
    except services.StudioError as error:
        raise Http404(str(error)) from None


@login_required
@require_safe
def editor(request):
    source, architecture = editor_source(request)
    boot = {
        "spec": source.spec,
        "family": source.family,
        "familySchema": catalog.describe_family(source.family) if source.family in catalog.family_names() else None,
        "title": source.title,
        "origin": source.origin,
        "preset": source.preset,
        "candidate": source.candidate.pk if source.candidate else None,
        "version": source.version.pk if source.version else None,
        "versionNumber": source.version.number if source.version else None,
        "architecture": architecture.pk if architecture else None,
        "architectureName": architecture.name if architecture else "",
        "teams": [{"id": t.pk, "name": t.name} for t in writable_teams(request.user).order_by("name")],
        "urls": {"analyze": reverse("api-analyze"), "families": reverse("api:family-list"),
                 "architectures": reverse("api:architecture-list"), "library": reverse("architecture-library")},
    }
    return render(request, "architectures/editor.html", {"boot": boot, "source": source, "architecture": architecture})


# ---------------------------------------------------------------------- rename, delete, a version's message
@login_required
@require_POST
def architecture_rename(request, pk: int):
    architecture = get_object_or_404(Architecture.objects.for_user(request.user), pk=pk)
    return rename_page(request, architecture,
                       lambda name: services.rename_architecture(user=request.user, architecture=architecture, name=name))


@login_required
@require_http_methods(["GET", "POST"])
def architecture_delete(request, pk: int):
    architecture = get_object_or_404(Architecture.objects.for_user(request.user), pk=pk)
    return delete_page(request, architecture, services.architecture_removal(architecture),
                       lambda: services.delete_architecture(user=request.user, architecture=architecture),
                       back=architecture.get_absolute_url(), after=reverse("architecture-library"))


@login_required
@require_POST
def version_message(request, pk: int, number: int):
    version = get_object_or_404(ArchitectureVersion.objects.for_user(request.user).select_related("architecture"),
                                architecture_id=min(pk, 2**62), number=min(number, 2**31 - 1))
    return rename_page(request, version, lambda message: services.edit_version_message(user=request.user, version=version,
                                                                                       message=message),
                       field="message", what=f"Message of v{version.number} saved")
