"""JSON bodies parsed with limits: size, nesting depth, and only finite numbers.

Python's json module recurses once per nesting level (a 100,000-deep body is a RecursionError)
and accepts NaN and Infinity, which no JSON standard does. Both are a user's mistake: a 400
that says so, never a 500.
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
            continue
        if isinstance(item, dict):
            bad_key = next((key for key in item if _SURROGATE.search(key)), None)
            if bad_key is not None:
                return path, "a key holds a lone surrogate (\\uD800-\\uDFFF), which is not text"
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


def loads_checked(text: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON text or raise BodyError naming the problem and where it is."""
    try:
        value = json.loads(text, parse_constant=_NotFinite, parse_float=_float_or_marker)
    except json.JSONDecodeError as error:
        raise BodyError(f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None
    except RecursionError:  # the C scanner stops cleanly at the interpreter's recursion limit
        raise BodyError(f"JSON nested deeper than {max_depth} levels") from None
    problem = first_problem(value, max_depth)
    if problem is not None:
        path, message = problem
        raise BodyError(message, path)
    return value


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if limit is not None and len(raw) > limit:
            raise BodyTooLarge(f"Request body too large: the limit is {limit:,} bytes.")
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise ParseError(f"Request body is not valid {encoding} text.") from None
        try:
            return loads_checked(text)
        except BodyError as error:
            raise ParseError(error.detail()) from None
