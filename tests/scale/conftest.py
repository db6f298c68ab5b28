"""Real parts for the load and fault tests: gunicorn on loopback, PostgreSQL clusters, HTTP.

Every process started here runs in its own process group and is stopped in a ``finally``;
every loop is bounded in count and in time. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import PASSWORD, TEST_ARGON2, require
from tests.factories import SECTIONS

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = [sys.executable, "-m", "gunicorn"]  # the interpreter running the tests
HOST = "127.0.0.1"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# --- HTTP: one browser-like client per simulated person -----------------------------------


@dataclass
class Answer:
    status: int
    body: str
    location: str
    seconds: float


class Browser:
    """A person's browser: keeps cookies, reads CSRF tokens, never follows redirects."""

    def __init__(self, port: int, *, language: str = "es", timeout: float = 60) -> None:
        self.port = port
        self.language = language
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, data: Any = None) -> Answer:
        headers = {"Accept-Language": self.language, "Host": f"{HOST}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://{HOST}:{self.port}"
        started = time.monotonic()
        for attempt in (1, 2):  # a kept-alive connection the server closed: reconnect once
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                text_body = response.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if attempt == 2 or method != "GET":
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if response.headers.get("Connection", "").lower() == "close":
            self.close()
        return Answer(
            response.status,
            text_body,
            urlsplit(response.headers.get("Location", "")).path,
            time.monotonic() - started,
        )

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, data: dict[str, Any]) -> Answer:
        return self.request("POST", path, data)

    def token(self, path: str) -> str:
        page = self.get(path)
        match = _CSRF.search(page.body)
        assert match, f"no CSRF token on {path} ({page.status})"
        return next(group for group in match.groups() if group)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def sign_in(self, email: str, password: str = PASSWORD) -> Answer:
        token = self.token("/sign-in")
        return self.post("/sign-in", {"csrf_token": token, "email": email, "password": password})


def new_draft(browser: Browser) -> str:
    answer = browser.post("/intake", {"csrf_token": browser.token("/intake")})
    match = re.search(r"/intake/([^/]+)/encounter", answer.location)
    assert answer.status == 302 and match, (answer.status, answer.body[:300])
    return match.group(1)


def fill_draft(browser: Browser, key: str) -> None:
    """Post every section of the intake as a browser does (one CSRF token, kept per session)."""
    token = browser.token(f"/intake/{key}/encounter")
    for section, values in SECTIONS.items():
        data = {"csrf_token": token, **values, "next": 1}
        answer = browser.post(f"/intake/{key}/{section}", data)
        assert answer.status == 302, (section, answer.status, answer.body[:300])


def submit(browser: Browser, key: str) -> Answer:
    token = browser.token(f"/intake/{key}/review")
    return browser.post(f"/intake/{key}/submit", {"csrf_token": token})


# --- gunicorn -----------------------------------------------------------------------------


