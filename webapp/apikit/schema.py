"""The OpenAPI schema tells the truth about failures too: every operation documents the error
answers the API really gives (field errors, not signed in, not found, conflicts, too large, over a
team's fair-use limit)."""
from __future__ import annotations

from drf_spectacular.openapi import AutoSchema

DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
# A 400 is either {"detail": ...} or field -> messages (nested serializers: field -> object).
FIELD_ERRORS = {"type": "object", "additionalProperties": {
    "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}, {"type": "object"}]}}


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


class StudioAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = {
            "400": _json("Bad input: the fields at fault with their messages", FIELD_ERRORS),
            "401": _json("Not signed in", DETAIL),
            "403": _json("Signed in but not allowed (or the CSRF token is missing)", DETAIL),
        }
        # Also lists: a filter naming an object of another team (or none) is a 404.
        errors["404"] = _json("No such object among your teams' (another team's looks the same)", DETAIL)
        if self.method == "DELETE":
            errors["409"] = _json("Something still depends on it (``detail`` says what)", DETAIL)
        if self.method in ("POST", "PUT", "PATCH"):
            errors["409"] = _json("Conflicts with the object's state or with an object just created", {"type": "object"})
            errors["413"] = _json("Request body too large", DETAIL)
            errors["429"] = _json("Over one of the team's fair-use limits (``field`` names it: max_queued_trainings...)",
                                  {"type": "object", "properties": {"detail": {"type": "string"}, "field": {"type": "string"}}})
        for code, response in errors.items():
            responses.setdefault(code, response)
        return responses
