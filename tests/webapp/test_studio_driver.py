"""The search driver in one process: what the Celery tasks call, run inline in order.

Queued task calls are captured instead of sent, so each test decides when a "worker"
runs them; the database is a real file database and commits happen as in production.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def drain(queue, worker="w1@test:1", limit=60):
    """Run queued tasks inline (as one worker would) until none is left."""
    from webapp.studio import services

    ran = []
    while queue and limit:
        limit -= 1
        name, args = queue.pop(0)
        if name == "studio.advance_experiment":
            services.advance(args[0], requeue=args[1] if len(args) > 1 else False)
        elif name == "studio.evaluate_candidate":
            ran.append(services.run_candidate(args[0], worker))
        elif name == "studio.watchdog":
            continue  # delayed checks: not needed when nothing dies
    return ran


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
    from webapp.studio import services

    experiment = launch(rounds=0)
    drain([queue.pop(0)])  # the first advance: proposes two candidates
    first = experiment.candidates.order_by("index").first()
    assert services.run_candidate(first.pk, "w1@test:1") == "evaluated"
    assert services.run_candidate(first.pk, "w2@test:2") == "skipped"  # redelivered after it finished
    first.refresh_from_db()
    assert first.attempt == 1 and first.completion_order == 1


def test_stop_interrupts_training_and_resume_trains_it_again(launch, queue):
    from webapp.studio import services

    experiment = launch()
    drain([queue.pop(0)])
    candidate = experiment.candidates.order_by("index").first()
    job = services.claim(candidate.pk, "w1@test:1")
    assert job is not None
    services.stop_experiment(experiment.pk)
    experiment.refresh_from_db()
    assert experiment.status == "stopping"  # a candidate is still training
    watch = services.Watch(job)
    watch.check()  # what the heartbeat thread does every few seconds
    assert watch.reason == "experiment stopping"
    with pytest.raises(services.Interrupted):
        watch.on_step(1, 1, 0.5, 0.1)
    services.interrupt(job, watch.reason)
    experiment.refresh_from_db()
    candidate.refresh_from_db()
    assert experiment.status == "stopped" and candidate.status == "proposed"
    queue.clear()
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


def test_a_silent_worker_loses_its_candidate_to_another(launch, queue, settings):
    from django.utils import timezone

    from webapp.studio import services
    from webapp.studio.models import Candidate

    experiment = launch(rounds=0)
    drain([queue.pop(0)])
    queue.clear()
    candidate = experiment.candidates.order_by("index").first()
    job = services.claim(candidate.pk, "dead@test:9")
    # A duplicate delivered while the first worker is alive is skipped...
    assert services.run_candidate(candidate.pk, "w2@test:2") == "skipped"
    # ...but once it stops reporting, its candidate goes back to the queue.
    Candidate.objects.filter(pk=candidate.pk).update(heartbeat=timezone.now() - timedelta(seconds=settings.STUDIO_HEARTBEAT_TIMEOUT + 1))
    queue.clear()
    services.watchdog(experiment.pk)
    assert ("studio.evaluate_candidate", (candidate.pk,)) in queue
    drain(queue, worker="w2@test:2")
    candidate.refresh_from_db()
    assert candidate.status == "evaluated" and candidate.claimed_by == "" and candidate.attempt == 2
    # The dead worker's late result is discarded, not recorded twice.
    assert services.record_result(job, {"status": "evaluated", "accuracy": 1.0, "params": 1}) is False
    second = experiment.candidates.get(index=1)
    assert services.run_candidate(second.pk, "w2@test:2") == "evaluated"
    experiment.refresh_from_db()
    assert experiment.status == "finished"
    assert experiment.candidates.filter(status="evaluated").count() == 2


def test_recover_after_restart_requeues_the_dead_workers_candidates(launch, queue):
    from webapp.studio import services

    experiment = launch(rounds=0)
    drain([queue.pop(0)])
    queue.clear()
    first, second = experiment.candidates.order_by("index")
    services.claim(first.pk, "w1@host:100")
    assert services.recover("w1@host") == [experiment.pk]
    first.refresh_from_db()
    assert first.status == "proposed"
    assert queue == [("studio.advance_experiment", (experiment.pk, True))]
    drain(queue)
    experiment.refresh_from_db()
    assert experiment.status == "finished"
    assert sorted(experiment.candidates.values_list("index", "status")) == [(0, "evaluated"), (1, "evaluated")]


def test_repeated_errors_fail_the_search_and_resume_continues_it(launch, queue, monkeypatch):
    import archsearch.evaluate

    from webapp.studio import services

    real = archsearch.evaluate.evaluate_candidate

    def broken(*args, **kwargs):
        raise RuntimeError("CUDA error: out of memory")

    monkeypatch.setattr(archsearch.evaluate, "evaluate_candidate", broken)
    experiment = launch(rounds=0)
    outcomes = drain(queue)
    experiment.refresh_from_db()
    assert outcomes.count("failed") == services.FAILURES_IN_A_ROW and outcomes.count("evaluated") == 0
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
    from django.utils import timezone

    from webapp.studio import services
    from webapp.studio.models import Candidate

    experiment = launch(rounds=0)
    drain([queue.pop(0)])
    candidate = experiment.candidates.order_by("index").first()
    services.claim(candidate.pk, "dead@test:9")
    queue.clear()
    services.stop_experiment(experiment.pk)
    services.watchdog(experiment.pk)  # the worker is only late: still stopping, checked again later
    experiment.refresh_from_db()
    assert experiment.status == "stopping"
    assert [name for name, _ in queue] == ["studio.watchdog"]
    Candidate.objects.filter(pk=candidate.pk).update(heartbeat=timezone.now() - timedelta(seconds=settings.STUDIO_HEARTBEAT_TIMEOUT + 1))
    services.watchdog(experiment.pk)
    experiment.refresh_from_db()
    candidate.refresh_from_db()
    assert experiment.status == "stopped" and candidate.status == "proposed"


def test_two_experiments_run_at_once_without_mixing(launch, queue):
    first, second = launch(rounds=0, seed=1), launch(rounds=0, seed=2, parallelism=1)
    drain(queue)
    for experiment in (first, second):
        experiment.refresh_from_db()
        assert experiment.status == "finished"
        assert sorted(experiment.candidates.values_list("name", flat=True)) == ["c0000", "c0001"]
        assert list(experiment.events.values_list("seq", flat=True)) == list(range(1, experiment.last_seq + 1))
    assert first.candidates.get(index=0).spec != second.candidates.get(index=0).spec  # their own seeds
