"""Anchored threads carried forward: a thread written on an earlier version of an architecture is
listed on its later versions too, and marked outdated when its node or edge changed or is gone
(videomodels.diff's node_fate/edge_fate). Outdated threads are listed, never hidden."""
from __future__ import annotations

from videomodels.diff import diff_specs
from videomodels.validation import SpecError

from .models import Subject


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
    reasons: dict[int, str] = {}
    diffs: dict[int, object] = {}
    for head in heads:
        if not (head.anchor_node or head.anchor_src) or head.anchor_spec_hash == current_hash:
            continue
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
        if fate != "unchanged":
            reasons[head.pk] = f"{what} was {fate} after the version it was written on"
    return reasons
