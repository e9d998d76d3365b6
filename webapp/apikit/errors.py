"""One JSON error format for the API, including for errors Django raises before DRF sees them."""
from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.db import DataError, IntegrityError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

log = logging.getLogger("webapp.api")


def api_exception_handler(exc, context):
    """DRF's handler, plus the database's refusals, which reach here only through a race or a
    value the checks let through: a conflict (409) or an out-of-range value (400), not a 500."""
    response = exception_handler(exc, context)
    if response is not None:
        return response
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": "Request body too large."}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, IntegrityError):
        log.info("API conflict: %s", exc)
        return Response({"detail": "This conflicts with something that already exists (another request may have "
                                   "just created it); reload and try again."}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, (DataError, OverflowError)):
        log.info("API value out of range: %s", exc)
        return Response({"detail": "A value is out of the range the database can store."}, status=status.HTTP_400_BAD_REQUEST)
    return None


def json_for_api(default_view):
    """A Django error handler that answers JSON under /api/ (a client there never parses HTML)."""
    from django.http import JsonResponse

    def handler(request, *args, **kwargs):
        if request.path.startswith("/api/"):
            status_code = getattr(default_view, "status_code", 500)
            detail = {404: "Not found.", 400: "Bad request.", 403: "Forbidden.", 500: "Server error."}[status_code]
            return JsonResponse({"detail": detail}, status=status_code)
        return default_view(request, *args, **kwargs)

    return handler
