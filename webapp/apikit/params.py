"""Whole-number query parameters and pagination, bounded to what the database can hold."""
from __future__ import annotations

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import LimitOffsetPagination

INT64_MAX = 2**63 - 1


def int_param(request, name: str, *, required: bool = False, minimum: int = 0, maximum: int = INT64_MAX) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        if required:
            raise ValidationError({name: ["This parameter is required."]})
        return None
    text = raw.strip()
    if not text.lstrip("-").isdigit() or len(text) > 20:
        raise ValidationError({name: [f"Must be a whole number from {minimum} to {maximum}, got {raw[:30]!r}."]})
    value = int(text)
    if not minimum <= value <= maximum:
        raise ValidationError({name: [f"Must be a whole number from {minimum} to {maximum}."]})
    return value


class Pagination(LimitOffsetPagination):
    """limit/offset with a maximum page; a limit or offset that is not a sane number is a 400."""

    default_limit = 100
    max_limit = 1000

    def get_limit(self, request):
        limit = int_param(request, self.limit_query_param, minimum=1, maximum=INT64_MAX)
        return self.default_limit if limit is None else min(limit, self.max_limit)

    def get_offset(self, request):
        return int_param(request, self.offset_query_param, minimum=0, maximum=INT64_MAX) or 0

    def paginate_queryset(self, queryset, request, view=None):
        page = super().paginate_queryset(queryset, request, view)
        if self.offset and self.offset >= self.count:
            # Past the end is a clear answer, never a quiet empty page (or page 1).
            last = max(0, (self.count - 1) // self.limit * self.limit)
            raise NotFound(f"Offset {self.offset} is past the end: there are {self.count} results "
                           f"(the last page starts at offset {last}).")
        return page
