"""Training workers for this machine: ``python -m webapp.trainworkers`` (the Procfile's ``train``).

On a machine with GPUs it starts ``STUDIO_TRAIN_WORKERS_PER_GPU`` Celery workers (default
``DEFAULT_PER_GPU``) per visible GPU on the ``train`` queue, each a solo-pool process pinned
to its card with ``CUDA_VISIBLE_DEVICES`` and given ``STUDIO_GPU_MEMORY_FRACTION`` (about 1/N
of the card; set it yourself to override). Several workers per GPU because the search's usual
candidates are small and launch-bound: on an H200 one training used a fraction of the card,
and eight side by side trained 6.7x as many (issue 17; ``make bench``'s gpu section measures
1, 2, 4 and 8 on your card). Without a GPU it starts one worker on the CPU.

This process never imports torch or touches CUDA: GPUs are counted from
``CUDA_VISIBLE_DEVICES`` when it is set, else from ``nvidia-smi``; CUDA is first used inside
each worker, by its first training. Ctrl-C (or SIGTERM) stops every worker, each handing a
candidate in training back to the queue; when one worker exits, the others are stopped too.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PER_GPU = 4
MAX_PER_GPU = 64
# The workers of one GPU split this much of its memory between them (the rest: CUDA contexts).
MEMORY_FOR_WORKERS = 0.9


class LaunchError(ValueError):
    """A setting the launcher cannot use; the message names it."""


def nvidia_smi_gpus() -> list[str]:
    """Indexes of the GPUs nvidia-smi sees ([] without the tool or a driver)."""
    tool = shutil.which("nvidia-smi")
    if not tool:
        return []
    try:
        out = subprocess.run([tool, "--query-gpu=index", "--format=csv,noheader"], capture_output=True, text=True,
                             timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip().isdigit()]


def visible_gpus(env: dict[str, str], probe=nvidia_smi_gpus) -> list[str]:
    """The GPUs workers may use: ``CUDA_VISIBLE_DEVICES`` when set (ids or UUIDs; CUDA stops at
    the first invalid entry, so ``-1`` or an empty value hide every GPU), else all that ``probe`` finds."""
    value = env.get("CUDA_VISIBLE_DEVICES")
    if value is None:
        return probe()
    gpus = []
    for entry in (v.strip() for v in value.split(",")):
        if not entry or entry.startswith("-"):
            break
        gpus.append(entry)
    return gpus


def workers_per_gpu(env: dict[str, str]) -> int:
    raw = (env.get("STUDIO_TRAIN_WORKERS_PER_GPU") or "").strip()
    if not raw:
        return DEFAULT_PER_GPU
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PER_GPU:
        raise LaunchError(f"STUDIO_TRAIN_WORKERS_PER_GPU must be a whole number from 1 to {MAX_PER_GPU}, got {raw!r}")
    return int(raw)


def memory_share(env: dict[str, str], per_gpu: int) -> str:
    raw = (env.get("STUDIO_GPU_MEMORY_FRACTION") or "").strip()
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not 0 < value <= 1:
            raise LaunchError(f"STUDIO_GPU_MEMORY_FRACTION must be a number in (0, 1], got {raw!r}")
        return raw
    return f"{MEMORY_FOR_WORKERS / per_gpu:.3f}"


@dataclass
class WorkerPlan:
    """One Celery worker process: its name, queues and the environment it adds."""

    name: str
    queues: list[str]
    env: dict[str, str] = field(default_factory=dict)

    def command(self, python: str = sys.executable) -> list[str]:
        return [python, "-m", "celery", "-A", "webapp", "worker", "-Q", ",".join(self.queues), "--pool", "solo",
                "--concurrency", "1", "-n", self.name, "--loglevel", "INFO"]


def plan(env: dict[str, str], *, with_default_queue: bool = False, gpus: list[str] | None = None) -> list[WorkerPlan]:
    """The workers to start. ``with_default_queue``: one of them also serves the ``default`` queue
    (search driving, dataset preparation) as ``make run`` needs; on a GPU machine that one is a
    separate worker without a GPU, so a dataset being decoded never holds a card."""
    gpus = visible_gpus(env) if gpus is None else gpus
    if not gpus:
        queues = ["default", "train"] if with_default_queue else ["train"]
        return [WorkerPlan("studio@%h" if with_default_queue else "train-cpu@%h", queues, {"CUDA_VISIBLE_DEVICES": ""})]
    per_gpu = workers_per_gpu(env)
    share = memory_share(env, per_gpu)
    plans = [WorkerPlan("studio@%h", ["default"], {"CUDA_VISIBLE_DEVICES": ""})] if with_default_queue else []
    for position, gpu in enumerate(gpus):
        label = gpu if gpu.isdigit() else str(position)
        for number in range(1, per_gpu + 1):
            plans.append(WorkerPlan(f"train-gpu{re.sub(r'[^0-9A-Za-z]', '', label)}-{number}@%h", ["train"],
                                    {"CUDA_VISIBLE_DEVICES": gpu, "STUDIO_GPU_MEMORY_FRACTION": share}))
    return plans


def describe(plans: list[WorkerPlan]) -> str:
    gpus = sorted({p.env.get("CUDA_VISIBLE_DEVICES") for p in plans if p.env.get("CUDA_VISIBLE_DEVICES")})
    trainers = [p for p in plans if "train" in p.queues]
    if not gpus:
        return f"{len(trainers)} training worker on the CPU (no GPU visible)"
    share = trainers[0].env["STUDIO_GPU_MEMORY_FRACTION"]
    return (f"{len(trainers)} training workers: {len(trainers) // len(gpus)} on each of GPU {', '.join(gpus)} "
            f"(STUDIO_TRAIN_WORKERS_PER_GPU), each with {float(share):.0%} of its GPU's memory")


def _stream(name: str, proc: subprocess.Popen) -> None:
    for raw in iter(proc.stdout.readline, b""):
        sys.stdout.write(f"[{name.split('@')[0]}] {raw.decode(errors='replace')}")
        sys.stdout.flush()


def start(plans: list[WorkerPlan], env: dict[str, str]) -> list[tuple[str, subprocess.Popen]]:
    """Start the workers (each in its own session, output streamed with its name)."""
    children = []
    for worker in plans:
        proc = subprocess.Popen(worker.command(), cwd=ROOT, env={**env, **worker.env}, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        children.append((worker.name, proc))
        threading.Thread(target=_stream, args=(worker.name, proc), daemon=True).start()
    return children


def stop(children: list[tuple[str, subprocess.Popen]], timeout: float = 30) -> None:
    """SIGTERM (a worker hands its candidate back), then SIGKILL for any still there after ``timeout``."""
    for _, proc in children:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for _, proc in children:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webapp.trainworkers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--with-default-queue", action="store_true",
                        help="also serve the default queue (one more worker, without a GPU, where there are GPUs)")
    parser.add_argument("--dry-run", action="store_true", help="print the worker commands and exit")
    args = parser.parse_args(argv)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "webapp.settings"),
               PYTHONUNBUFFERED="1")
    try:
        plans = plan(env, with_default_queue=args.with_default_queue)
    except LaunchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(describe(plans), flush=True)
    if args.dry_run:
        for worker in plans:
            extra = " ".join(f"{k}={v!r}" for k, v in worker.env.items())
            print(f"{extra} {' '.join(worker.command('python'))}")
        return 0
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    children = start(plans, env)
    code = 0
    try:
        while not stopping.is_set():
            for name, proc in children:
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; stopping the other workers.", file=sys.stderr)
                    code = proc.returncode or 1
                    stopping.set()
            stopping.wait(0.5)
    finally:
        stop(children)
    return code


if __name__ == "__main__":
    sys.exit(main())
