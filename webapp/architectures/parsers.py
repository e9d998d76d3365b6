"""The library's JSON parser for untrusted specs: the API's one parser (webapp.apikit.parsers) with
the spec limits (2 MB, 40 levels) and located problems (``{"detail", "problems": [{location, message}]}``)."""
from __future__ import annotations

from rest_framework.exceptions import ParseError

from webapp.apikit import parsers
from webapp.apikit.parsers import BodyTooLarge, json_path
from videomodels.validation import Problem

from .services import MAX_BODY_BYTES, MAX_JSON_DEPTH

__all__ = ["BodyLimit", "BodyTooLarge", "SafeJSONParser", "problems_payload"]


def problems_payload(problems) -> dict:
    return {"detail": str(problems[0]) if problems else "invalid", "problems": [p.to_dict() for p in problems]}


def too_large(size: int) -> BodyTooLarge:
    message = f"too large: {size:,} bytes (at most {MAX_BODY_BYTES:,})"
    return BodyTooLarge({"detail": f"body {message}", "problems": [{"location": "$", "message": message}]})


class BodyLimit:
    """A view mixin: a body over the limit is a 413 with a located message, before anything reads it."""

    body_limit = MAX_BODY_BYTES + 64 * 1024  # a 2 MB upload and its multipart envelope

    def initial(self, request, *args, **kwargs):
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared.isdigit() and int(declared) > self.body_limit:
            raise too_large(int(declared))
        super().initial(request, *args, **kwargs)


class SafeJSONParser(parsers.SafeJSONParser):
    max_depth = MAX_JSON_DEPTH

    def limit(self, parser_context) -> int:
        return MAX_BODY_BYTES

    def too_large(self, size: int, limit: int) -> BodyTooLarge:
        return too_large(size)

    def refused(self, error: parsers.BodyError) -> ParseError:
        return ParseError(problems_payload([Problem(json_path(error.path) if error.path else "$", str(error))]))
