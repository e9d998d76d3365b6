"""The search driver in one process: what the Celery tasks call, run inline in order.

Queued task calls are captured instead of sent, so each test decides when a "worker"
runs them; the database is a real file database and commits happen as in production.
A candidate's evaluation is a job of webapp.jobs ("jobs.run", ("candidate", id)): claims,
heartbeats, the watchdog and recovery are the runtime's, called here as a worker would.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def drain(queue, worker="w1@test:1", limit=60):
    """Run queued tasks inline (as one worker would) until none is left. A candidate's run gives its status
    once recorded, else what the runtime did (skipped, interrupted, discarded)."""
    from webapp.jobs.runner import run_job
    from webapp.studio import services
    from webapp.studio.models import Candidate

    ran = []
    while queue and limit:
        limit -= 1
        name, args = queue.pop(0)
        if name == "studio.advance_experiment":
            services.advance(args[0], requeue=args[1] if len(args) > 1 else False)
        elif name == "jobs.run":
            outcome = run_job(*args, worker=worker)
            ran.append(Candidate.objects.get(pk=args[1]).status if outcome == "recorded" else outcome)
        # jobs.watchdog: delayed checks, not needed when nothing dies
    return ran


def run(candidate, worker="w1@test:1"):
    """One delivery of the candidate's job to ``worker``."""
    return drain([("jobs.run", ("candidate", candidate.pk))], worker)[0]


def test_a_search_runs_to_the_end_with_contiguous_events(launch, queue):
    from webapp.studio.models import Candidate

    experiment = launch()
    outcomes = drain(queue)
    experiment.refresh_from_db()
    assert experiment.status == "finished", experiment.error
    assert outcomes.count("evaluated") == 4
    candidates = list(experiment.candidates.order_by("index"))
    assert [c.index for c in candidates] == list(range(len(candidates)))
    assert sum(c.status == Candidate.Status.EVALUATED for c in candidates) == 4
    assert all(c.accuracy is not None and c.latency_ms > 0 and c.spec["nodes"] for c in candidates)
    assert any(c.parent is not None and c.mutation for c in candidates)  # later candidates mutate a parent
    events = list(experiment.events.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1)) and experiment.last_seq == len(events)
    kinds = [e.type for e in events]
    for kind in ("candidate_sampled", "candidate_started", "candidate_evaluated", "new_best", "generation_finished", "run_finished"):
        assert kind in kinds
    assert kinds[-1] == "status" and events[-1].payload["status"] == "finished"
    assert events[-1].payload["progress"]["evaluated"] == 4 and events[-1].payload["progress"]["eta_seconds"] == 0
    assert [e.payload["generation"] for e in events if e.type == "generation_finished"] == [0, 1]
    assert experiment.best_candidate.accuracy == max(c.accuracy for c in candidates)
    assert experiment.summary["best_id"] == experiment.best_candidate.name


def test_a_duplicated_task_does_nothing(launch, queue):
    experiment = launch(rounds=0)
    drain([queue.pop(0)])  # the first advance: proposes two candidates
    first = experiment.candidates.order_by("index").first()
    assert run(first) == "evaluated"
    assert run(first, "w2@test:2") == "skipped"  # redelivered after it finished
    first.refresh_from_db()
    assert first.attempt == 1 and first.completion_order == 1


def interrupted_by_the_heartbeat(candidate, taken) -> str:
    """What the runtime's heartbeat thread does at a beat, and what training then does at its next step."""
    from webapp.jobs.heartbeat import Heartbeat
    from webapp.jobs.reporting import Interrupted, Reporter
    from webapp.studio.candidate_job import CANDIDATE, TrainingSteps

    reporter = Reporter()
    Heartbeat(CANDIDATE, candidate, taken, reporter).beat()
    with pytest.raises(Interrupted) as stopped:
        TrainingSteps(reporter).on_step(1, 1, 0.5, 0.1)
    return str(stopped.value)


