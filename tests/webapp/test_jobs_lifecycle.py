"""The job runtime's life cycle, without a worker: a kind made for the test over the evaluations'
table (its ``run`` does what each test says, instantly) and the runtime's own functions.

claim twice -> the second is refused; record twice -> once; a lost claim can neither beat, hand
back nor record; the watchdog leaves a live job alone, queues a silent one again, and fails it the
second time; a restarted worker gets its own jobs back; a job that raises fails with the reason;
a worker shutting down hands its job back."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from videomodels.presets import get_preset
from webapp.jobs.kinds import JobKind

pytestmark = pytest.mark.django_db


class Scripted(JobKind):
    """A kind whose run does what the test put in ``script`` (a function of the job and the reporter); the
    hooks it leaves out are JobKind's."""

    name = "scripted"
    queue = "train"
    max_attempts = 2

    def __init__(self):
        from webapp.architectures.evaluations import Evaluation

        self.model = Evaluation
        self.script = lambda job, reporter: {"status": "evaluated", "accuracy": 0.5}
        self.changes, self.cleaned = [], []

    def run(self, job, reporter):
        return self.script(job, reporter)

    def record(self, job, result):
        job.status = "evaluated" if result["status"] == "evaluated" else "failed"
        job.accuracy = result.get("accuracy")
        job.reason = result.get("reason", "")

    def shown(self, job):
        from webapp.jobs.kinds import Shown

        return Shown(f"scripted {job.pk}", "/", None)

    def claimed(self, job):
        pass

    def changed(self, job):
        self.changes.append(job.status)

    def clean_up(self, job, attempt):
        self.cleaned.append(attempt)


@pytest.fixture
def kind(monkeypatch):
    from webapp.jobs import kinds

    scripted = Scripted()
    monkeypatch.setitem(kinds._kinds, scripted.name, scripted)
    return scripted


@pytest.fixture
def sent(monkeypatch):
    """What would have gone to the broker, in order: ("jobs.run" | "jobs.watchdog", args)."""
    from webapp.jobs import queueing

    messages = []
    monkeypatch.setattr(queueing.app, "send_task", lambda name, args, **options: messages.append((name, args)))
    return messages


@pytest.fixture
def job(teams, ready_dataset):
    from webapp.architectures import services
    from webapp.architectures.evaluations import Evaluation

    version = services.create_architecture(user=teams["bob"], team=teams["a"], name="mine", spec=get_preset("tvn-small").to_dict())
    return Evaluation.objects.create(version=version, dataset=ready_dataset, steps=3, batch_size=4, spec=version.spec)


def fresh(job):
    return type(job).objects.get(pk=job.pk)


def stale(job, settings):
    type(job).objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.STUDIO_HEARTBEAT_TIMEOUT + 1))


def test_claim_twice_the_second_is_refused(kind, job, sent, django_capture_on_commit_callbacks):
    from webapp.jobs.claims import claim

    with django_capture_on_commit_callbacks(execute=True):
        first = claim(kind, job.pk, "w1@host:1")
    assert first is not None and first.attempt == 1
    assert claim(kind, job.pk, "w2@host:2") is None
    assert claim(kind, job.pk, "w1@host:1") is None  # not even by its own holder: one run per claim
    row = fresh(job)
    assert (row.status, row.claimed_by, row.attempt, row.stage) == ("running", "w1@host:1", 1, "starting")
    assert row.heartbeat_at is not None and row.started_at is not None
    assert sent == [("jobs.watchdog", ["scripted", job.pk])]


def test_record_twice_records_once(kind, job, sent):
    from webapp.jobs.claims import claim, record

    taken = claim(kind, job.pk, "w1@host:1")
    assert record(kind, taken, {"status": "evaluated", "accuracy": 0.75}, {"step": 3, "losses": [[3, 0.1]]})
    assert not record(kind, taken, {"status": "evaluated", "accuracy": 0.25})  # a redelivered duplicate
    row = fresh(job)
    assert (row.status, row.accuracy, row.claimed_by, row.step, row.losses) == ("evaluated", 0.75, "", 3, [[3, 0.1]])
    assert row.finished_at is not None and kind.changes[-1] == "evaluated"


def test_a_lost_claim_can_neither_beat_nor_hand_back_nor_record(kind, job, sent, settings):
    from webapp.jobs.claims import beat, claim, record, release
    from webapp.jobs.recovery import watchdog

    old = claim(kind, job.pk, "w1@host:1")
    stale(job, settings)
    assert watchdog(kind.name, job.pk) == "requeued"
    new = claim(kind, job.pk, "w2@host:2")
    assert new.attempt == 2
    assert not beat(kind, old, {"step": 9}) and not release(kind, old, "late") and not record(kind, old, {"status": "evaluated"})
    assert beat(kind, new, {"step": 1})
    row = fresh(job)
    assert (row.status, row.claimed_by, row.step) == ("running", "w2@host:2", 1)


def test_watchdog_leaves_a_live_job_requeues_a_silent_one_then_fails_it(kind, job, sent, settings,
                                                                       django_capture_on_commit_callbacks):
    from webapp.jobs.claims import claim
    from webapp.jobs.recovery import watchdog

    assert watchdog(kind.name, job.pk) == "done"  # queued: not the watchdog's business
    claim(kind, job.pk, "w1@host:1")
    with django_capture_on_commit_callbacks(execute=True):
        assert watchdog(kind.name, job.pk) == "alive"
    assert sent[-1] == ("jobs.watchdog", ["scripted", job.pk])  # checked again later
    stale(job, settings)
    with django_capture_on_commit_callbacks(execute=True):
        assert watchdog(kind.name, job.pk) == "requeued"
    assert sent[-1] == ("jobs.run", ["scripted", job.pk])
    row = fresh(job)
    assert (row.status, row.claimed_by) == ("queued", "") and "w1@host stopped reporting; run again" in row.reason
    claim(kind, job.pk, "w2@host:2")
    stale(job, settings)
    assert watchdog(kind.name, job.pk) == "failed"  # the second time: given up, with the reason
    row = fresh(job)
    assert (row.status, row.claimed_by, row.attempt) == ("failed", "", 2)
    assert row.reason == "its worker w2@host stopped reporting; tried 2 times, not run again"
    assert watchdog(kind.name, job.pk) == "done"


