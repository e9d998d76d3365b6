"""What review does: invitations and members, subjects, review status, tags, pointers, comments.

Every change asks the decision (webapp.studio.roles.require) on the object's team before it
writes anything, and writes one audit entry in the same transaction (published after commit).
Rules about *who* may do *what to whom* that are not about roles (the last owner, approving
one's own request) live here.
"""
from __future__ import annotations

import re
from datetime import timedelta

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from webapp.architectures.models import ArchitectureVersion
from webapp.studio.models import Candidate, Membership, Team
from webapp.studio.roles import OWNER, require
from webapp.studio.services import StudioError

from .accounts import confusable_with, normalize_username
from .activity import publish_on_commit
from .models import AuditEntry, Comment, Ensemble, Invitation, Pointer, Subject, Tag, token_digest

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,49}$")
MAX_INVITATION_DAYS = 30


class ReviewError(StudioError):
    pass


def audit(team_id: int, actor, action: str, subject: Subject | None = None, **detail) -> AuditEntry:
    entry = AuditEntry.objects.create(team_id=team_id, actor=actor if getattr(actor, "pk", None) else None, action=action,
                                      subject=subject, detail=detail)
    publish_on_commit(entry)
    return entry


# ---------------------------------------------------------------------- members and invitations
def create_invitation(*, team: Team, by, role: str = Membership.Role.MEMBER, days: int = 7, note: str = "") -> tuple[Invitation, str]:
    require(by, "manage", team)
    if role not in Membership.Role.values:
        raise ReviewError(f"Role must be one of {', '.join(Membership.Role.values)}.", field="role")
    if not 1 <= days <= MAX_INVITATION_DAYS:
        raise ReviewError(f"An invitation lasts from 1 to {MAX_INVITATION_DAYS} days.", field="days")
    token, digest = Invitation.new_token()
    with transaction.atomic():
        invitation = Invitation.objects.create(team=team, role=role, digest=digest, note=note[:200], created_by=by,
                                               expires=timezone.now() + timedelta(days=days))
        audit(team.pk, by, "invitation.created", role=role, invitation=invitation.pk, note=invitation.note)
    return invitation, token


def find_invitation(token: str) -> Invitation | None:
    if not token or len(token) > 100:
        return None
    return Invitation.objects.select_related("team").filter(digest=token_digest(token)).first()


def accept_invitation(token: str, user) -> Membership:
    """Join the invitation's team; the link is spent, even when two requests race for it."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(digest=token_digest(token or "")).first()
        if invitation is None:
            raise ReviewError("No such invitation.", field="token")
        problem = invitation.problem()
        if problem:
            raise ReviewError(problem, field="token")
        if Membership.objects.filter(team_id=invitation.team_id, user=user).exists():
            raise ReviewError(f"You are already in {invitation.team.name}.", field="token")
        membership = Membership.objects.create(team_id=invitation.team_id, user=user, role=invitation.role)
        invitation.used_by, invitation.used_at = user, timezone.now()
        invitation.save(update_fields=["used_by", "used_at"])
        audit(invitation.team_id, user, "member.joined", user=user.username, role=invitation.role, invitation=invitation.pk)
    return membership


def sign_up_with_invitation(token: str, *, username: str, password: str):
    """A new account and its membership, or neither. The username is NFKC-normalised and must not pass for an
    existing one; the password must pass the site's validators (settings.AUTH_PASSWORD_VALIDATORS)."""
    username = normalize_username(username)
    if not username or "\x00" in username or confusable_with(username):
        raise ReviewError("That username is taken, or looks too much like one that is: choose another.", field="username")
    try:
        password_validation.validate_password(password, get_user_model()(username=username))
    except DjangoValidationError as error:
        raise ReviewError(" ".join(error.messages), field="password2") from None
    with transaction.atomic():
        try:
            user = get_user_model().objects.create_user(username=username, password=password)
        except IntegrityError:
            raise ReviewError("That username is taken.", field="username") from None
        accept_invitation(token, user)
    return user


def revoke_invitation(invitation: Invitation, by) -> None:
    require(by, "manage", invitation)
    with transaction.atomic():
        Invitation.objects.filter(pk=invitation.pk).update(revoked=True)
        audit(invitation.team_id, by, "invitation.revoked", invitation=invitation.pk)


def set_role(*, team: Team, by, membership: Membership, role: str) -> Membership:
    require(by, "manage", team)
    if role not in Membership.Role.values:
        raise ReviewError(f"Role must be one of {', '.join(Membership.Role.values)}.", field="role")
    with transaction.atomic():
        Team.objects.select_for_update().get(pk=team.pk)  # one owner change at a time per team
        membership.refresh_from_db()
        if membership.role == OWNER and role != OWNER and _owners(team) <= 1:
            raise ReviewError("A team keeps at least one owner: make someone else owner first.", field="role")
        old = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit(team.pk, by, "member.role", user=membership.user.username, old=old, new=role)
    return membership