def test_stop_interrupts_training_and_resume_trains_it_again(launch, queue):
    from webapp.jobs.claims import claim, release
    from webapp.studio import services
    from webapp.studio.candidate_job import CANDIDATE

    experiment = launch()
    drain([queue.pop(0)])
    candidate = experiment.candidates.order_by("index").first()
    taken = claim(CANDIDATE, candidate.pk, "w1@test:1")
    assert taken is not None
    services.stop_experiment(experiment.pk)
    experiment.refresh_from_db()
    assert experiment.status == "stopping"  # a candidate is still training
    assert claim(CANDIDATE, experiment.candidates.get(index=1).pk, "w2@test:2") is None  # none starts while it stops
    why = interrupted_by_the_heartbeat(candidate, taken)
    assert why == "experiment stopping"
    queue.clear()
    assert release(CANDIDATE, taken, why)
    experiment.refresh_from_db()
    candidate.refresh_from_db()
    assert experiment.status == "stopped" and candidate.status == "proposed"
    assert not [args for name, args in queue if name == "jobs.run"]  # it waits for the resume
    services.resume_experiment(experiment.pk)
    drain(queue)
    experiment.refresh_from_db()
    assert experiment.status == "finished"
    candidate.refresh_from_db()
    assert candidate.status == "evaluated" and candidate.attempt == 2
    assert experiment.candidates.filter(status="evaluated").count() == 4
    types = list(experiment.events.values_list("type", flat=True))
    assert "candidate_interrupted" in types


def test_cancel_fails_waiting_candidates_and_ends_the_search(launch, queue):
    from webapp.studio import services

    experiment = launch()
    drain([queue.pop(0)])
    services.cancel_experiment(experiment.pk)
    assert drain(queue) == ["skipped", "skipped"]
    experiment.refresh_from_db()
    assert experiment.status == "cancelled" and experiment.finished_at is not None
    assert set(experiment.candidates.values_list("status", flat=True)) == {"failed"}


def test_cancel_fails_the_candidate_in_training_at_its_next_beat(launch, queue):
    from webapp.jobs.claims import claim, record, release
    from webapp.studio import services
    from webapp.studio.candidate_job import CANDIDATE

    experiment = launch()
    drain([queue.pop(0)])
    candidate = experiment.candidates.order_by("index").first()
    taken = claim(CANDIDATE, candidate.pk, "w1@test:1")
    services.cancel_experiment(experiment.pk)
    why = interrupted_by_the_heartbeat(candidate, taken)
    assert why == "experiment cancelled"
    queue.clear()
    assert release(CANDIDATE, taken, why)
    candidate.refresh_from_db()
    assert (candidate.status, candidate.reason, candidate.claimed_by) == ("failed", "cancelled", "")
    assert not [args for name, args in queue if name == "jobs.run"]
    assert record(CANDIDATE, taken, {"status": "evaluated", "accuracy": 1.0}) is False  # a late result changes nothing
    interrupted = experiment.events.get(type="candidate_interrupted")
    assert interrupted.payload["status"] == "failed" and interrupted.payload["reason"] == "experiment cancelled"


def stale(candidate, settings):
    from django.utils import timezone

    type(candidate).objects.filter(pk=candidate.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.STUDIO_HEARTBEAT_TIMEOUT + 1))


def test_a_silent_worker_loses_its_candidate_to_another(launch, queue, settings):
    from webapp.jobs.claims import claim, record
    from webapp.jobs.recovery import watchdog
    from webapp.studio.candidate_job import CANDIDATE

    experiment = launch(rounds=0)
    drain([queue.pop(0)])
    queue.clear()
    candidate = experiment.candidates.order_by("index").first()
    taken = claim(CANDIDATE, candidate.pk, "dead@test:9")
    # A duplicate delivered while the first worker is alive is skipped...
    assert run(candidate, "w2@test:2") == "skipped"
    # ...but once it stops reporting, the runtime's watchdog gives its candidate to another worker.
    stale(candidate, settings)
    queue.clear()
    assert watchdog("candidate", candidate.pk) == "requeued"
    assert ("jobs.run", ("candidate", candidate.pk)) in queue
    drain(queue, worker="w2@test:2")
    candidate.refresh_from_db()
    assert candidate.status == "evaluated" and candidate.claimed_by == "" and candidate.attempt == 2
    # The dead worker's late result is discarded, not recorded twice.
    assert record(CANDIDATE, taken, {"status": "evaluated", "accuracy": 1.0, "params": 1}) is False
    assert experiment.events.filter(type="candidate_evaluated", payload__candidate=candidate.pk).count() == 1
    second = experiment.candidates.get(index=1)
    assert run(second, "w2@test:2") == "evaluated"
    experiment.refresh_from_db()
    assert experiment.status == "finished"
    assert experiment.candidates.filter(status="evaluated").count() == 2