def test_a_restarted_worker_gets_its_own_jobs_back_and_leaves_others(kind, job, sent, teams, ready_dataset,
                                                                     django_capture_on_commit_callbacks):
    from webapp.architectures.evaluations import Evaluation
    from webapp.jobs.claims import claim
    from webapp.jobs.recovery import recover_kind

    other = Evaluation.objects.create(version=job.version, dataset=ready_dataset, steps=3, batch_size=4, spec=job.spec)
    waiting = Evaluation.objects.create(version=job.version, dataset=ready_dataset, steps=3, batch_size=4, spec=job.spec)
    claim(kind, job.pk, "w1@host:1")
    claim(kind, other.pk, "w2@host:7")  # another worker, alive
    with django_capture_on_commit_callbacks(execute=True):
        assert sorted(recover_kind(kind, "w1@host")) == sorted([job.pk, waiting.pk])
    assert (fresh(job).status, fresh(job).reason) == ("queued", "worker w1@host stopped; run again")
    assert fresh(other).status == "running"
    assert sorted(args[1] for name, args in sent if name == "jobs.run") == sorted([job.pk, waiting.pk])  # once each


def test_run_job_records_a_result_a_failure_and_hands_back_on_shutdown(kind, job, sent, ready_dataset):
    from webapp.architectures.evaluations import Evaluation
    from webapp.jobs.reporting import worker_shutting_down
    from webapp.jobs.runner import run_job

    def report_then_finish(row, reporter):
        reporter.append("losses", [1, 0.5])
        reporter.report(step=1)
        reporter.check()
        return {"status": "evaluated", "accuracy": 0.9}

    kind.script = report_then_finish
    assert run_job(kind.name, job.pk, "w1@host:1") == "recorded"
    row = fresh(job)
    assert (row.status, row.accuracy, row.step, row.losses, row.attempt) == ("evaluated", 0.9, 1, [[1, 0.5]], 1)
    assert run_job(kind.name, job.pk, "w1@host:1") == "skipped"  # a second delivery of a finished job
    assert kind.cleaned == [1]

    broken = Evaluation.objects.create(version=job.version, dataset=ready_dataset, steps=3, batch_size=4, spec=job.spec)
    kind.script = lambda row, reporter: {}["no such thing"]
    assert run_job(kind.name, broken.pk, "w1@host:1") == "recorded"
    assert (fresh(broken).status, fresh(broken).reason) == ("failed", "KeyError: 'no such thing'")

    stopping = Evaluation.objects.create(version=job.version, dataset=ready_dataset, steps=3, batch_size=4, spec=job.spec)
    kind.script = report_then_finish
    worker_shutting_down.set()
    try:
        assert run_job(kind.name, stopping.pk, "w1@host:1") == "interrupted"
    finally:
        worker_shutting_down.clear()
    row = fresh(stopping)
    assert (row.status, row.claimed_by, row.reason, row.attempt) == ("queued", "", "worker shutting down", 1)


def test_a_kind_that_says_stop_is_neither_claimed_nor_left_running_and_may_keep_a_handed_back_job(
        kind, job, sent, django_capture_on_commit_callbacks):
    """The per-kind hooks: ``should_stop`` refuses a claim and interrupts a run at the next beat; ``released``
    keeps a handed-back job from being sent again (a stopped search's candidate waits for its resume)."""
    from webapp.jobs.claims import claim, release
    from webapp.jobs.heartbeat import Heartbeat
    from webapp.jobs.reporting import Interrupted, Reporter

    kind.should_stop = lambda row: "its owner paused it"
    assert claim(kind, job.pk, "w1@host:1") is None and fresh(job).status == "queued"
    kind.should_stop = lambda row: None
    taken = claim(kind, job.pk, "w1@host:1")
    reporter = Reporter()
    Heartbeat(kind, job, taken, reporter).beat()
    reporter.check()  # nothing said yet: the run goes on
    kind.should_stop = lambda row: "its owner paused it"
    Heartbeat(kind, job, taken, reporter).beat()
    with pytest.raises(Interrupted, match="its owner paused it"):
        reporter.check()
    kind.released = lambda row, why: False
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert release(kind, taken, "its owner paused it")
    row = fresh(job)
    assert (row.status, row.claimed_by, row.reason) == ("queued", "", "its owner paused it")
    assert sent == []
    del kind.released, kind.should_stop  # JobKind's again: a handed-back job is sent at once
    again = claim(kind, job.pk, "w2@host:2")
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert release(kind, again, "worker shutting down")
    assert sent == [("jobs.run", ["scripted", job.pk])]


def test_kinds_are_found_by_name_and_a_second_kind_cannot_take_a_name(kind):
    from webapp.jobs.kinds import kind_named, register, registered_kinds

    assert {k.name for k in registered_kinds()} >= {"evaluation", "ensemble", "export", "scripted"}
    assert kind_named("scripted") is kind
    with pytest.raises(ValueError):
        register(type("Other", (Scripted,), {})())
    with pytest.raises(LookupError):
        kind_named("nothing")
