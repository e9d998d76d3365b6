"""Experiments side by side: their settings, best accuracy and latency, and how the best so far grew
against time and against candidates evaluated (what the compare page draws and its CSV holds)."""
from __future__ import annotations

from django.db.models import F
from django.http import Http404

from webapp.apikit.listing import ListProblem

from .models import Candidate, Experiment

MAX_COMPARED = 8
SETTINGS = ("population", "rounds", "latency_budget_ms", "latency_device", "objective", "tournament_size", "low_steps",
            "high_steps", "batch_size", "seed", "precision")


def experiment_ids(params) -> list[int]:
    """``ids`` repeated or comma-separated: 1 to 8 whole numbers, each once."""
    raw = [part.strip() for value in params.getlist("ids") for part in value.split(",") if part.strip()]
    if not raw:
        raise ListProblem("Pick the experiments to compare (ids=1&ids=2...).")
    ids = []
    for part in raw:
        if not part.isdigit() or len(part) > 18:
            raise ListProblem(f"{part[:40]!r} is not an experiment id.")
        if int(part) not in ids:
            ids.append(int(part))
    if len(ids) > MAX_COMPARED:
        raise ListProblem(f"Compare at most {MAX_COMPARED} experiments at once, not {len(ids)}.")
    return ids


def compared(user, ids: list[int]) -> list[dict]:
    """One column per experiment, in the order asked; one another team's (or none) is a 404, as everywhere."""
    found = {e.pk: e for e in Experiment.objects.for_user(user).filter(pk__in=ids).select_related("dataset", "best_candidate")}
    missing = [i for i in ids if i not in found]
    if missing:
        raise Http404(f"No such experiment among your teams': {missing[0]}.")
    return [column(found[i]) for i in ids]


def column(experiment: Experiment) -> dict:
    best = experiment.best_candidate
    evaluated = list(experiment.candidates.filter(status=Candidate.Status.EVALUATED, accuracy__isnull=False)
                     .order_by(F("completion_order").asc(nulls_last=True), "finished_at", "index")
                     .values("name", "accuracy", "latency_ms", "finished_at", "created"))
    start = experiment.started_at or (min((c["created"] for c in evaluated), default=None))
    by_candidates, by_time, best_so_far = [], [], None
    for n, c in enumerate(evaluated, start=1):
        best_so_far = c["accuracy"] if best_so_far is None else max(best_so_far, c["accuracy"])
        by_candidates.append({"x": n, "y": best_so_far})
        if start is not None and c["finished_at"] is not None:
            by_time.append({"x": round(max(0.0, (c["finished_at"] - start).total_seconds()), 1), "y": best_so_far})
    latencies = [c["latency_ms"] for c in evaluated if c["latency_ms"] is not None]
    return {
        "id": experiment.pk, "name": experiment.name, "url": experiment.get_absolute_url(), "family": experiment.family,
        "dataset": experiment.dataset.name, "status": experiment.get_status_display(),
        "evaluated": len(evaluated), "total": experiment.total_candidates,
        "best_name": best.name if best else None,
        "best_accuracy": best.accuracy if best else (max((c["accuracy"] for c in evaluated), default=None)),
        "best_latency_ms": best.latency_ms if best else None,
        "fastest_latency_ms": min(latencies, default=None),
        "running_seconds": round(experiment.running_seconds(), 1),
        "settings": {key: experiment.config.get(key) for key in SETTINGS},
        "by_candidates": by_candidates, "by_time": by_time,
    }


ROWS = (("family", "Family"), ("dataset", "Dataset"), ("status", "Status"), ("evaluated", "Candidates evaluated"),
        ("total", "Candidates planned"), ("best_name", "Best candidate"), ("best_accuracy", "Best accuracy"),
        ("best_latency_ms", "Latency of the best (ms)"), ("fastest_latency_ms", "Fastest evaluated (ms)"),
        ("running_seconds", "Running time (s)"))


def table(columns: list[dict]) -> list[tuple[str, list]]:
    """(label, one value per experiment) rows: the facts, then every setting."""
    rows = [(label, [c[key] for c in columns]) for key, label in ROWS]
    rows += [(key, [c["settings"].get(key) for c in columns]) for key in SETTINGS]
    return rows
