"""The driver of a search: keep candidates in flight, finish, resume after a restart.

The engine's state is rebuilt from the candidate rows (completed ones, in completion order)
under the experiment's row lock, so every step is idempotent and any worker can carry on.
Each candidate's evaluation is a job of webapp.jobs (kind "candidate", see studio.candidate_job):
the runtime claims it, watches its worker, hands it to another when that one dies and records it
once; the kind's hooks call back into ``advance_locked`` under the same lock.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from django.db import transaction
from django.db.models import Max

from webapp.jobs.claims import queue
from webapp.jobs.kinds import kind_named

from ..models import Candidate, Experiment
from ..outcomes import give_up_reason
from ..progress import record_event
from .lifecycle import locked, queue_advance, set_status, settle_stopping

log = logging.getLogger("webapp.studio")

Status = Experiment.Status
CStatus = Candidate.Status
CANDIDATE_KIND = "candidate"  # registered by webapp.studio.candidate_job, which imports this module


def build_engine(experiment: Experiment):
    """The search state, rebuilt from the completed candidates in the order their results came."""
    from archsearch.engine import Evolution
    from archsearch.spaces import SpaceConfig, make_space

    config = experiment.search_config()
    dataset = experiment.dataset
    space = make_space(config.family, SpaceConfig(num_classes=dataset.num_classes, frames=dataset.frames, size=dataset.size,
                                                  max_params=config.max_params, min_params=config.min_params))
    history = (experiment.candidates.filter(completion_order__isnull=False).select_related("parent")
               .order_by("completion_order"))
    return Evolution(config, space, [c.history_record() for c in history])


def advance(experiment_id: int, *, requeue: bool = False) -> None:
    """Keep ``parallelism`` candidates in flight; finish when the search is done."""
    with transaction.atomic():
        experiment = locked(experiment_id)
        finish_now = advance_locked(experiment, requeue=requeue)
    if finish_now:
        finish(experiment_id)


def advance_locked(experiment: Experiment, *, requeue: bool = False) -> bool:
    """The body of ``advance`` (caller holds the lock); True when the search should finish now. ``requeue``:
    send the proposed candidates to the workers again (on resume: a stopped search's wait unsent)."""
    if experiment.status == Status.STOPPING:
        settle_stopping(experiment)  # stopped once no candidate trains (the runtime hands back a dead worker's)
        return False
    if experiment.status != Status.RUNNING:
        return False
    try:
        engine = build_engine(experiment)
    except Exception as error:  # e.g. the dataset's cache vanished: say so, keep the rows
        log.exception("experiment %s: cannot rebuild the search", experiment.pk)
        experiment.error = f"{type(error).__name__}: {error}"
        experiment.save(update_fields=["error"])
        set_status(experiment, Status.FAILED, error=experiment.error)
        return False
    in_flight = list(experiment.candidates.filter(status__in=Candidate.IN_FLIGHT))
    if engine.done and not in_flight:
        return True
    to_queue = [c.pk for c in in_flight if c.status == CStatus.PROPOSED and requeue]
    if not engine.done:
        # Never more in flight than the search still needs: it ends with exactly population x (rounds + 1).
        needed = experiment.total_candidates - len(engine.trained) - len(in_flight)
        slots = experiment.parallelism - len(in_flight)
        top = experiment.candidates.aggregate(top=Max("index"))["top"]
        next_index = 0 if top is None else top + 1
        by_name = dict(experiment.candidates.values_list("name", "pk"))
        for _ in range(max(0, min(needed, slots))):
            proposal = engine.propose(index=next_index)
            next_index += 1
            candidate = Candidate.objects.create(
                experiment=experiment, index=proposal["index"], name=proposal["id"], generation=proposal["generation"],
                parent_id=by_name.get(proposal["parent_id"]), mutation=proposal["mutation"] or "",
                mutation_details=proposal["mutation_details"] or {}, spec=proposal["spec"], spec_hash=proposal["spec_hash"],
                params=proposal["params"], macs=proposal["macs"])
            record_event(experiment, "candidate_sampled", {
                "candidate_id": candidate.name, "candidate": candidate.pk, "index": candidate.index,
                "generation": candidate.generation, "parent_id": proposal["parent_id"], "mutation": proposal["mutation"],
                "params": proposal["params"], "macs": proposal["macs"]})
            to_queue.append(candidate.pk)
    queue_evaluations(to_queue)
    return False


def queue_evaluations(candidate_ids: list[int]) -> None:
    """Each one run by the job runtime, on the train queue, once the transaction commits."""
    kind = kind_named(CANDIDATE_KIND)
    for pk in candidate_ids:
        queue(kind, pk)


def finish(experiment_id: int) -> None:
    """Close a done search: the Pareto front, EvaNet's ensemble, the final event."""
    from archsearch.events import RunFinished

    with transaction.atomic():
        experiment = Experiment.objects.select_related("dataset").get(pk=experiment_id)
        if experiment.status != Status.RUNNING:
            return
        engine = build_engine(experiment)
    ensemble = None
    if experiment.family == "evanet" and engine.trained:
        try:
            from archsearch.ensemble import evaluate_ensemble

            ensemble = evaluate_ensemble(engine.trained, engine.space, Path(experiment.dataset.cache_path),
                                         k=engine.config.ensemble_size)
        except Exception as error:  # the search itself is complete; report, do not fail it
            log.exception("experiment %s: ensemble failed", experiment_id)
            ensemble = {"error": f"{type(error).__name__}: {error}"}
    with transaction.atomic():
        experiment = locked(experiment_id)
        if experiment.status != Status.RUNNING or experiment.candidates.filter(status__in=Candidate.IN_FLIGHT).exists():
            return
        best = engine.best
        pareto_ids = [c["id"] for c in engine.pareto()]
        event = RunFinished(best["id"] if best else None, best["accuracy"] if best else None, len(engine.trained),
                            sum(1 for c in engine.candidates if c["status"] != "evaluated"), pareto_ids, ensemble)
        # A search that stopped proposing before its budget was spent did not finish: it gave up, and says why.
        outcome = give_up_reason(engine.candidates, engine.config.latency_budget_ms) if engine.gave_up else ""
        experiment.summary = {"pareto_ids": pareto_ids, "ensemble": ensemble, "gave_up": engine.gave_up,
                              "best_id": event.best_id, "best_accuracy": event.best_accuracy}
        experiment.outcome = outcome
        experiment.save(update_fields=["summary", "outcome"])
        payload = event.to_dict()
        payload.pop("type")
        payload.update(gave_up=engine.gave_up, outcome=outcome)
        record_event(experiment, "run_finished", payload)
        if engine.gave_up:
            set_status(experiment, Status.GAVE_UP, outcome=outcome)
        else:
            set_status(experiment, Status.FINISHED)


def recover() -> list[int]:
    """At a worker's start: every running or stopping search is advanced (its last advance may be lost with
    the broker; a stopping one settles). Its candidates are the job runtime's to recover (webapp.jobs.recovery:
    a dead worker's run again, the proposed ones sent again). Returns the searches' ids."""
    ids = list(Experiment.objects.filter(status__in=[Status.RUNNING, Status.STOPPING]).values_list("pk", flat=True))
    for experiment_id in ids:
        with transaction.atomic():
            queue_advance(experiment_id)
    return ids


def wait_for(predicate, timeout: float, interval: float = 0.2) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass (used by scripts and tests)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
