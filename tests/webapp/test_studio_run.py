"""`make run` (scripts/run_studio.py) on a machine with nothing running: a private Redis, migrations,
the first account, a worker and Daphne; the login printed works; Ctrl-C stops every process."""
from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from waiting import wait_until

from webapp.localredis import free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def children_of(pid: int) -> set[int]:
    found, frontier = set(), {pid}
    while frontier:
        parent = frontier.pop()
        for line in subprocess.run(["ps", "-o", "pid=", "--ppid", str(parent)], capture_output=True, text=True).stdout.split():
            found.add(int(line))
            frontier.add(int(line))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def test_make_run_serves_the_studio_and_ctrl_c_stops_everything(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "SECRET_KEY", "DJANGO_SETTINGS_MODULE")}
    # No GPU here (CUDA_VISIBLE_DEVICES empty): one worker for both queues; test_trainworkers covers the GPU plans.
    env.update(STUDIO_VAR_DIR=str(tmp_path / "var"), STUDIO_PORT=str(port), PYTHONUNBUFFERED="1", CUDA_VISIBLE_DEVICES="")
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "scripts/run_studio.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        def announced() -> bool:
            assert proc.poll() is None, log.read_text()
            return "The studio is at" in log.read_text()

        wait_until(announced, 150, "the studio's address in the log", interval=0.3)
        text = log.read_text()
        assert f"The studio is at http://127.0.0.1:{port}" in text, text
        credentials = tmp_path / "var" / "admin-credentials.txt"
        match = re.search(r"username: (\w+)\npassword: (\S+)", credentials.read_text())
        assert match and "first account 'admin'" in text
        assert match.group(2) not in text, "the password is only in the owner-only file"
        var = tmp_path / "var"
        assert credentials.stat().st_mode & 0o777 == 0o600
        assert var.stat().st_mode & 0o777 == 0o700 and (var / "redis").stat().st_mode & 0o777 == 0o700
        for private in ("studio.sqlite3", "secret_key", "redis/password"):
            assert (var / private).stat().st_mode & 0o077 == 0, private
        # The private Redis: loopback only, and useless without its password.
        redis_port = int(re.search(r"Started a private Redis on 127\.0\.0\.1:(\d+), password-protected", text).group(1))
        with socket.create_connection(("127.0.0.1", redis_port), timeout=5) as sock:
            sock.sendall(b"PING\r\n")
            assert sock.recv(64).startswith(b"-NOAUTH")
        assert (var / "redis").exists() and (var / "redis" / "password").read_text().strip() not in text
        # The printed account logs in.
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        base = f"http://127.0.0.1:{port}"
        page = opener.open(f"{base}/accounts/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"username": match.group(1), "password": match.group(2), "csrfmiddlewaretoken": token})
        request = urllib.request.Request(f"{base}/accounts/login/", data=form.encode(), headers={"Referer": f"{base}/accounts/login/"})
        response = opener.open(request)
        dashboard = response.read().decode()
        assert "<h1>Experiments</h1>" in dashboard
        assert "Server" not in response.headers, response.headers  # no banner naming the server software
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        # A bad Host header: a 400, and no traceback in the log.
        bad = urllib.request.Request(f"{base}/accounts/login/", headers={"Host": "evil.example"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            opener.open(bad)
        assert refused.value.code == 400
        assert opener.open(f"{base}/static/vendor/chartjs/chart.umd.min.js").status == 200
        # Wait for the worker too, then Ctrl-C.
        wait_until(lambda: " ready." in log.read_text(), 60, "the worker ready", interval=0.3)
        assert " ready." in log.read_text()
        assert "Workers: 1 training worker on the CPU (no GPU visible)" in log.read_text()
        workers = opener.open(f"{base}/workers/").read().decode()  # the worker reported itself when it was ready
        assert 'data-name="studio@' in workers and 'data-device="cpu"' in workers and 'data-busy="false"' in workers
        started = children_of(proc.pid)
        assert len(started) >= 3  # redis-server, the worker, Daphne
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0, log.read_text()[-3000:]
        wait_until(lambda: not any(alive(pid) for pid in started), 10, "every child gone", interval=0.1)
        assert [pid for pid in started if alive(pid)] == []
        assert log.read_text().rstrip().endswith("Stopped.")
        assert "Traceback" not in log.read_text() and "Invalid HTTP_HOST header" in log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
