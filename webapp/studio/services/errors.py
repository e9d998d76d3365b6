"""The studio's errors: user mistakes it explains, with the field they concern."""
from __future__ import annotations


class StudioError(ValueError):
    """A user mistake the studio explains; ``field`` names the input when there is one.

    ``status`` is the HTTP answer it becomes in the API (a page shows the message by the field)."""

    status = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class TransitionError(StudioError):
    """An experiment cannot go from its status to the one asked for."""

    status = 409


class LimitError(StudioError):
    """Over one of the team's fair-use limits; ``field`` names the limit (e.g. max_queued_trainings)."""

    status = 429


