"""The workers, as they report themselves: which device each trains on and what it trains now.

Every Celery worker of the studio runs a small beacon thread (started when the worker is
ready, see ``signals``) that writes one JSON record to Redis every few seconds under
``studio:worker:<name>``, with an expiry: a worker that stops (or is killed) drops off the
list by itself. The record says host, process, queues, device (the CPU, or which GPU and
its name once CUDA is up, with the worker's memory share), whether it is busy, what it
trains (kind, id, team, label, page) and when it last reported. The workers page and
``/api/workers/`` read these records; nothing else is asked of the workers.

The device is described without starting CUDA: the GPU count comes from NVML and the
card's name is added once the worker's first training has initialised CUDA, in the worker.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from django.conf import settings

from .teams import teams_of

log = logging.getLogger("webapp.studio")

KEY_PREFIX = "studio:worker:"
TRAIN_QUEUE = "train"


def beat_seconds() -> float:
    return float(getattr(settings, "STUDIO_WORKER_BEAT_SECONDS", 5.0))


def record_ttl() -> int:
    """Seconds a record outlives its last report (a killed worker leaves the list after this)."""
    return max(2, int(6 * beat_seconds()))


def _redis():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


# ---------------------------------------------------------------------- in the worker
def memory_fraction() -> float | None:
    """This worker's share of its GPU's memory (STUDIO_GPU_MEMORY_FRACTION; the launcher sets it)."""
    return getattr(settings, "STUDIO_GPU_MEMORY_FRACTION", None)


def describe_device() -> dict[str, Any]:
    """The device this worker trains on, without starting CUDA."""
    import torch

    from videomodels.train.gpulock import physical_gpu

    count = torch.cuda.device_count()  # NVML where it answers: no CUDA context, no poisoned fork
    if not count:
        return {"kind": "cpu", "label": "CPU", "threads": torch.get_num_threads()}
    info: dict[str, Any] = {"kind": "cuda", "gpu": physical_gpu(0), "visible": count, "memory_share": memory_fraction()}
    if torch.cuda.is_initialized():
        info["name"] = torch.cuda.get_device_name(0)
        info["memory_reserved_mb"] = round(torch.cuda.memory_reserved(0) / 2**20)
    info["label"] = f"GPU {info['gpu']}" + (f" ({info['name']})" if info.get("name") else "")
    return info


def prepare_device() -> None:
    """Before a worker's first training: its share of the GPU's memory (several workers share
    one card). The first CUDA call of the process happens here, in the worker."""
    from videomodels.train.runtime import limit_gpu_memory

    limit_gpu_memory(memory_fraction())


class Beacon(threading.Thread):
    """Writes this worker's record every ``interval`` seconds until ``stop()``."""

    def __init__(self, name: str, queues: list[str], interval: float | None = None):
        super().__init__(name="worker-beacon", daemon=True)
        self.worker = name
        self.interval = interval or beat_seconds()
        self.key = KEY_PREFIX + name
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.record: dict[str, Any] = {
            "name": name, "host": name.partition("@")[2] or socket.gethostname(), "pid": os.getpid(),
            "queues": sorted(queues), "busy": False, "task": None, "tasks_done": 0, "started": _now(),
        }
        self.client = _redis()

    def write(self) -> None:
        with self.lock:
            self.record["device"] = describe_device()
            self.record["beat"] = _now()
            payload = json.dumps(self.record)
        try:
            self.client.set(self.key, payload, ex=record_ttl())
        except Exception as error:  # noqa: BLE001 - Redis away for a moment: the next beat tries again
            log.warning("worker record not written: %s", error)

    def run(self) -> None:
        while not self.done.wait(self.interval):
            self.write()

    def set_task(self, task: dict[str, Any] | None) -> None:
        with self.lock:
            if task is None and self.record["busy"]:
                self.record["tasks_done"] += 1
            self.record["busy"] = task is not None
            self.record["task"] = task
        self.write()

    def stop(self) -> None:
        self.done.set()
        try:
            self.client.delete(self.key)
        except Exception:  # noqa: BLE001 - the record expires anyway
            pass


_beacon: Beacon | None = None


def start_beacon(name: str, queues: list[str]) -> Beacon:
    """This process's beacon (a worker calls it once it is ready); writes the first record at once."""
    global _beacon
    if _beacon is None:
        _beacon = Beacon(name, queues)
        _beacon.write()
        _beacon.start()
    return _beacon


def stop_beacon() -> None:
    global _beacon
    if _beacon is not None:
        _beacon.stop()
        _beacon = None


@contextlib.contextmanager
def training(kind: str, pk: int, *, team: int | None, label: str, url: str) -> Iterator[None]:
    """Around a training: the worker's record says it is busy with this (a no-op outside a worker)."""
    beacon = _beacon
    if beacon is not None:
        beacon.set_task({"kind": kind, "id": pk, "team": team, "label": label, "url": url, "since": _now()})
    try:
        yield
    finally:
        if beacon is not None:
            beacon.set_task(None)


# ---------------------------------------------------------------------- on the web side
class WorkersUnknown(RuntimeError):
    """Redis did not answer: nobody can tell which workers run."""


def list_workers() -> list[dict[str, Any]]:
    """Every worker's last record (training workers first, then by name), with ``age_s``, the
    seconds since it last reported. Raises WorkersUnknown when Redis does not answer."""
    try:
        client = _redis()
        keys = sorted(client.scan_iter(match=KEY_PREFIX + "*", count=500))[:1000]
        values = client.mget(keys) if keys else []
    except Exception as error:  # noqa: BLE001
        raise WorkersUnknown(f"the workers' records could not be read ({error})") from None
    now = datetime.now(timezone.utc)
    workers = []
    for raw in values:
        try:
            record = json.loads(raw)
            record["age_s"] = round((now - datetime.fromisoformat(record["beat"])).total_seconds(), 1)
        except (TypeError, ValueError, KeyError):
            continue  # expired between the scan and the read, or not ours
        record["trains"] = TRAIN_QUEUE in (record.get("queues") or [])
        record["silent"] = record["age_s"] > 3 * beat_seconds()  # missed a few reports: stuck, or gone
        workers.append(record)
    workers.sort(key=lambda w: (not w["trains"], w.get("host") or "", w.get("name") or ""))
    return workers


def for_viewer(workers: list[dict[str, Any]], team_ids: set[int]) -> list[dict[str, Any]]:
    """What a user may see: what a worker trains only when it is their team's work."""
    shown = []
    for worker in workers:
        worker = dict(worker)
        task = worker.get("task")
        if task and task.get("team") not in team_ids:
            worker["task"] = {"kind": task.get("kind"), "label": "another team's work", "url": None, "since": task.get("since")}
        elif task:
            worker["task"] = {k: task.get(k) for k in ("kind", "id", "label", "url", "since")}
        shown.append(worker)
    return shown


def cuda_train_workers(workers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [w for w in workers if w["trains"] and (w.get("device") or {}).get("kind") == "cuda"]


def workers_overview(user) -> dict[str, Any]:
    """The workers page's (and API's) data for ``user``."""
    try:
        workers = list_workers()
        known, problem = True, ""
    except WorkersUnknown as error:
        workers, known, problem = [], False, str(error)
    team_ids = set(teams_of(user).values_list("pk", flat=True))
    shown = for_viewer(workers, team_ids)
    return {"workers": shown, "train_workers": sum(1 for w in shown if w["trains"]),
            "gpu_train_workers": len(cuda_train_workers(shown)), "known": known, "problem": problem}