class Server:
    """``gunicorn -w 2 -b 127.0.0.1:PORT 'referral:create_app()'`` in its own process group."""

    def __init__(self, env: dict[str, str], log: Path, *, workers: int = 2) -> None:
        self.env = env
        self.log = log
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, wait: bool = True) -> Server:
        self.port = free_port()
        command = [
            *GUNICORN,
            "-w",
            str(self.workers),
            "-b",
            f"{HOST}:{self.port}",
            "--timeout",
            "120",
            "referral:create_app()",
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, self.log_text()
            try:
                with socket.create_connection((HOST, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"gunicorn did not listen within {seconds}s\n{self.log_text()}")

    def kill(self) -> None:
        """SIGKILL to the whole group: master and workers die mid-request."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def server_env(instance: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFERRAL_")}
    env.update(
        {
            "REFERRAL_INSTANCE_PATH": str(instance),
            "REFERRAL_DATABASE_URL": database_url,
            "REFERRAL_ENV": "development",
            "REFERRAL_ARGON2_TIME_COST": str(TEST_ARGON2["ARGON2_TIME_COST"]),
            "REFERRAL_ARGON2_MEMORY_COST": str(TEST_ARGON2["ARGON2_MEMORY_COST"]),
            "REFERRAL_ARGON2_PARALLELISM": str(TEST_ARGON2["ARGON2_PARALLELISM"]),
            # Load, not sign-in, is measured: supervisors sign in without a second factor and
            # 25 people share 127.0.0.1 (development only; production refuses "none").
            "REFERRAL_SECOND_FACTOR": "none",
            "REFERRAL_RATELIMIT_ENABLED": "false",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(env: dict[str, str], *, wait: bool = True) -> Server:
        server = Server(env, tmp_path / f"gunicorn-{len(servers)}.log").start(wait=wait)
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


# --- databases ----------------------------------------------------------------------------


def pg_bin() -> Path | None:
    configured = os.environ.get("REFERRAL_TEST_PG_BIN")
    if configured:
        return Path(configured)
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    return found[-1] if found else None


def _as_postgres(command: str) -> list[str]:
    if os.geteuid() == 0:
        return ["su", "postgres", "-s", "/bin/sh", "-c", command]
    return ["/bin/sh", "-c", command]


class PgCluster:
    """A PostgreSQL cluster of the test's own, on loopback, that the test stops and starts."""

    def __init__(self, directory: Path, binaries: Path) -> None:
        self.dir = directory
        self.bin = binaries
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@{HOST}:{self.port}/ruta"

    def _run(self, command: str, timeout: float = 60) -> None:
        subprocess.run(_as_postgres(command), check=True, timeout=timeout, capture_output=True)

    def init(self) -> PgCluster:
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(
            f"{self.bin}/initdb -D {self.dir}/data -U postgres -A trust -E UTF8 "
            "--locale=C.UTF-8 >/dev/null"
        )
        self.start()
        self._run(f"{self.bin}/createdb -h {HOST} -p {self.port} -U postgres ruta")
        return self

    def start(self) -> None:
        self._run(
            f"{self.bin}/pg_ctl -D {self.dir}/data -l {self.dir}/log -w -t 60 "
            f"-o '-p {self.port} -k {self.dir} -c listen_addresses={HOST} -c fsync=off' start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(f"{self.bin}/pg_ctl -D {self.dir}/data -m {mode} -w -t 60 stop")

    def running(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=1):
                return True
        except OSError:
            return False

    def destroy(self) -> None:
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def pg_cluster() -> Iterator[PgCluster]:
    binaries = pg_bin()
    require(
        binaries is not None and (binaries / "initdb").exists(),
        "no PostgreSQL binaries (REFERRAL_TEST_PG_BIN or /usr/lib/postgresql/*/bin)",
    )
    assert binaries is not None
    cluster = PgCluster(Path(f"/tmp/ruta-fault-pg-{secrets.token_hex(4)}"), binaries)
    try:
        cluster.init()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def scale_database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on the suite's server: the suite's PostgreSQL, else SQLite."""
    suite_url = os.environ.get("REFERRAL_TEST_DATABASE_URL", "")
    if not suite_url.startswith("postgresql"):
        yield "sqlite:///" + str(tmp_path / "scale.db")
        return
    name = f"ruta_scale_{secrets.token_hex(4)}"
    admin = create_engine(suite_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(suite_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- instance: migrated, seeded, with accounts --------------------------------------------


@dataclass
class Instance:
    path: Path
    database_url: str
    screeners: list[str] = field(default_factory=list)
    supervisors: list[str] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        return server_env(self.path, self.database_url, **extra)


def prepare_instance(
    path: Path, database_url: str, *, screeners: int = 0, supervisors: int = 0
) -> Instance:
    """Migrate and seed through the app's own first-run setup, then add accounts."""
    from referral import create_app
    from referral.auth import operations as ops
    from referral.db import get_db
    from referral.setup import ensure_database

    path.mkdir(parents=True, exist_ok=True)
    app = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(path), **TEST_ARGON2})
    instance = Instance(path, database_url)
    try:
        with app.app_context():
            ensure_database(app)
            with get_db(app).transaction() as session:
                for role, count, emails in (
                    ("screener", screeners, instance.screeners),
                    ("supervisor", supervisors, instance.supervisors),
                ):
                    for number in range(count):
                        email = f"{role}{number}@scale.example.org"
                        data = ops.AccountData(
                            email=email, role=role, states=[], national=True, language="es"
                        )
                        ops.create_user(session, data, PASSWORD, actor_id=None)
                        emails.append(email)
    finally:
        get_db(app).dispose()
    return instance


def query(database_url: str, sql: str) -> list[Any]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)).all())
    finally:
        engine.dispose()


