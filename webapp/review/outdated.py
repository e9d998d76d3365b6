"""Anchored threads carried forward: a thread written on an earlier version of an architecture is
listed on its later versions too, and marked outdated when its node or edge changed or is gone
(videomodels.diff's node_fate/edge_fate). Outdated threads are listed, never hidden.

Specs never change once written, so each thread's fate on a spec is worked out once and stored
(ThreadFate): reading a review diffs only against versions it has not met before."""
from __future__ import annotations

from videomodels.diff import diff_specs
from videomodels.validation import SpecError

from .models import Subject, ThreadFate


def related_subjects(subject: Subject) -> list[Subject]:
    """The subject and, for an architecture version, the subjects of the versions before it."""
    if subject.kind != Subject.Kind.VERSION:
        return [subject]
    version = subject.version
    earlier = Subject.objects.filter(version__architecture_id=version.architecture_id, version__number__lte=version.number)
    return list(earlier.select_related("version"))


def outdated_reasons(subject: Subject, heads) -> dict[int, str]:
    """Thread id -> why it is outdated here ('' or missing when it still holds)."""
    if subject.kind == Subject.Kind.ENSEMBLE:
        return {}
    current_spec, current_hash = subject.target.spec, subject.target.spec_hash
    moved = [h for h in heads if (h.anchor_node or h.anchor_src) and h.anchor_spec_hash != current_hash]
    if not moved:
        return {}
    known = dict(ThreadFate.objects.filter(comment__in=moved, spec_hash=current_hash).values_list("comment_id", "reason"))
    fresh = worked_out([h for h in moved if h.pk not in known], current_spec)
    ThreadFate.objects.bulk_create([ThreadFate(comment_id=pk, spec_hash=current_hash, reason=reason) for pk, reason in fresh.items()],
                                   ignore_conflicts=True)
    return {pk: reason for pk, reason in {**known, **fresh}.items() if reason}


def worked_out(heads, current_spec) -> dict[int, str]:
    """Thread id -> why it is outdated on ``current_spec`` ('' when it holds): one diff per spec written on."""
    reasons: dict[int, str] = {}
    diffs: dict[int, object] = {}
    for head in heads:
        written_on = head.subject
        if written_on.pk not in diffs:
            try:
                diffs[written_on.pk] = diff_specs(written_on.target.spec, current_spec)
            except SpecError:
                diffs[written_on.pk] = None
        diff = diffs[written_on.pk]
        if diff is None:
            reasons[head.pk] = "the graph it was written on cannot be compared with this one"
            continue
        if head.anchor_node:
            fate, now = diff.node_fate(head.anchor_node)
            what = f"node {head.anchor_node}"
        else:
            fate, now = diff.edge_fate(head.anchor_src, head.anchor_dst)
            what = f"edge {head.anchor_src} -> {head.anchor_dst}"
        reasons[head.pk] = f"{what} was {fate} after the version it was written on" if fate != "unchanged" else ""
    return reasons
