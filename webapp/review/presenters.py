"""Review data as JSON: a subject's summary, its comment threads (outdated ones marked), audit rows."""
from __future__ import annotations

from webapp.teams.roles import can

from .models import AuditEntry, Comment, Pointer, Subject
from .outdated import outdated_reasons, related_subjects


def user_name(user) -> str | None:
    return user.username if user is not None else None


def subject_summary(subject: Subject, user) -> dict:
    subject = Subject.objects.select_related("requested_by", "status_by").get(pk=subject.pk)
    return {
        "id": subject.pk, "kind": subject.kind, "object_id": subject.target_id, "team": subject.team_id,
        "status": subject.status, "status_label": subject.get_status_display(),
        "requested_by": user_name(subject.requested_by), "status_by": user_name(subject.status_by),
        "status_at": subject.status_at.isoformat() if subject.status_at else None, "status_comment": subject.status_comment,
        "tags": list(subject.tags.order_by("name").values_list("name", flat=True)),
        "pointers": list(Pointer.objects.filter(subject=subject).order_by("name").values_list("name", flat=True)),
        "team_pointers": [{"name": p.name, "subject": p.subject_id} for p in Pointer.objects.filter(team_id=subject.team_id)],
        "threads": threads(subject),
        "audit": audit_rows(AuditEntry.objects.filter(subject=subject).select_related("actor")[:100]),
        "can_change": can(user, "review", subject),
    }


def comment_row(comment: Comment) -> dict:
    return {"id": comment.pk, "author": user_name(comment.author), "body": comment.body, "created": comment.created.isoformat()}


def threads(subject: Subject) -> list[dict]:
    subjects = related_subjects(subject)
    comments = list(Comment.objects.filter(subject__in=subjects).select_related("author", "resolved_by", "subject",
                                                                              "subject__version"))
    replies: dict[int, list[Comment]] = {}
    for c in comments:
        if c.parent_id:
            replies.setdefault(c.parent_id, []).append(c)
    heads = [c for c in comments if c.parent_id is None]
    reasons = outdated_reasons(subject, heads)
    return [{**comment_row(c), "anchor": c.anchor, "anchor_spec_hash": c.anchor_spec_hash, "snapshot": c.anchor_snapshot,
             "resolved": c.resolved, "resolved_by": user_name(c.resolved_by), "outdated": reasons.get(c.pk, ""),
             "written_on": written_on(c.subject), "replies": [comment_row(r) for r in replies.get(c.pk, [])]} for c in heads]


def written_on(subject: Subject) -> dict:
    label = f"v{subject.version.number}" if subject.kind == Subject.Kind.VERSION else subject.kind
    return {"subject": subject.pk, "label": label}


def audit_rows(entries) -> list[dict]:
    return [{"id": e.pk, "action": e.action, "actor": user_name(e.actor), "subject": e.subject_id, "detail": e.detail,
             "created": e.created.isoformat()} for e in entries]
