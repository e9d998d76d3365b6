"""Leaderboards: a team's (or one experiment's) candidates, filtered, sorted and paged on the server.

Sorting by a metric ranks the candidates that have it (a failed candidate has no latency to
rank); every sort ends with the primary key so pages never overlap. The sort columns are
indexed with the key (studio migration 0003), within an experiment and across experiments,
so the first page of 100,000 candidates is an index walk, not a sort.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Exists, F, Max, Min, OuterRef, QuerySet

from webapp.studio import figures
from webapp.studio.models import Candidate, Experiment

from .models import Subject, Tag
from .pareto import pareto_front

SORTS = {"accuracy": "accuracy", "latency": "latency_ms", "params": "params", "macs": "macs", "generation": "generation",
         "index": "index"}
DEFAULT_SORT = "-accuracy"
PARETO_COSTS = {"latency": "latency_ms", "macs": "macs"}
RANGES = {"min_accuracy": ("accuracy", "gte"), "max_accuracy": ("accuracy", "lte"), "max_latency": ("latency_ms", "lte"),
          "min_latency": ("latency_ms", "gte"), "max_params": ("params", "lte"), "max_macs": ("macs", "lte")}
MAX_FLOAT_TEXT = 40
LATENCY_DEVICES = ("cpu", "cuda")  # where a candidate's latency was measured (its search's latency device)
COUNT_CAP = 10_000


class FilterError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass
class Query:
    """What a leaderboard shows, parsed from query parameters (the page and the API share it)."""

    team: int | None = None
    experiment: int | None = None
    family: str = ""
    dataset: int | None = None
    status: str = ""
    review: str = ""
    tag: str = ""
    latency_device: str = ""
    sort: str = DEFAULT_SORT
    ranges: dict[str, float] = field(default_factory=dict)

    def params(self) -> dict[str, str]:
        """Back to query parameters (for links that keep the filters)."""
        out = {k: str(v) for k, v in (("team", self.team), ("experiment", self.experiment), ("family", self.family),
                                      ("dataset", self.dataset), ("status", self.status), ("review", self.review),
                                      ("tag", self.tag), ("latency_device", self.latency_device)) if v not in (None, "")}
        if self.sort != DEFAULT_SORT:
            out["sort"] = self.sort
        out.update({k: repr(v) for k, v in self.ranges.items()})
        return out


def _whole(raw: str, name: str) -> int | None:
    if raw in (None, ""):
        return None
    text = str(raw).strip()
    if not text.isdigit() or len(text) > 18:
        raise FilterError(name, f"Must be a whole number, got {str(raw)[:30]!r}.")
    return int(text)


def _number(raw: str, name: str) -> float:
    import math

    text = str(raw).strip()
    try:
        if len(text) > MAX_FLOAT_TEXT:
            raise ValueError
        value = float(text)
    except ValueError:
        raise FilterError(name, f"Must be a number, got {str(raw)[:30]!r}.") from None
    if not math.isfinite(value):
        raise FilterError(name, "Must be a finite number.")
    return value


def parse_query(params) -> Query:
    from archsearch.config import FAMILIES

    query = Query(team=_whole(params.get("team"), "team"), experiment=_whole(params.get("experiment"), "experiment"),
                  dataset=_whole(params.get("dataset"), "dataset"))
    query.family = params.get("family", "") or ""
    if query.family and query.family not in FAMILIES:
        raise FilterError("family", f"Must be one of {', '.join(FAMILIES)}.")
    query.status = params.get("status", "") or ""
    if query.status and query.status not in Candidate.Status.values:
        raise FilterError("status", f"Must be one of {', '.join(Candidate.Status.values)}.")
    query.review = params.get("review", "") or ""
    if query.review and query.review not in Subject.Status.values:
        raise FilterError("review", f"Must be one of {', '.join(Subject.Status.values)}.")
    query.tag = (params.get("tag", "") or "").strip().lower()
    if len(query.tag) > 50:
        raise FilterError("tag", "At most 50 characters.")
    if "\x00" in query.tag:  # PostgreSQL text cannot hold it: a 400, not a database error
        raise FilterError("tag", "A NUL character (\\u0000) is not allowed in text.")
    query.latency_device = params.get("latency_device", "") or ""
    if query.latency_device and query.latency_device not in LATENCY_DEVICES:
        raise FilterError("latency_device", f"Must be one of {', '.join(LATENCY_DEVICES)}.")
    sort = params.get("sort", "") or DEFAULT_SORT
    if sort.lstrip("-") not in SORTS:
        raise FilterError("sort", f"Must be one of {', '.join(SORTS)} (a leading '-' for descending).")
    query.sort = sort
    for name in RANGES:
        if params.get(name) not in (None, ""):
            query.ranges[name] = _number(params[name], name)
    return query


def scoped_experiments(user, query: Query) -> QuerySet:
    """The experiments whose candidates ``query`` can select."""
    experiments = Experiment.objects.for_user(user)
    if query.team is not None:
        experiments = experiments.filter(team_id=query.team)
    if query.experiment is not None:
        experiments = experiments.filter(pk=query.experiment)
    if query.family:
        experiments = experiments.filter(family=query.family)
    if query.dataset is not None:
        experiments = experiments.filter(dataset_id=query.dataset)
    return experiments


def latency_devices(user, query: Query) -> list[str]:
    """Where the selected candidates' latencies were measured: their searches' latency devices
    (read from the experiments, never a scan of the candidates)."""
    if query.latency_device:
        return [query.latency_device]
    found = scoped_experiments(user, query).order_by().values_list("config__latency_device", flat=True).distinct()[:10]
    return sorted({device or "cpu" for device in found})


def scoped(user, query: Query) -> QuerySet:
    """The candidates ``query`` selects among the user's teams (another team's ids select nothing)."""
    experiment_ids = list(scoped_experiments(user, query).values_list("pk", flat=True)[:10001])
    candidates = Candidate.objects.all()
    if query.experiment is not None or len(experiment_ids) == 1:
        candidates = candidates.filter(experiment_id=experiment_ids[0]) if experiment_ids else candidates.none()
    else:
        # Across experiments, the sort's own index (metric, id) should drive the scan, filtering by
        # experiment as it goes: "+ 0" keeps SQLite from picking the experiment index and sorting
        # every row instead (Postgres plans by cost either way).
        candidates = candidates.alias(scope=F("experiment_id") + 0).filter(scope__in=experiment_ids)
    if query.status:
        candidates = candidates.filter(status=query.status)
    if query.review == Subject.Status.DRAFT:  # a model nobody reviewed yet is a draft too
        candidates = candidates.exclude(review__status__in=[s for s in Subject.Status.values if s != Subject.Status.DRAFT])
    elif query.review:
        candidates = candidates.filter(review__status=query.review)
    if query.latency_device:
        candidates = candidates.filter(latency_device=query.latency_device)
    if query.tag:
        candidates = candidates.filter(Exists(Tag.objects.filter(subject__candidate=OuterRef("pk"), name=query.tag)))
    for name, value in query.ranges.items():
        column, op = RANGES[name]
        candidates = candidates.filter(**{f"{column}__{op}": value})
    return candidates


def ordered(candidates: QuerySet, sort: str) -> QuerySet:
    column = SORTS[sort.lstrip("-")]
    descending = sort.startswith("-")
    if column not in ("generation", "index"):
        candidates = candidates.filter(**{f"{column}__isnull": False})
    sign = "-" if descending else ""
    return candidates.order_by(f"{sign}{column}", f"{sign}pk")


def capped_count(queryset: QuerySet) -> int:
    """The number of rows, or COUNT_CAP + 1 when there are more (the database stops counting there)."""
    return queryset.order_by()[:COUNT_CAP + 1].count()


def leaderboard(user, query: Query) -> QuerySet:
    return (ordered(scoped(user, query), query.sort)
            .select_related("experiment", "experiment__dataset", "review")
            .only("pk", "name", "index", "generation", "status", "accuracy", "latency_ms", "latency_device", "latency_spread", "params",
                  "macs",
                  "mutation",
                  "parent_id", "experiment__name", "experiment__family", "experiment__team_id", "experiment__dataset__name",
                  "review__status"))


def tags_of(candidate_ids) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = {}
    for candidate_id, name in Tag.objects.filter(subject__candidate_id__in=list(candidate_ids)).values_list(
            "subject__candidate_id", "name").order_by("name"):
        tags.setdefault(candidate_id, []).append(name)
    return tags


def row(candidate: Candidate, tags: dict[int, list[str]]) -> dict:
    review = getattr(candidate, "review", None)
    return {"id": candidate.pk, "name": candidate.name, "experiment": candidate.experiment_id,
            "experiment_name": candidate.experiment.name, "family": candidate.experiment.family,
            "dataset": candidate.experiment.dataset.name, "generation": figures.generation(candidate.generation), "status": candidate.status,
            "accuracy": candidate.accuracy, "latency_ms": candidate.latency_ms, "latency_device": candidate.latency_device,
            "latency_spread": candidate.latency_spread or None, "latency_spread_text": candidate.latency_spread_text,
            "params": candidate.params,
            "macs": candidate.macs, "mutation": candidate.mutation, "parent": candidate.parent_id,
            "review_status": review.status if review is not None else Subject.Status.DRAFT,
            "tags": tags.get(candidate.pk, []), "url": candidate.get_absolute_url()}


def rows(candidates) -> list[dict]:
    candidates = list(candidates)
    tags = tags_of(c.pk for c in candidates)
    return [row(c, tags) for c in candidates]


PARETO_PREFIX = 2000


def pareto(user, query: Query, cost: str = "latency", *, context_points: int = 1500) -> dict:
    """The front of accuracy against ``cost`` over what ``query`` selects, plus a thin sample of the
    other points for the chart (never all 100,000 of them).

    Exact, without reading every row: the PARETO_PREFIX cheapest rows come off the (cost, id)
    index; call L the cheapest cost not among them and a0 their best accuracy. Every row costing
    L or more with accuracy <= a0 is dominated by that best row (cheaper, at least as accurate),
    so only rows above a0 are read from the (accuracy, id) index. The sort-and-sweep
    (webapp.review.pareto, O(n log n)) runs over those two sets. When the data put most rows on
    the front, the second set is large and the same code stays correct, only slower.
    """
    if cost not in PARETO_COSTS:
        raise FilterError("cost", f"Must be one of {', '.join(PARETO_COSTS)}.")
    column = PARETO_COSTS[cost]
    candidates = scoped(user, query).filter(accuracy__isnull=False, **{f"{column}__isnull": False})
    count = candidates.count()
    prefix = list(candidates.order_by(column, "pk").values_list("pk", "accuracy", column)[:PARETO_PREFIX + 1])
    if len(prefix) > PARETO_PREFIX:
        limit_cost = prefix[-1][2]
        prefix = [p for p in prefix if p[2] < limit_cost]
        best = max((p[1] for p in prefix), default=-1.0)
        rest = list(candidates.filter(**{f"{column}__gte": limit_cost}, accuracy__gt=best).values_list("pk", "accuracy", column))
        points = prefix + rest
    else:
        points = prefix
    front = pareto_front(points)
    on_front = {p[0] for p in front}
    others = [p for p in sample(candidates, column, context_points) if p[0] not in on_front][:context_points]
    # Latencies measured on the CPU and on a GPU do not compare: say which the points are.
    devices = latency_devices(user, query) if cost == "latency" else []
    return {"cost": cost, "count": count, "front": [list(p) for p in front], "others": [list(p) for p in others],
            "latency_devices": devices, "labels": labels_of([p[0] for p in front] + [p[0] for p in others])}


def labels_of(ids: list[int], chunk: int = 900) -> dict[str, dict]:
    """What a person calls each point: {id: {name, experiment, family, dataset}} (a chart shows names, not ids)."""
    labels = {}
    for start in range(0, len(ids), chunk):
        for pk, name, experiment, family, dataset in Candidate.objects.filter(pk__in=ids[start:start + chunk]).values_list(
                "pk", "name", "experiment__name", "experiment__family", "experiment__dataset__name"):
            labels[str(pk)] = {"name": name, "experiment": experiment, "family": family, "dataset": dataset}
    return labels


def sample(candidates: QuerySet, column: str, size: int) -> list:
    """About ``size`` rows spread evenly over the id range (primary-key lookups, no full scan)."""
    bounds = candidates.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return []
    low, high = bounds["low"], bounds["high"]
    step = max(1, (high - low + 1) // size)
    wanted = list(range(low, high + 1, step))[:size * 2]
    return list(candidates.filter(pk__in=wanted).values_list("pk", "accuracy", column)[:size])
