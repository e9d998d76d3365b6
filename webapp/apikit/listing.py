"""Lists that grow: search by name, filters and pages on the server, for the pages and the API alike.

A page number that is not a number, or a page past the end, is a clear answer ("Page 9 of 3 does
not exist", with a link to the last page), never a silent page 1. Filters that name something
unknown (a status that does not exist, a dataset id that is not a number) are refused the same way.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import QuerySet

PAGE_SIZE = 25
MAX_QUERY = 200  # characters of a name search
INT64_MAX = 2**63 - 1


class ListProblem(ValueError):
    """A request for a list that cannot be answered: ``status`` 400 (malformed) or 404 (past the end)."""

    def __init__(self, message: str, status: int = 400, *, link: str = "", link_text: str = ""):
        super().__init__(message)
        self.status, self.link, self.link_text = status, link, link_text


@dataclass
class Filters:
    """What a list asks for, checked: the name search ``q`` and the chosen filters (field -> value)."""

    q: str = ""
    chosen: dict = field(default_factory=dict)

    def query(self, **extra) -> str:
        values = {"q": self.q, **self.chosen, **extra}
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})


def read_filters(params, *, choices: dict[str, list[str]] | None = None, ids: tuple[str, ...] = ()) -> Filters:
    """``q`` (trimmed, at most 200 characters, no NUL), ``choices`` (field -> allowed values) and ``ids`` (whole numbers)."""
    q = (params.get("q") or "").strip()
    if "\x00" in q:
        raise ListProblem("A search cannot contain a NUL character.")
    if len(q) > MAX_QUERY:
        raise ListProblem(f"A search has at most {MAX_QUERY} characters.")
    chosen = {}
    for name, allowed in (choices or {}).items():
        value = params.get(name) or ""
        if value and value not in allowed:
            raise ListProblem(f"{name.capitalize()} {value[:40]!r} is not one of {', '.join(allowed)}.")
        if value:
            chosen[name] = value
    for name in ids:
        value = (params.get(name) or "").strip()
        if value:
            if not value.isdigit() or len(value) > 19 or int(value) > INT64_MAX:
                raise ListProblem(f"{name.capitalize()} must be the id of one, a whole number; got {value[:40]!r}.")
            chosen[name] = int(value)
    return Filters(q, chosen)


@dataclass
class Page:
    items: list
    number: int
    pages: int
    total: int
    filters: Filters

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    def link(self, number: int) -> str:
        return "?" + self.filters.query(page=number)

    @property
    def previous_link(self) -> str:
        return self.link(self.number - 1)

    @property
    def next_link(self) -> str:
        return self.link(self.number + 1)


def page_of(queryset: QuerySet, raw_page, filters: Filters, *, size: int = PAGE_SIZE) -> Page:
    """One page of ``queryset``; ``raw_page`` as the request gave it (None: the first)."""
    raw = (raw_page or "").strip() if isinstance(raw_page, str) else ""
    if raw_page not in (None, "") and (not raw.isdigit() or len(raw) > 19 or int(raw) < 1):
        raise ListProblem(f"{str(raw_page)[:40]!r} is not a page number (pages count from 1).", 400,
                          link="?" + filters.query(), link_text="Go to the first page")
    number = int(raw) if raw else 1
    total = queryset.count()
    pages = max(1, math.ceil(total / size))
    if number > pages:
        raise ListProblem(f"Page {number} of {pages} does not exist.", 404, link="?" + filters.query(page=pages),
                          link_text=f"Go to page {pages}, the last")
    start = (number - 1) * size
    return Page(list(queryset[start:start + size]), number, pages, total, filters)


def filtered(queryset: QuerySet, filters: Filters, *, lookups: dict[str, str] | None = None) -> QuerySet:
    """``q`` as a name search (case-insensitive, anywhere in the name); each chosen filter by its lookup
    (``lookups`` maps a filter to a field path: dataset -> dataset_id; default: the filter's own name)."""
    if filters.q:
        queryset = queryset.filter(name__icontains=filters.q)
    for name, value in filters.chosen.items():
        queryset = queryset.filter(**{(lookups or {}).get(name, name): value})
    return queryset


def listed(params, queryset: QuerySet, *, choices=None, ids=(), lookups=None, size: int = PAGE_SIZE) -> tuple[dict, int]:
    """What a list page renders (``pager``, ``rows``, ``query``, ``problem``) and its status: 200, or the
    problem's 400 or 404 with the list left empty and the message shown."""
    filters = Filters()
    try:
        filters = read_filters(params, choices=choices, ids=ids)
        page = page_of(filtered(queryset, filters, lookups=lookups), params.get("page"), filters, size=size)
    except ListProblem as problem:
        return {"pager": None, "rows": [], "query": filters, "problem": problem}, problem.status
    return {"pager": page, "rows": page.items, "query": filters, "problem": None}, 200


def api_filtered(request, queryset: QuerySet, *, choices=None, ids=(), lookups=None) -> QuerySet:
    """The API's form of ``listed``: the same search and filters; a malformed one is a 400 naming it."""
    from rest_framework.exceptions import ValidationError

    try:
        filters = read_filters(request.query_params, choices=choices, ids=ids)
    except ListProblem as problem:
        raise ValidationError({"detail": str(problem)}) from None
    return filtered(queryset, filters, lookups=lookups)


def api_parameters(*, choices: dict[str, list[str]] | None = None, ids: tuple[str, ...] = ()):
    """The OpenAPI parameters of a filtered list (for extend_schema)."""
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter

    parameters = [OpenApiParameter("q", OpenApiTypes.STR, description="only those whose name contains this (any case)")]
    parameters += [OpenApiParameter(name, OpenApiTypes.STR, enum=list(values), description=f"only those with this {name}")
                   for name, values in (choices or {}).items()]
    parameters += [OpenApiParameter(name, OpenApiTypes.INT, description=f"only those of this {name} (its id)") for name in ids]
    return parameters
