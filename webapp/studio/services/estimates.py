"""Cheap, cached estimates that launch forms and pages use to warn early.

- ``latency_floor_ms``: about the fastest a family's network runs on this machine, measured
  once per process (and per input shape) on a few sampled networks (a few seconds of CPU, so
  a launch that would wait for it checks its budget in the background instead);
- ``train_workers``: how many candidates the Celery workers on the train queue can train at
  once, asked with a short broadcast and remembered for a while.
"""
from __future__ import annotations

import logging
import os
import threading

from celery import current_app as app  # the project's Celery app (webapp.celery), without importing the project
from django.core.cache import cache
from django.db.models import Min

from ..models import Candidate, Dataset
from ..outcomes import format_ms

log = logging.getLogger("webapp.studio")

# Networks sampled and timed; the fastest stands for what the family can reach (MACs alone
# mislead: a pooling-heavy network with more MACs can run faster).
FLOOR_SAMPLES = 4  # about 1-2 s of CPU, once per process and input shape
WORKERS_CACHE_KEY = "studio:train-workers"
WORKERS_CACHE_SECONDS = 30
PING_TIMEOUT = 0.4  # seconds a page waits for workers to answer, at most once per cache period
TRAIN_QUEUE = "train"

_floor_lock = threading.Lock()


_floors: dict[tuple, float] = {}  # per process: (family, input shape, size range, timing settings) -> ms


FLOOR_RUNS = 3  # timed runs per network, whatever the search's latency_runs: the cost stays bounded
FLOORS_KEPT = 64


def _floor_key(config, dataset: Dataset) -> tuple:
    threads = max(1, min(int(config.latency_threads), os.cpu_count() or 1))  # more threads than cores time the same
    return (config.family, dataset.num_classes, dataset.frames, dataset.size, config.max_params, config.min_params,
            threads, FLOOR_RUNS)


def _measure_floor(family: str, num_classes: int, frames: int, size: int, max_params: int, min_params: int,
                   threads: int, runs: int) -> float:
    from archsearch.engine import candidate_rng
    from archsearch.evaluate import candidate_latency
    from archsearch.spaces import SpaceConfig, make_space

    space = make_space(family, SpaceConfig(num_classes=num_classes, frames=frames, size=size, max_params=max_params,
                                           min_params=min_params))
    specs = [space.sample(candidate_rng(0, index)) for index in range(FLOOR_SAMPLES)]
    return min(candidate_latency(spec, threads=threads, runs=runs) for spec in specs)


def latency_floor_ms(config, dataset: Dataset, *, measure: bool = True) -> float | None:
    """About the fastest this family's networks run on this machine at the dataset's shape
    (None when not measured yet and ``measure`` is false)."""
    key = _floor_key(config, dataset)
    if key in _floors or not measure:
        return _floors.get(key)
    with _floor_lock:  # two launches at once measure once, and never time each other
        if key not in _floors:
            if len(_floors) >= FLOORS_KEPT:
                _floors.pop(next(iter(_floors)))  # the oldest: settings users can vary must not grow it forever
            _floors[key] = _measure_floor(*key)
        return _floors[key]


def fastest_seen_ms(family: str, dataset: Dataset, latency_device: str = "cpu") -> float | None:
    """The fastest candidate of this family measured so far on data of this shape, on this
    latency device (free: one query)."""
    return (Candidate.objects.filter(experiment__family=family, experiment__dataset__frames=dataset.frames,
                                     experiment__dataset__size=dataset.size, latency_ms__isnull=False,
                                     latency_device=latency_device)
            .aggregate(fastest=Min("latency_ms"))["fastest"])


def latency_budget_warning(config, dataset: Dataset, *, measure: bool = True) -> str | None:
    """A warning when the latency budget is below what the family's networks reach, '' when it is
    not, None when that is not known without timing networks (and ``measure`` is false)."""
    budget = config.latency_budget_ms
    if budget is None:
        return ""
    device = getattr(config, "latency_device", "cpu")
    seen = fastest_seen_ms(config.family, dataset, device)
    if seen is not None and seen <= budget:
        return ""  # a network this fast has been measured: the budget is reachable, no need to time anything
    if device != "cpu":
        return ""  # the web process has no GPU to time on: the workers measure, candidates over it are rejected
    try:
        floor = latency_floor_ms(config, dataset, measure=measure)
    except Exception as error:  # noqa: BLE001 - an estimate must never stop a launch
        log.warning("latency floor of %s not measured: %s", config.family, error)
        return ""
    if floor is None:
        return None
    if budget >= floor:
        return ""
    return (f"The latency budget of {budget:g} ms is below what {config.family} networks reach on this machine: the "
            f"fastest of {FLOOR_SAMPLES} sampled ones took about {format_ms(floor)} ms at {dataset.frames} frames of "
            f"{dataset.size} px. Most candidates may be rejected, and the search give up.")


def _ask_train_workers() -> int | None:
    """Candidates the train queue's workers can take at once; None when no worker answered."""
    try:
        # A short poll: Redis replies are read with BRPOP, whose default 1 s wait would set the pace.
        with app.connection_for_write(transport_options={"polling_interval": 0.1}) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=PING_TIMEOUT)
            queues = app.control.inspect(timeout=PING_TIMEOUT, connection=connection).active_queues() or {}
            train = sorted(name for name, consumed in queues.items() if any(q.get("name") == TRAIN_QUEUE for q in consumed or []))
            if not train:
                return None
            stats = app.control.inspect(timeout=PING_TIMEOUT, connection=connection, destination=train,
                                        limit=len(train)).stats() or {}
    except Exception as error:  # noqa: BLE001 - no broker: say nobody answered
        log.info("train workers not counted: %s", error)
        return None
    return sum(int((stats.get(name) or {}).get("pool", {}).get("max-concurrency") or 1) for name in train)


def train_workers(*, fresh: bool = False) -> int | None:
    """Cached ``_ask_train_workers``: 0 workers is remembered as None too (nobody answered)."""
    found = None if fresh else cache.get(WORKERS_CACHE_KEY)
    if found is None:
        answer = _ask_train_workers()
        found = -1 if answer is None else answer
        cache.set(WORKERS_CACHE_KEY, found, WORKERS_CACHE_SECONDS)
    return None if found < 0 else found
