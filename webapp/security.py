"""Security defaults that depend on the request: Secure cookies over HTTPS, quiet Host errors."""
from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpResponseBadRequest


class SecureCookiesOverHttps:
    """Mark the session and CSRF cookies Secure whenever the request came over HTTPS.

    Django's SESSION_COOKIE_SECURE is all or nothing; the studio is used over plain
    http://127.0.0.1 on a laptop and over HTTPS behind a proxy in production, and should be
    right in both without a setting."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.is_secure():
            for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
                if name in response.cookies:
                    response.cookies[name]["secure"] = True
        return response


class WithoutTraceback(logging.Filter):
    """One line for an expected refusal (a bad Host header is a client's mistake, not a crash)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


class RefusalsWithoutTraceback(logging.Filter):
    """A refused request (a 4xx: a role too low, a missing object, a bad request) is one log line.

    Django logs a PermissionDenied or a SuspiciousOperation with the exception attached, and so a
    traceback, as if the server had failed; the refusal is the server working. Server errors (5xx)
    keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True


class RefuseNulInText:
    """On the pages, a NUL character in a query parameter or a form field is a 400, before any view sees it.

    No text the studio keeps may hold one (PostgreSQL cannot store it, and no name or comment needs
    it). The pages' forms refuse it field by field too; this also covers query parameters and the
    fields a page reads itself. The API refuses it where it parses: its JSON parser (in any string),
    its form bodies (webapp.apikit.bodies.body_object, DRF's character fields) and its free-text
    filters (the leaderboard's tag), each answering in the operation's own error format. File
    uploads are not text: a spec uploaded as a file goes through the JSON parser."""

    FORM = "application/x-www-form-urlencoded"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            where = self.nul_in(request)
            if where:
                return HttpResponseBadRequest(f"A NUL character (\\u0000) is not allowed in text ({where}).",
                                              content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    def nul_in(self, request) -> str:
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                return f"query parameter {key.replace(chr(0), '?')[:40]!r}"
        if request.content_type == self.FORM:
            try:
                body = request.body  # what the form parser reads next (cached); bounded by DATA_UPLOAD_MAX_MEMORY_SIZE
            except Exception:  # noqa: BLE001 - too large or unreadable: the view answers that as before
                return ""
            if b"\x00" in body or b"%00" in body:
                return "a form field"
        return ""
