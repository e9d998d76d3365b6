"""The teams app's refusals that are a user's mistake (not a role too low: that is the decision's 403)."""
from __future__ import annotations


class TeamError(ValueError):
    """A mistake about members or invitations; ``field`` names the input it concerns (a 400 keyed by it)."""

    status = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field
