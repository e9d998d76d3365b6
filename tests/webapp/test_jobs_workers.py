"""Every kind of job survives a killed worker, with real services: a private Redis, real Celery worker
processes (solo pool), the test database in a file. The worker is SIGKILLed while the job runs,
another starts: the job is redone once (attempt 2) and recorded once.

What "surely running" means differs by kind: an evaluation has reported training steps, a search's
candidate says it is training, an export's
child process has reported a stage, an ensemble has started scoring a member, a dataset's preparation
is decoding its videos (both slowed for the test by slow_jobs_app, or they would be over before anyone
could kill them)."""
from __future__ import annotations

from pathlib import Path

import pytest
from waiting import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.timeout(600)]

TESTS = Path(__file__).resolve().parent


def evaluation_job(w):
    from webapp.architectures import jobs

    evaluation = jobs.create_evaluation(user=w["alice"], version=w["v1"], dataset=w["dataset"], steps=60, batch_size=8)
    return evaluation, lambda row: row.step > 0, "evaluated"


def ensemble_job(w):
    from webapp.review import ensembles
    from webapp.studio.models import Candidate

    twin = Candidate.objects.get(pk=w["child"].pk)
    twin.pk, twin.index, twin.name = None, 7, "c0007"
    twin.save()
    ensemble = ensembles.create_ensemble(user=w["bob"], candidate_ids=[w["child"].pk, twin.pk])
    return ensemble, lambda row: row.stage.startswith("member"), "evaluated"


def export_job(w):
    from webapp.review.export_jobs import create_export
    from webapp.review.services import subject_for_candidate

    export, _ = create_export(subject_for_candidate(w["child"]), w["dave"])
    return export, lambda row: row.stage not in ("", "starting", "queued"), "ready"


def dataset_preparation_job(w):
    from webapp.studio import services

    dataset = services.register_dataset(team=w["a"], user=w["alice"], name="to prepare", kind="synthetic", clips_per_class=4,
                                        classes=["move_left", "move_right"], frames=4, size=16)
    return dataset.preparations.get(), lambda row: row.stage == "decoding videos", "ready"


def candidate_job(w):
    from archsearch.config import SearchConfig
    from webapp.studio import services

    # Two candidates, one at a time: the first is the one killed; the second is proposed once it is recorded.
    experiment = services.create_experiment(team=w["a"], user=w["alice"], name="to search", dataset=w["dataset"], parallelism=1,
                                            config=SearchConfig(family="tvn", population=2, rounds=0, low_steps=60, high_steps=0,
                                                                batch_size=8, num_threads=1, latency_runs=2))
    services.advance(experiment.pk)  # proposes the first here (the worker's own advance then finds it in flight)
    return experiment.candidates.get(index=0), lambda row: row.stage == "training", "evaluated"


# How many jobs the worker's log shows recorded in all: a search records its second candidate too.
RECORDED = {"candidate": 2}
KINDS = {"evaluation": evaluation_job, "candidate": candidate_job, "ensemble": ensemble_job, "export": export_job,
         "dataset-preparation": dataset_preparation_job}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_worker_killed_mid_job_redoes_it_once_and_records_it_once(kind, trained, redis_server, studio_data_dir, processes):
    from webapp.jobs.kinds import kind_named

    def worker():
        return processes.worker("w1", redis_server.url, studio_data_dir, app="slow_jobs_app", PYTHONPATH=str(TESTS))

    first = worker()
    job, underway, finished = KINDS[kind](trained)
    rows = type(job).objects.filter(pk=job.pk)
    wait_until(lambda: rows.filter(status="running", attempt=1).exists() and underway(rows.get()), 240,
               f"the {kind} under way", [first])
    first.kill()
    assert rows.get().status == "running"  # killed mid-job: nothing recorded, the claim is the dead worker's
    again = worker()
    unfinished = (kind_named(kind).queued, "running")  # a candidate waits as "proposed"
    wait_until(lambda: rows.get().status not in unfinished, 300, f"the {kind} to finish", [again])
    row = rows.get()
    assert (row.status, row.attempt, row.claimed_by) == (finished, 2, ""), (row.reason, again.output()[-3000:])
    # One result recorded in all (both runs of w1 write the same log), none discarded. The task logs what
    # it returned just after the row commits: wait for that line.
    recorded = RECORDED.get(kind, 1)
    wait_until(lambda: again.output().count("'recorded'") >= recorded, 300, "the task's result in the log", [again])
    log = again.output()
    assert log.count("'recorded'") == recorded and "'discarded'" not in log
    if kind == "candidate":  # added to its search once: one place in the history, one evaluated event
        events = row.experiment.events.filter(payload__candidate=row.pk)
        assert row.completion_order == 1 and events.filter(type="candidate_evaluated").count() == 1
        assert events.filter(type="candidate_interrupted").count() == 1 and events.filter(type="candidate_started").count() == 2
    if kind == "dataset-preparation":  # the dataset follows its job, and its cache is whole
        dataset = row.dataset
        assert dataset.status == "ready" and dataset.report["num_prepared"] == 8, dataset.error
