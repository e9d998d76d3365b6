"""Who may do what: one decision, ``decide(actor, action, obj)``, asked before anything is written.

Roles are per team and rank owner > member > viewer. Every action names the least role it needs
in the *object's* team (``ACTIONS``): a role held in another team never counts. The object is
anything that belongs to a team (a dataset, an experiment, a candidate, an architecture, a
version, an evaluation, a review subject, a comment, an ensemble, an export...) or a team itself.

The answer is one of three:
- allowed;
- 404: the actor has no role in that team, so the object looks missing (as every read does);
- 403 with a reason: the actor's role there is too low (a viewer asking to change something).

Pages, API views, the services that create jobs and the WebSocket consumers all ask this module;
the DRF permission class and the page decorator (webapp.teams.permissions) are thin adapters over
``decide``. It lives beside Team and Membership, at the bottom of the apps' chain, where every app
may import it.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import Membership, Team

VIEWER, MEMBER, OWNER = Membership.Role.VIEWER, Membership.Role.MEMBER, Membership.Role.OWNER
RANK = {VIEWER: 1, MEMBER: 2, OWNER: 3}

# action -> the least role it needs in the object's team
ACTIONS = {
    "read": VIEWER,      # see it (pages, API reads, live sockets)
    "comment": VIEWER,   # write a comment or a reply
    "export": VIEWER,    # take a copy away (ONNX export jobs included)
    "change": MEMBER,    # datasets, searches and their status, the library, imports
    "train": MEMBER,     # anything that queues training: evaluations, ensembles, injected candidates
    "review": MEMBER,    # review status, tags, pointers, resolving threads
    "manage": OWNER,     # members, roles, invitations
}

MESSAGES = {
    VIEWER: "You need a role in this team.",
    MEMBER: "Viewers read and comment only: ask a team owner for the member role to change this.",
    OWNER: "Only a team owner manages members, roles and invitations.",
}
READ_ONLY_MESSAGE = MESSAGES[MEMBER]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    status: int  # 200 allowed, 403 role too low, 404 not the actor's team
    reason: str = ""
    role: str | None = None

    def __bool__(self) -> bool:
        return self.allowed


def team_id_of(obj) -> int | None:
    """The team an object belongs to: a team's own id, else through its team, experiment, architecture,
    version or review subject."""
    if isinstance(obj, Team):
        return obj.pk
    for path in ("team_id", "experiment.team_id", "architecture.team_id", "version.architecture.team_id", "subject.team_id"):
        value = obj
        try:
            for part in path.split("."):
                value = getattr(value, part)
        except AttributeError:
            continue
        if value is not None:
            return value
    return None


def role_of(user, team_id: int | None) -> str | None:
    if team_id is None or not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(user=user, team_id=team_id).values_list("role", flat=True).first()


def decide(actor, action: str, obj) -> Decision:
    """May ``actor`` do ``action`` to ``obj``? Unknown actions are a programming error."""
    needed = ACTIONS[action]
    role = role_of(actor, team_id_of(obj))
    if role is None:
        return Decision(False, 404, "No such object.")
    if RANK[role] < RANK[needed]:
        return Decision(False, 403, MESSAGES[needed], role)
    return Decision(True, 200, "", role)


def decide_anywhere(actor, action: str) -> Decision:
    """May ``actor`` do ``action`` in at least one of its teams? What a page asks before it offers a form
    that creates something (the team the form names is then decided by ``decide``): a 403 with the
    action's reason when the actor's roles are all too low, a 404 when it has no team at all."""
    if not teams_where(actor, "read").exists():
        return Decision(False, 404, "You are not in a team yet.")
    if not teams_where(actor, action).exists():
        return Decision(False, 403, MESSAGES[ACTIONS[action]])
    return Decision(True, 200, "")


def require(actor, action: str, obj) -> str:
    """``decide``, raising what Django and DRF both answer: Http404 or PermissionDenied (403). Returns the role."""
    decision = decide(actor, action, obj)
    if decision.status == 404:
        raise Http404(decision.reason)
    if not decision.allowed:
        raise PermissionDenied(decision.reason)
    return decision.role


def can(actor, action: str, obj) -> bool:
    return decide(actor, action, obj).allowed


def teams_where(user, action: str = "read"):
    """The user's teams where ``decide(user, action, team)`` allows (what a form may offer)."""
    if not getattr(user, "is_authenticated", False):
        return Team.objects.none()
    roles = [role for role, rank in RANK.items() if rank >= RANK[ACTIONS[action]]]
    return Team.objects.filter(memberships__user=user, memberships__role__in=roles)


def writable_teams(user):
    return teams_where(user, "change")