def remove_member(*, team: Team, by, membership: Membership) -> None:
    require(by, "manage", team)
    with transaction.atomic():
        Team.objects.select_for_update().get(pk=team.pk)
        membership.refresh_from_db()
        if membership.role == OWNER and _owners(team) <= 1:
            raise ReviewError("A team keeps at least one owner: make someone else owner first.", field="member")
        username = membership.user.username
        membership.delete()
        audit(team.pk, by, "member.removed", user=username)


def _owners(team: Team) -> int:
    return Membership.objects.filter(team=team, role=OWNER).count()


# ---------------------------------------------------------------------- subjects
def subject_for_candidate(candidate: Candidate) -> Subject:
    subject, _ = Subject.objects.get_or_create(candidate=candidate, defaults={
        "kind": Subject.Kind.CANDIDATE, "team_id": candidate.experiment.team_id})
    return subject


def subject_for_version(version) -> Subject:
    subject, _ = Subject.objects.get_or_create(version=version, defaults={
        "kind": Subject.Kind.VERSION, "team_id": version.architecture.team_id})
    return subject


def subject_for_ensemble(ensemble) -> Subject:
    subject, _ = Subject.objects.get_or_create(ensemble=ensemble, defaults={
        "kind": Subject.Kind.ENSEMBLE, "team_id": ensemble.team_id})
    return subject


SUBJECT_TARGETS = {
    Subject.Kind.CANDIDATE: (lambda: Candidate.objects.select_related("experiment"), subject_for_candidate),
    Subject.Kind.VERSION: (lambda: ArchitectureVersion.objects.select_related("architecture"), subject_for_version),
    Subject.Kind.ENSEMBLE: (lambda: Ensemble.objects.all(), subject_for_ensemble),
}


def resolve_subject(user, kind: str, object_id: int, action: str = "read") -> Subject | None:
    """The subject of ``kind``/``object_id`` among the user's teams' models (made on first use), else None.

    The decision on ``action`` comes first (PermissionDenied for a role too low), so a refused
    request leaves no new subject behind."""
    if kind not in SUBJECT_TARGETS:
        return None
    queryset, subject_for = SUBJECT_TARGETS[kind]
    target = queryset().for_user(user).filter(pk=object_id).first()
    if target is None:
        return None
    require(user, action, target)
    return subject_for(target)


# ---------------------------------------------------------------------- review status
TRANSITIONS = {
    "request": ({Subject.Status.DRAFT, Subject.Status.REJECTED, Subject.Status.APPROVED}, Subject.Status.IN_REVIEW),
    "approve": ({Subject.Status.IN_REVIEW}, Subject.Status.APPROVED),
    "reject": ({Subject.Status.IN_REVIEW}, Subject.Status.REJECTED),
    "withdraw": ({Subject.Status.IN_REVIEW}, Subject.Status.DRAFT),
}


def change_status(subject: Subject, by, action: str, comment: str = "") -> Subject:
    require(by, "review", subject)
    if action not in TRANSITIONS:
        raise ReviewError(f"Action must be one of {', '.join(TRANSITIONS)}.", field="action")
    allowed_from, to = TRANSITIONS[action]
    with transaction.atomic():
        subject = Subject.objects.select_for_update().get(pk=subject.pk)
        if subject.status not in allowed_from:
            raise ReviewError(f"Cannot {action} a model that is {subject.get_status_display().lower()}.", field="action")
        if action in ("approve", "reject") and subject.requested_by_id == by.pk:
            raise ReviewError("You requested this review: another member has to approve or reject it.", field="action")
        if action == "withdraw" and subject.requested_by_id != by.pk:
            raise ReviewError("Only who requested a review can withdraw it.", field="action")
        old = subject.status
        subject.status, subject.status_by, subject.status_at, subject.status_comment = to, by, timezone.now(), comment[:5000]
        if action == "request":
            subject.requested_by = by
        subject.save()
        audit(subject.team_id, by, "review." + action, subject, old=old, new=to, comment=comment[:500])
    return subject


# ---------------------------------------------------------------------- tags and pointers
def clean_name(name: str, field: str) -> str:
    name = (name or "").strip().lower()
    if not NAME_RE.match(name):
        raise ReviewError("Use 1 to 50 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit.", field=field)
    return name


def add_tag(subject: Subject, by, name: str) -> Tag:
    require(by, "review", subject)
    name = clean_name(name, "name")
    with transaction.atomic():
        tag, created = Tag.objects.get_or_create(subject=subject, name=name, defaults={"added_by": by})
        if created:
            audit(subject.team_id, by, "tag.added", subject, tag=name)
    return tag