def half_written(database_url: str) -> dict[str, list[Any]]:
    """Every way a case, screening, referral or gap could be left half-written; all empty."""
    checks = {
        "case without screening": "SELECT c.id FROM case_file c WHERE NOT EXISTS "
        "(SELECT 1 FROM screening s WHERE s.case_id = c.id)",
        "case whose latest screening is missing or another case's": "SELECT c.id FROM case_file c "
        "LEFT JOIN screening s ON s.id = c.latest_screening_id "
        "WHERE s.id IS NULL OR s.case_id <> c.id",
        "screening without case": "SELECT s.id FROM screening s LEFT JOIN case_file c "
        "ON c.id = s.case_id WHERE c.id IS NULL",
        "gap without case": "SELECT g.id FROM gap g LEFT JOIN case_file c ON c.id = g.case_id "
        "WHERE c.id IS NULL",
        "gap without reasons": "SELECT g.id FROM gap g WHERE NOT EXISTS "
        "(SELECT 1 FROM gap_reason r WHERE r.gap_id = g.id)",
        "referral without case": "SELECT r.id FROM referral r LEFT JOIN case_file c "
        "ON c.id = r.case_id WHERE c.id IS NULL",
        "draft pointing at a missing case": "SELECT d.id FROM intake_draft d LEFT JOIN case_file c "
        "ON c.id = d.submitted_case_id WHERE d.submitted_case_id IS NOT NULL AND c.id IS NULL",
        "case made by no draft": "SELECT c.id FROM case_file c WHERE NOT EXISTS "
        "(SELECT 1 FROM intake_draft d WHERE d.submitted_case_id = c.id)",
        "draft that made two cases": "SELECT submitted_case_id FROM intake_draft "
        "WHERE submitted_case_id IS NOT NULL GROUP BY submitted_case_id HAVING COUNT(*) > 1",
        "case without its audit event": "SELECT c.id FROM case_file c WHERE NOT EXISTS "
        "(SELECT 1 FROM audit_event a WHERE a.object_kind = 'case' "
        "AND a.object_id = CAST(c.id AS VARCHAR(64)))",
    }
    return {name: rows for name, sql in checks.items() if (rows := query(database_url, sql))}


def count(database_url: str, table: str) -> int:
    return int(query(database_url, f"SELECT COUNT(*) FROM {table}")[0][0])


# --- the load itself ----------------------------------------------------------------------


@dataclass
class LoadResult:
    submitted: int = 0  # submissions answered with a redirect to the new case
    reads: int = 0
    answers: int = 0
    server_errors: list[tuple[str, int, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # transport errors (server killed)
    submit_seconds: list[float] = field(default_factory=list)
    read_seconds: list[float] = field(default_factory=list)
    lock = threading.Lock()

    def note(self, path: str, answer: Answer) -> Answer:
        with self.lock:
            self.answers += 1
            if answer.status >= 500:
                self.server_errors.append((path, answer.status, answer.body[:500]))
        return answer


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_load(
    port: int,
    screeners: list[str],
    supervisors: list[str],
    *,
    seconds: float,
    on_tick: Callable[[float, LoadResult], None] | None = None,
) -> LoadResult:
    """Screeners submit full intakes and supervisors read, until ``seconds`` have passed."""
    result = LoadResult()
    deadline = time.monotonic() + seconds
    max_iterations = 10_000  # bound even if every request were instant

    def screener(email: str) -> None:
        browser = Browser(port)
        try:
            browser.sign_in(email)
            for _ in range(max_iterations):
                if time.monotonic() >= deadline:
                    return
                key = new_draft(browser)
                token = browser.token(f"/intake/{key}/encounter")
                for section, values in SECTIONS.items():
                    path = f"/intake/{key}/{section}"
                    result.note(path, browser.post(path, {"csrf_token": token, **values, "n": 1}))
                answer = result.note("submit", submit(browser, key))
                if answer.status == 302 and answer.location.startswith("/cases/"):
                    with result.lock:
                        result.submitted += 1
                        result.submit_seconds.append(answer.seconds)
                result.note("case", browser.get(answer.location or "/cases"))
        except Exception as exc:  # the server was killed: counted, never silent
            with result.lock:
                result.failures.append(f"{email}: {exc!r}")
        finally:
            browser.close()

    def supervisor(email: str) -> None:
        browser = Browser(port, language="en")
        pages = ("/supervision", "/cases", "/supervision/cases?panel=need&key=shelter", "/stats")
        try:
            browser.sign_in(email)
            for number in range(max_iterations):
                if time.monotonic() >= deadline:
                    return
                path = pages[number % len(pages)]
                answer = result.note(path, browser.get(path))
                with result.lock:
                    result.reads += 1
                    result.read_seconds.append(answer.seconds)
                time.sleep(0.2)  # a person reading, not a crawler
        except Exception as exc:
            with result.lock:
                result.failures.append(f"{email}: {exc!r}")
        finally:
            browser.close()

    threads = [threading.Thread(target=screener, args=(e,), daemon=True) for e in screeners]
    threads += [threading.Thread(target=supervisor, args=(e,), daemon=True) for e in supervisors]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline + 120:
        if on_tick is not None:
            on_tick(time.monotonic() - started, result)
        time.sleep(0.2)
    for thread in threads:
        thread.join(timeout=1)
    assert not any(t.is_alive() for t in threads), "load threads did not stop in time"
    return result
