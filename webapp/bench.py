"""Studio benchmark: `python -m webapp.bench` prints a Markdown section (`--json`: the numbers).

Everything runs on this machine against real services started here: a private Redis, a
SQLite database in a temporary folder, Daphne, and Celery workers (solo pool).

1. Event latency, publish -> receipt: events are stored and published the way a worker does
   (progress.record_event, published on commit) and received by a WebSocket client through
   Daphne; p50/p95 over the events, with 1 viewer and with 200 concurrent viewers.
2. 200 concurrent viewers of one experiment: every viewer must receive every event once
   (lost and duplicated events are counted).
3. Search throughput: candidates per hour of a tiny TVN search with one worker, then two
   workers (parallelism 2).

``run()`` runs the same in a subprocess (a fresh Django) and returns the numbers as a dict
with the Markdown under "markdown".
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLASSES = ("move_left", "move_right", "rotate_cw", "zoom_in")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


class Bench:
    def __init__(self, work: Path, redis_url: str, port: int):
        self.work, self.redis_url, self.port = work, redis_url, port
        self.children: list[subprocess.Popen] = []

    # -- processes ------------------------------------------------------------------
    def env(self) -> dict:
        return dict(os.environ, DATABASE_URL=os.environ["DATABASE_URL"], REDIS_URL=self.redis_url,
                    STUDIO_VAR_DIR=str(self.work / "var"), STUDIO_DATA_DIR=str(self.work / "data"), PYTHONUNBUFFERED="1",
                    DJANGO_SETTINGS_MODULE="webapp.settings")

    def spawn(self, name: str, args: list[str], ready: str, timeout: float = 90) -> subprocess.Popen:
        log = self.work / f"{name}.log"
        proc = subprocess.Popen(args, cwd=ROOT, env=self.env(), stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.children.append(proc)
        deadline = time.monotonic() + timeout
        while ready not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.1)
        return proc

    def stop(self, proc: subprocess.Popen) -> None:
        import signal

        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def close(self) -> None:
        for proc in self.children:
            self.stop(proc)

    # -- fixtures ---------------------------------------------------------------------
    def setup(self) -> None:
        from django.contrib.auth.models import User
        from django.test import Client

        from videomodels.data import prepare_cache, synthesize
        from webapp.studio.models import Dataset
        from webapp.teams.models import Membership, Team

        self.user = User.objects.create_user("bench", password="bench")
        self.team = Team.objects.create(name="bench")
        Membership.objects.create(user=self.user, team=self.team, role=Membership.Role.OWNER)
        client = Client()
        client.force_login(self.user)
        self.cookie = f"sessionid={client.cookies['sessionid'].value}"
        data = self.work / "data" / "motion"
        synthesize(data / "videos", clips_per_class=6, seed=0, frames=16, size=48, classes=CLASSES)
        report = prepare_cache(data / "videos", data / "cache", frames=8, size=32, flow=False, progress=False)
        self.dataset = Dataset.objects.create(
            team=self.team, name="motion", kind=Dataset.Kind.SYNTHETIC, status=Dataset.Status.READY, frames=8, size=32,
            cache_path=str(report.cache_dir), num_classes=len(report.class_names), class_names=list(report.class_names),
            report=report.to_dict())

    def experiment(self, *, start: bool, parallelism: int = 1, population: int = 2, rounds: int = 1):
        from archsearch.config import SearchConfig
        from webapp.studio import services

        config = SearchConfig(family="tvn", population=population, rounds=rounds, low_steps=3, high_steps=0, batch_size=8,
                              num_threads=1, latency_runs=2, seed=1)
        return services.create_experiment(team=self.team, user=self.user, name="bench", dataset=self.dataset, config=config,
                                          parallelism=parallelism, start=start)

    # -- 1 and 2: events through Daphne -------------------------------------------------
    def publish(self, experiment, count: int, spacing: float, sent: dict[int, float]) -> None:
        from django.db import connection, transaction

        from webapp.studio import progress
        from webapp.studio.models import Experiment

        try:
            for i in range(count):
                with transaction.atomic():
                    locked = Experiment.objects.select_for_update().get(pk=experiment.pk)
                    seq = locked.last_seq + 1
                    sent[seq] = time.monotonic()
                    progress.record_event(locked, "bench", {"i": i})
                time.sleep(spacing)
        finally:
            connection.close()

    async def viewers(self, experiment, viewers: int, count: int, spacing: float) -> dict:
        from websockets.asyncio.client import connect

        url = f"ws://127.0.0.1:{self.port}/ws/experiments/{experiment.pk}/"
        headers = {"Cookie": self.cookie, "Origin": f"http://127.0.0.1:{self.port}"}
        first = experiment.last_seq
        last = first + count
        sent: dict[int, float] = {}
        received: list[list[tuple[int, float]]] = [[] for _ in range(viewers)]
        ready = asyncio.Event()
        connected = 0

        async def viewer(index: int) -> None:
            nonlocal connected
            async with connect(url, additional_headers=headers, open_timeout=60, max_queue=None) as ws:
                await ws.send(json.dumps({"type": "replay", "after": first}))
                while True:
                    message = json.loads(await ws.recv())
                    if message.get("kind") == "replayed":
                        connected += 1
                        if connected == viewers:
                            ready.set()
                        continue
                    if message.get("kind") == "event":
                        received[index].append((message["seq"], time.monotonic()))
                        if message["seq"] >= last:
                            return

        tasks = []
        for index in range(viewers):
            tasks.append(asyncio.create_task(viewer(index)))
            if index % 50 == 49:
                await asyncio.sleep(0.05)
        await asyncio.wait_for(ready.wait(), timeout=120)
        publisher = threading.Thread(target=self.publish, args=(experiment, count, spacing, sent))
        started = time.monotonic()
        publisher.start()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=300)
        elapsed = time.monotonic() - started
        await asyncio.to_thread(publisher.join)
        latencies = [(at - sent[seq]) * 1000 for got in received for seq, at in got if seq in sent]
        expected = set(range(first + 1, last + 1))
        lost = sum(len(expected - {seq for seq, _ in got}) for got in received)
        duplicated = sum(len(got) - len({seq for seq, _ in got}) for got in received)
        return {"viewers": viewers, "events": count, "deliveries": sum(len(g) for g in received), "lost": lost,
                "duplicated": duplicated, "p50_ms": round(statistics.median(latencies), 2),
                "p95_ms": round(percentile(latencies, 95), 2), "max_ms": round(max(latencies), 2), "seconds": round(elapsed, 2)}

    # -- 3: candidates per hour ------------------------------------------------------------
    def throughput(self, workers: int, population: int, rounds: int) -> dict:
        from webapp.studio import services
        from webapp.studio.models import Experiment

        procs = [self.spawn(f"worker{i}", [sys.executable, "-m", "celery", "-A", "webapp", "worker", "-Q", "default,train",
                                             "--pool", "solo", "--concurrency", "1", "-n", f"bench{i}@%h", "--without-gossip",
                                             "--without-mingle", "--loglevel", "INFO"], ready="ready.")
                 for i in range(workers)]
        try:
            experiment = self.experiment(start=False, parallelism=workers, population=population, rounds=rounds)
            started = time.monotonic()
            services.start_experiment(experiment.pk)
            deadline = started + 600
            while Experiment.objects.get(pk=experiment.pk).status not in ("finished", "failed", "cancelled"):
                if time.monotonic() > deadline:
                    raise RuntimeError("search did not finish within 10 minutes")
                time.sleep(0.2)
            seconds = time.monotonic() - started
            experiment.refresh_from_db()
            evaluated = experiment.candidates.filter(status="evaluated").count()
            train = [c.seconds for c in experiment.candidates.filter(status="evaluated") if c.seconds]
            return {"workers": workers, "status": experiment.status, "candidates": evaluated, "seconds": round(seconds, 1),
                    "candidates_per_hour": round(evaluated / seconds * 3600), "median_candidate_s": round(statistics.median(train), 2)}
        finally:
            for proc in procs:
                self.stop(proc)


def measure(quick: bool = False) -> dict:
    import django
    from django.core.management import call_command

    from webapp.localredis import RedisServer, free_port

    work = Path(tempfile.mkdtemp(prefix="studio-bench-"))
    os.environ.update(DATABASE_URL=f"sqlite:///{work / 'bench.sqlite3'}", STUDIO_VAR_DIR=str(work / "var"),
                      STUDIO_DATA_DIR=str(work / "data"), DJANGO_SETTINGS_MODULE="webapp.settings")
    redis = RedisServer(work / "redis").start()
    os.environ["REDIS_URL"] = redis.url
    django.setup()
    call_command("migrate", verbosity=0)
    port = free_port()
    bench = Bench(work, redis.url, port)
    results: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                     "database": "SQLite (WAL)", "redis": redis.url.rsplit(":", 1)[0]}
    try:
        bench.setup()
        bench.spawn("daphne", [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "webapp.asgi:application"],
                    ready="Listening on")
        events = 50 if quick else 200
        results["latency_1_viewer"] = asyncio.run(bench.viewers(bench.experiment(start=False), 1, events, 0.02))
        results["viewers_200"] = asyncio.run(bench.viewers(bench.experiment(start=False), 50 if quick else 200, 50 if quick else 100, 0.05))
        population, rounds = (2, 1) if quick else (4, 1)
        results["throughput"] = [bench.throughput(1, population, rounds), bench.throughput(2, population, rounds)]
    finally:
        bench.close()
        redis.stop()
    results["markdown"] = markdown(results)
    return results


def markdown(r: dict) -> str:
    one, many = r["latency_1_viewer"], r["viewers_200"]
    t1, t2 = r["throughput"]
    ratio = t2["candidates_per_hour"] / t1["candidates_per_hour"] if t1["candidates_per_hour"] else float("nan")
    return "\n".join([
        "## Studio: live events and workers",
        "",
        f"Machine: {r['machine']}; {r['database']}; a private Redis; Daphne; Celery solo workers. "
        "Events are stored and published as a worker does (on commit), received by WebSocket clients through Daphne.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| event latency, store + publish -> receipt, 1 viewer ({one['events']} events) | p50 {one['p50_ms']} ms, p95 {one['p95_ms']} ms |",
        f"| event latency with {many['viewers']} concurrent viewers ({many['events']} events) | p50 {many['p50_ms']} ms, "
        f"p95 {many['p95_ms']} ms, max {many['max_ms']} ms |",
        f"| {many['viewers']} viewers: deliveries / lost / duplicated | {many['deliveries']} / {many['lost']} / {many['duplicated']} |",
        f"| tiny TVN search ({t1['candidates']} candidates), 1 worker | {t1['candidates_per_hour']} candidates/h "
        f"({t1['seconds']} s, median {t1['median_candidate_s']} s per candidate) |",
        f"| same search, 2 workers, parallelism 2 | {t2['candidates_per_hour']} candidates/h ({t2['seconds']} s, "
        f"median {t2['median_candidate_s']} s per candidate) |",
        f"| 2 workers vs 1 | {ratio:.2f}x |",
        "",
    ])


def run(report=None, *, quick: bool = False) -> dict:
    """Measure in a fresh process; returns the numbers (and "markdown"). ``report(text)`` gets the Markdown."""
    args = [sys.executable, "-m", "webapp.bench", "--json"] + (["--quick"] if quick else [])
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    results = json.loads(done.stdout.strip().splitlines()[-1])
    if report is not None:
        report(results["markdown"])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the numbers as one JSON line")
    parser.add_argument("--quick", action="store_true", help="fewer events, viewers and candidates (a smoke run)")
    args = parser.parse_args()
    results = measure(quick=args.quick)
    print(json.dumps(results) if args.json else results["markdown"])


if __name__ == "__main__":
    main()