def remove_tag(subject: Subject, by, name: str) -> None:
    require(by, "review", subject)
    with transaction.atomic():
        deleted, _ = Tag.objects.filter(subject=subject, name=name).delete()
        if not deleted:
            raise ReviewError(f"No tag {name!r} on this model.", field="name")
        audit(subject.team_id, by, "tag.removed", subject, tag=name)


def move_pointer(subject: Subject, by, name: str) -> Pointer:
    """Point the team's ``name`` at ``subject`` (creating it); its history is the audit trail."""
    require(by, "review", subject)
    name = clean_name(name, "name")
    with transaction.atomic():
        pointer = Pointer.objects.select_for_update().filter(team_id=subject.team_id, name=name).first()
        old = pointer.subject_id if pointer else None
        if pointer is None:
            pointer = Pointer.objects.create(team_id=subject.team_id, name=name, subject=subject, moved_by=by)
        else:
            pointer.subject, pointer.moved_by = subject, by
            pointer.save()
        audit(subject.team_id, by, "pointer.moved", subject, pointer=name, old_subject=old, new_subject=subject.pk)
    return pointer


# ---------------------------------------------------------------------- comments
def add_comment(subject: Subject, by, body: str, *, parent: Comment | None = None, anchor: dict | None = None) -> Comment:
    require(by, "comment", subject)
    body = (body or "").strip()
    if not body:
        raise ReviewError("Write something.", field="body")
    if len(body) > 10000:
        raise ReviewError("At most 10,000 characters.", field="body")
    if parent is not None:
        from .outdated import related_subjects

        if parent.parent_id is not None or parent.subject_id not in {s.pk for s in related_subjects(subject)}:
            raise ReviewError("Reply to a thread of this model.", field="parent")
        subject = parent.subject  # a reply stays with its thread (which may be on an earlier version)
    fields = {}
    if anchor and parent is None:
        fields = anchor_fields(subject, anchor)
    with transaction.atomic():
        comment = Comment.objects.create(subject=subject, parent=parent, author=by, body=body, **fields)
        audit(subject.team_id, by, "comment.added", subject, comment=comment.pk, thread=(parent or comment).pk,
              anchor=comment.anchor)
    return comment


def subject_spec(subject: Subject) -> tuple[dict, str]:
    target = subject.target
    if subject.kind == Subject.Kind.ENSEMBLE:
        raise ReviewError("An ensemble has no single graph to anchor a comment to.", field="anchor")
    return target.spec, target.spec_hash


def anchor_fields(subject: Subject, anchor: dict) -> dict:
    """Check a node/edge anchor against the subject's spec and snapshot what it was then."""
    spec, spec_hash = subject_spec(subject)
    if not isinstance(anchor, dict):
        raise ReviewError('Give {"node": id} or {"edge": [src, dst]}.', field="anchor")
    if "node" in anchor:
        node_id = anchor["node"]
        node = next((n for n in spec.get("nodes", []) if isinstance(n, dict) and n.get("id") == node_id), None)
        if node is None:
            raise ReviewError(f"No node {str(node_id)[:80]!r} in this model's graph.", field="anchor")
        return {"anchor_spec_hash": spec_hash, "anchor_node": node_id,
                "anchor_snapshot": {"type": node.get("type"), "attrs": node.get("attrs", {})}}
    if "edge" in anchor:
        pair = anchor["edge"]
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            raise ReviewError("edge: give [source id, destination id].", field="anchor")
        edge = next((e for e in spec.get("edges", []) if isinstance(e, dict) and [e.get("source"), e.get("target")] == pair), None)
        if edge is None:
            raise ReviewError(f"No edge {pair[0][:80]} -> {pair[1][:80]} in this model's graph.", field="anchor")
        return {"anchor_spec_hash": spec_hash, "anchor_src": pair[0], "anchor_dst": pair[1],
                "anchor_snapshot": {k: v for k, v in edge.items() if k not in ("source", "target")}}
    raise ReviewError('Give {"node": id} or {"edge": [src, dst]}.', field="anchor")


def resolve_thread(comment: Comment, by, resolved: bool = True) -> Comment:
    require(by, "review", comment)
    if comment.parent_id is not None:
        raise ReviewError("Resolve the thread, not a reply.", field="comment")
    with transaction.atomic():
        Comment.objects.filter(pk=comment.pk).update(resolved=resolved, resolved_by=by if resolved else None)
        comment.refresh_from_db()
        audit(comment.subject.team_id, by, "comment.resolved" if resolved else "comment.reopened", comment.subject,
              comment=comment.pk)
    return comment
