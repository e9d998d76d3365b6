"""JSON parsed with limits, one way for every API view and WebSocket: size, nesting depth, finite
numbers only, real text only (no lone surrogates, no NUL).

``loads_checked`` is the one place untrusted JSON text becomes Python values. Python's json module
fails in more ways than JSONDecodeError: a 100,000-deep body is a RecursionError, an integer literal
of more than 4,300 digits a plain ValueError (the int() digit limit), bytes that are not UTF-8 a
UnicodeDecodeError; and it accepts NaN and Infinity, which no JSON standard does. All of them are a
user's mistake: a BodyError that says what and where (a 400 from the parser, an error frame on a
socket), never a 500. PostgreSQL cannot store a NUL in text, so a NUL anywhere in a string is
refused here too, with its location.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

from django.conf import settings
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")


class BodyTooLarge(APIException):
    status_code = 413
    default_code = "too_large"


class _NotFinite:
    """Stands where the body had NaN, Infinity or an overflowing number, until its place is known."""

    def __init__(self, text: str):
        self.text = text


def _float_or_marker(text: str):
    value = float(text)
    return value if math.isfinite(value) else _NotFinite(text)


def json_path(path: list) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path)) or "body"


def first_problem(value: Any, limit: int) -> tuple[list, str] | None:
    """(path, problem) of the first container nested deeper than ``limit`` or non-finite number.

    Iterative, so it cannot recurse itself."""
    stack: list[tuple[Any, list]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if isinstance(item, _NotFinite):
            return path, f"{item.text} is not a finite number (JSON has no NaN or infinity)"
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return path, "a lone surrogate (\\uD800-\\uDFFF) is not text"
            if "\x00" in item:
                return path, "a NUL character (\\u0000) is not allowed in text"
            continue
        if isinstance(item, dict):
            bad_key = next((key for key in item if _SURROGATE.search(key)), None)
            if bad_key is not None:
                return path, "a key holds a lone surrogate (\\uD800-\\uDFFF), which is not text"
            if any("\x00" in key for key in item):
                return path, "a key holds a NUL character (\\u0000), which is not allowed in text"
            children = list(item.items())
        elif isinstance(item, list):
            children = list(enumerate(item))
        else:
            continue
        if len(path) >= limit:
            return path, f"nested deeper than {limit} levels"
        stack.extend((child, path + [key]) for key, child in reversed(children)
                     if isinstance(child, (dict, list, str, _NotFinite)))
    return None


class BodyError(ValueError):
    def __init__(self, message: str, path: list | None = None):
        super().__init__(message)
        self.path = path or []

    def detail(self) -> dict:
        """Keyed by the top-level field, so a client shows it where the value came from."""
        if not self.path:
            return {"detail": f"JSON parse error: {self}."}
        where = json_path(self.path)
        where = where if len(where) <= 80 else where[:40] + "..." + where[-37:]
        return {str(self.path[0])[:100]: [f"{where}: {self}."]}


def loads_checked(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON text (or UTF-8 bytes) or raise BodyError naming the problem and where it is."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as error:
            raise BodyError(f"not UTF-8 text: {error.reason} at byte {error.start}") from None
    try:
        value = json.loads(text, parse_constant=_NotFinite, parse_float=_float_or_marker)
    except json.JSONDecodeError as error:
        raise BodyError(f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None
    except RecursionError:  # the C scanner stops cleanly at the interpreter's recursion limit
        raise BodyError(f"JSON nested deeper than {max_depth} levels") from None
    except ValueError as error:  # int(): "Exceeds the limit (4300 digits) for integer string conversion"
        digits = "digits" in str(error)
        raise BodyError("a number with more digits than any field takes (at most 4300)" if digits
                        else f"not acceptable JSON: {str(error)[:200]}") from None
    problem = first_problem(value, max_depth)
    if problem is not None:
        path, message = problem
        raise BodyError(message, path)
    return value


class SafeJSONParser(JSONParser):
    """Every API view's JSON parser: the body read up to its limit, decoded, then ``loads_checked``.

    A view with other limits or another error format (the library's spec bodies) subclasses it and
    overrides ``limit``, ``max_depth``, ``too_large`` and ``refused``: the parsing stays this one."""

    max_depth = MAX_DEPTH

    def limit(self, parser_context) -> int | None:
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def too_large(self, size: int, limit: int) -> APIException:
        return BodyTooLarge(f"Request body too large: the limit is {limit:,} bytes.")

    def refused(self, error: BodyError) -> APIException:
        return ParseError(error.detail())

    def parse(self, stream, media_type=None, parser_context=None):
        limit = self.limit(parser_context)
        request = (parser_context or {}).get("request")
        declared = (request.META.get("CONTENT_LENGTH") or "") if request is not None else ""
        if limit is not None and declared.isdigit() and int(declared) > limit:
            raise self.too_large(int(declared), limit)  # refused before a byte is read
        raw = (stream.read(limit + 1) if limit is not None else stream.read()) if stream is not None else b""
        if limit is not None and len(raw) > limit:
            raise self.too_large(len(raw), limit)
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise self.refused(BodyError(f"the body is not valid {encoding} text")) from None
        try:
            return loads_checked(text, max_depth=self.max_depth)
        except BodyError as error:
            raise self.refused(error) from None
