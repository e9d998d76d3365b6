"""A JSON parser for untrusted specs: bounded body size and nesting, located errors (never a 500)."""
from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from webapp.apikit.parsers import BodyTooLarge

from .services import MAX_BODY_BYTES, SpecRejected, parse_json

__all__ = ["BodyLimit", "BodyTooLarge", "SafeJSONParser", "problems_payload"]


def problems_payload(problems) -> dict:
    return {"detail": str(problems[0]) if problems else "invalid", "problems": [p.to_dict() for p in problems]}


class BodyLimit:
    """A view mixin: a body over the limit is a 413 with a located message, before anything reads it."""

    body_limit = MAX_BODY_BYTES + 64 * 1024  # a 2 MB upload and its multipart envelope

    def initial(self, request, *args, **kwargs):
        declared = request.META.get("CONTENT_LENGTH") or ""
        if declared.isdigit() and int(declared) > self.body_limit:
            message = f"too large: {int(declared):,} bytes (at most {MAX_BODY_BYTES:,})"
            raise BodyTooLarge({"detail": f"body {message}", "problems": [{"location": "$", "message": message}]})
        super().initial(request, *args, **kwargs)


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise BodyTooLarge({"detail": f"body too large: {int(declared):,} bytes (at most {MAX_BODY_BYTES:,})",
                                "problems": [{"location": "$", "message": f"too large: {int(declared):,} bytes (at most {MAX_BODY_BYTES:,})"}]})
        raw = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
        try:
            return parse_json(raw)
        except SpecRejected as error:
            if len(raw) > MAX_BODY_BYTES:
                raise BodyTooLarge(problems_payload(error.problems)) from None
            raise ParseError(problems_payload(error.problems)) from None
