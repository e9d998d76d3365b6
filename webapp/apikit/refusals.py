"""A page's refusal (a 409 a click may still meet: a retry of a job that is not failed, a download not
ready) in the form its caller reads: JSON for a script (``Accept: application/json``, or under /api/),
else a page in the studio's style that says the server's reason (templates/refused.html)."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

TITLES = {400: "That request cannot be done", 403: "Not with your role", 404: "Not found", 409: "Not now",
          429: "Too many at once"}


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def refused(request: HttpRequest, detail: str, status: int = 409) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"detail": detail}, status=status)
    return render(request, "refused.html", {"status": status, "title": TITLES.get(status, "Refused"), "detail": detail},
                  status=status)
