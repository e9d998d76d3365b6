"""What the teams app tells the apps to its right: a change to a team's members or invitations.

``team_changed`` is sent inside the transaction that writes the change, so a receiver's own rows
(review's audit trail) commit or roll back with it. Teams cannot import review (the chain runs
one way); review listens instead.
"""
from __future__ import annotations

from django.dispatch import Signal

# kwargs: team_id, actor (a user, or None), action ("member.role", "invitation.created"...), detail (a dict)
team_changed = Signal()


def announce(team_id: int, actor, action: str, **detail) -> None:
    team_changed.send(sender="teams", team_id=team_id, actor=actor, action=action, detail=detail)
