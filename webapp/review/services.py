"""What review does: subjects, review status, tags, pointers, comments, and the audit trail.

Every change asks the decision (webapp.teams.roles.require) on the object's team before it
writes anything, and writes one audit entry in the same transaction (published after commit);
changes to a team's members and invitations reach the trail through webapp.teams.events.
Rules about *who* may do *what to whom* that are not about roles (approving one's own request)
live here.
"""
from __future__ import annotations

import re

from django.db import transaction
from django.utils import timezone

from webapp.architectures.evaluations import Evaluation
from webapp.architectures.models import ArchitectureVersion
from webapp.studio.models import Candidate
from webapp.studio.services import StudioError
from webapp.teams.roles import require

from .activity import model_link, publish_on_commit
from .models import AuditEntry, Comment, Ensemble, Pointer, Subject, Tag
from .outdated import related_subjects

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,49}$")


class ReviewError(StudioError):
    pass


def audit(team_id: int, actor, action: str, subject: Subject | None = None, **detail) -> AuditEntry:
    """One entry of the team's trail (append-only), published after commit. An entry about a subject
    names and links it (``model``, ``url``) unless the caller already did."""
    if subject is not None and "model" not in detail:
        detail = {**model_link(subject), **detail}
    entry = AuditEntry.objects.create(team_id=team_id, actor=actor if getattr(actor, "pk", None) else None, action=action,
                                      subject=subject, detail=detail)
    publish_on_commit(entry)
    return entry


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


def subject_for_evaluation(evaluation) -> Subject:
    subject, _ = Subject.objects.get_or_create(evaluation=evaluation, defaults={
        "kind": Subject.Kind.EVALUATION, "team_id": evaluation.version.architecture.team_id})
    return subject


SUBJECT_TARGETS = {
    Subject.Kind.CANDIDATE: (lambda: Candidate.objects.select_related("experiment"), subject_for_candidate),
    Subject.Kind.VERSION: (lambda: ArchitectureVersion.objects.select_related("architecture"), subject_for_version),
    Subject.Kind.ENSEMBLE: (lambda: Ensemble.objects.all(), subject_for_ensemble),
    Subject.Kind.EVALUATION: (lambda: Evaluation.objects.select_related("version__architecture", "dataset"), subject_for_evaluation),
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