def test_recover_after_restart_requeues_the_dead_workers_candidates(launch, queue):
    from webapp.jobs.claims import claim
    from webapp.jobs.recovery import recover_at_start
    from webapp.studio import services
    from webapp.studio.candidate_job import CANDIDATE

    experiment = launch(rounds=0)
    drain([queue.pop(0)])
    first, second = experiment.candidates.order_by("index")
    claim(CANDIDATE, first.pk, "w1@host:100")
    queue.clear()
    # What a restarted worker w1 does when it is ready: the runtime recovers every kind's jobs, then the searches advance.
    assert recover_at_start("w1@host")["candidate"] == [first.pk, second.pk]
    assert services.recover() == [experiment.pk]
    first.refresh_from_db()
    assert first.status == "proposed" and first.attempt == 1 and "w1@host stopped" in first.reason
    assert sorted(queue) == sorted([("jobs.run", ("candidate", first.pk)), ("jobs.run", ("candidate", second.pk)),
                                    ("studio.advance_experiment", (experiment.pk, False))])
    drain(queue)
    experiment.refresh_from_db()
    assert experiment.status == "finished"
    assert sorted(experiment.candidates.values_list("index", "status")) == [(0, "evaluated"), (1, "evaluated")]


def test_repeated_errors_fail_the_search_and_resume_continues_it(launch, queue, monkeypatch):
    import archsearch.evaluate

    from webapp.studio import services
    from webapp.studio.candidate_job import FAILURES_IN_A_ROW

    real = archsearch.evaluate.evaluate_candidate

    def broken(*args, **kwargs):
        raise RuntimeError("CUDA error: out of memory")

    monkeypatch.setattr(archsearch.evaluate, "evaluate_candidate", broken)
    experiment = launch(rounds=0)
    outcomes = drain(queue)
    experiment.refresh_from_db()
    assert outcomes.count("failed") == FAILURES_IN_A_ROW and outcomes.count("evaluated") == 0
    assert experiment.status == "failed"
    assert "3 candidates in a row failed" in experiment.error and "out of memory" in experiment.error
    assert experiment.candidates.get(index=0).reason == "RuntimeError: CUDA error: out of memory"
    monkeypatch.setattr(archsearch.evaluate, "evaluate_candidate", real)
    queue.clear()
    services.resume_experiment(experiment.pk)
    drain(queue)
    experiment.refresh_from_db()
    assert experiment.status == "finished" and experiment.error == ""
    assert experiment.candidates.filter(status="evaluated").count() == 2


def test_stopping_with_a_dead_worker_still_ends_stopped(launch, queue, settings):
    from webapp.jobs.claims import claim
    from webapp.jobs.recovery import watchdog
    from webapp.studio import services
    from webapp.studio.candidate_job import CANDIDATE

    experiment = launch(rounds=0)
    drain([queue.pop(0)])
    candidate = experiment.candidates.order_by("index").first()
    claim(CANDIDATE, candidate.pk, "dead@test:9")
    queue.clear()
    services.stop_experiment(experiment.pk)
    assert watchdog("candidate", candidate.pk) == "alive"  # the worker is only late: still stopping, checked again later
    experiment.refresh_from_db()
    assert experiment.status == "stopping"
    assert queue == [("jobs.watchdog", ("candidate", candidate.pk))]
    stale(candidate, settings)
    assert watchdog("candidate", candidate.pk) == "requeued"
    experiment.refresh_from_db()
    candidate.refresh_from_db()
    assert experiment.status == "stopped" and candidate.status == "proposed" and candidate.attempt == 1
    assert not [args for name, args in queue if name == "jobs.run"]  # it trains again on resume, not now


def test_two_experiments_run_at_once_without_mixing(launch, queue):
    first, second = launch(rounds=0, seed=1), launch(rounds=0, seed=2, parallelism=1)
    drain(queue)
    for experiment in (first, second):
        experiment.refresh_from_db()
        assert experiment.status == "finished"
        assert sorted(experiment.candidates.values_list("name", flat=True)) == ["c0000", "c0001"]
        assert list(experiment.events.values_list("seq", flat=True)) == list(range(1, experiment.last_seq + 1))
    assert first.candidates.get(index=0).spec != second.candidates.get(index=0).spec  # their own seeds
