"""The structural diff of two models for the diff page: videomodels.diff over their specs."""
from __future__ import annotations

from videomodels.diff import diff_specs
from videomodels.validation import SpecError

from .models import Subject


def parse_ref(raw: str) -> tuple[str, int] | None:
    """'candidate:12' -> ('candidate', 12); None when malformed."""
    kind, _, pk = (raw or "").partition(":")
    if kind not in Subject.Kind.values or not pk.isdigit() or len(pk) > 18:
        return None
    return kind, int(pk)


def diff_models(spec_a: dict, spec_b: dict) -> dict:
    """The diff as JSON plus its change lines; ids are matched first when the two share them."""
    try:
        shared = {n.get("id") for n in spec_a.get("nodes", [])} & {n.get("id") for n in spec_b.get("nodes", [])}
        result = diff_specs(spec_a, spec_b, match_ids=bool(shared))
    except (SpecError, AttributeError, TypeError) as error:
        return {"error": f"These two graphs cannot be compared: {str(error)[:300]}"}
    data = result.to_dict()
    data["lines"] = result.lines()
    return data
