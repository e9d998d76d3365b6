"""Security defaults that depend on the request: Secure cookies over HTTPS, quiet Host errors."""
from __future__ import annotations

import logging

from django.conf import settings


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
