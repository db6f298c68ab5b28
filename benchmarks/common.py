"""Shared pieces of the benchmarks: gunicorn on loopback, timed HTTP clients, percentiles."""

from __future__ import annotations

import gc
import http.client
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
# The interpreter running the benchmark runs its servers and commands too (any venv).
PYTHON = sys.executable


def flask_command(*args: str) -> list[str]:
    """``flask --app referral ARGS`` under this interpreter."""
    return [PYTHON, "-m", "flask", "--app", "referral", *args]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def as_served() -> None:
    """Freeze what start-up and the warm-up requests built, as ``wsgi.py`` does in each
    worker, so an in-process benchmark's full garbage collections cost what a served
    worker's do."""
    gc.collect()
    gc.freeze()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(app: str, env: dict[str, str], workers: int = 2, cwd: Path = ROOT) -> Iterator[int]:
    """Serve ``app`` with gunicorn on a free loopback port; stop it afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        cwd=cwd,
        env={**os.environ, **env},
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(f"gunicorn exited with {process.returncode}") from None
                time.sleep(0.2)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


class Browser:
    """A minimal cookie-keeping HTTP client on loopback (one connection per request)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        # Once frozen, answers no longer change the cookies: a benchmark that never opens
        # the pages its posts redirect to would otherwise pile flash messages into them.
        self.frozen = False

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, body: str | None = None
    ) -> tuple[int, dict[str, str], str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Accept-Language": "es-MX"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        payload = None
        if form is not None:
            payload = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            payload = body
            headers["Content-Type"] = "text/plain"
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and not self.frozen:
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        connection.close()
        return response.status, dict(response.getheaders()), text

    def csrf(self, path: str) -> str:
        _status, _headers, page = self.request("GET", path)
        match = re.search(
            r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"', page
        )
        if not match:
            raise RuntimeError(f"no CSRF token on {path}")
        return match.group(1) or match.group(2)

    def sign_in(self, email: str, password: str) -> None:
        token = self.csrf("/sign-in")
        status, _h, _t = self.request(
            "POST", "/sign-in", {"csrf_token": token, "email": email, "password": password}
        )
        if status != 302:
            raise RuntimeError(f"sign-in answered {status}")


@dataclass
class Timings:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def summary(self, duration: float) -> dict[str, float]:
        ordered = sorted(self.latencies)
        if not ordered:
            return {"requests": 0, "per_second": 0.0, "p50_ms": 0.0, "p95_ms": 0.0}
        return {
            "requests": len(ordered),
            "per_second": len(ordered) / duration,
            "p50_ms": statistics.median(ordered) * 1000,
            "p95_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000,
        }


def run_clients(
    clients: int, duration: float, work: Callable[[int, Timings, float], None]
) -> tuple[Timings, float]:
    """``clients`` threads each calling ``work(index, timings, deadline)`` until the deadline."""
    timings = Timings()
    start = time.monotonic()
    deadline = start + duration
    threads = [threading.Thread(target=work, args=(i, timings, deadline)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 120)
    return timings, time.monotonic() - start


BENCH_PASSWORD = "benchmark passphrase 2026"
CSRF_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def in_process_app(instance: Path, database_url: str | None) -> Any:
    """The app on an existing instance (and database), in this process, for the test client:
    nothing migrated or seeded, and no second factor (one step less to sign in; the pages
    do the same work either way)."""
    os.environ.update(
        {
            "REFERRAL_INSTANCE_PATH": str(instance.resolve()),
            "REFERRAL_SECRET_KEY": "benchmark-secret-key-not-for-production",
            "REFERRAL_AUTO_SETUP": "false",
        }
    )
    if database_url:
        os.environ["REFERRAL_DATABASE_URL"] = database_url
    from referral import create_app

    return create_app({"AUTO_SETUP": False, "SECOND_FACTOR": "none"})


def ensure_account(session: Any, email: str, role: str, states: list[str], national: bool) -> None:
    """The benchmark's account, created with BENCH_PASSWORD the first time."""
    from referral.auth import operations as accounts

    if accounts.user_by_email(session, email) is None:
        data = accounts.AccountData(email, role, states, national, "Benchmark")
        accounts.create_user(session, data, BENCH_PASSWORD, actor_id=None)


def signed_in(app: Any, email: str) -> Any:
    """A test client signed in through the sign-in form."""
    client = app.test_client()
    token = CSRF_TOKEN.search(client.get("/sign-in").get_data(as_text=True))
    assert token, "no CSRF token on the sign-in page"
    answer = client.post(
        "/sign-in",
        data={"csrf_token": token.group(1), "email": email, "password": BENCH_PASSWORD},
    )
    assert answer.status_code == 302, answer.status_code
    return client
