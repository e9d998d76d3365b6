"""What a view takes from a parsed body: an object when it needs one, booleans parsed, not coerced.

Every parser (JSON, form, multipart) hands a view some value; a view that reads fields needs an
object, and says so with a 400 when the body is a list, a string, a number, true or null.
"""
from __future__ import annotations

from typing import Any

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

JSON_TYPE = {dict: "an object", list: "a list", str: "a string", bool: "true or false", int: "a number", float: "a number",
             type(None): "null"}


def body_object(request) -> dict | QueryDict:
    """The request's body as fields: a JSON object (or form fields); anything else is a 400 that says so.

    Form fields are text the JSON parser never saw: a NUL in one is refused here, as the parser refuses it."""
    data = request.data
    if isinstance(data, QueryDict):
        for key, values in data.lists():
            if "\x00" in key or any(isinstance(v, str) and "\x00" in v for v in values):
                raise ValidationError({key.replace("\x00", "?")[:100]: ["A NUL character (\\u0000) is not allowed in text."]})
        return data
    if isinstance(data, dict):
        return data
    what = JSON_TYPE.get(type(data), type(data).__name__)
    raise ValidationError({"detail": f"The body must be a JSON object of fields ({{\"name\": value, ...}}), got {what}."})


def parse_bool(value: Any, field: str, *, form: bool = False) -> bool:
    """JSON true or false; "true" or "false" only when the body was form-encoded (where every value is text)."""
    if isinstance(value, bool):
        return value
    if form and isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    accepted = 'true or false' + (' ("true" or "false" in a form)' if form else " (JSON booleans, not strings or numbers)")
    raise ValidationError({field: [f"Must be {accepted}."]})


def bool_field(data, field: str, default: bool) -> bool:
    """``data[field]`` parsed strictly (see parse_bool); ``default`` when it is absent."""
    if field not in data:
        return default
    return parse_bool(data[field], field, form=isinstance(data, QueryDict))


class StrictBooleanField(serializers.BooleanField):
    """DRF's BooleanField takes "no", "0", 1, "off"...: this one takes JSON true/false, and "true"/"false"
    only from a form-encoded body."""

    default_error_messages = {"invalid": 'Must be true or false (JSON booleans; "true" or "false" in a form).'}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        request = self.context.get("request") if hasattr(self, "context") else None
        form = request is not None and isinstance(getattr(request, "data", None), QueryDict)
        if form and isinstance(data, str) and data in ("true", "false"):
            return data == "true"
        self.fail("invalid")
