"""Faults: the database stops, the server is killed, a submission is retried, SQLite is
hammered by both workers, and two workers start at once on an empty instance.

Each test runs real parts: gunicorn with 2 workers on loopback, a PostgreSQL cluster the
test starts and stops itself, real SQLite files.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.scale.conftest import (
    Answer,
    Browser,
    LoadResult,
    PgCluster,
    Server,
    count,
    fill_draft,
    half_written,
    new_draft,
    prepare_instance,
    query,
    run_load,
    submit,
)

pytestmark = pytest.mark.faults


def signed_in(port: int, email: str, language: str = "es") -> Browser:
    browser = Browser(port, language=language)
    assert browser.sign_in(email).status == 302
    return browser


# --- (a) PostgreSQL stops during a submission ---------------------------------------------


def test_postgres_stops_during_a_submission(
    tmp_path: Path, pg_cluster: PgCluster, start_server: Callable[..., Server]
) -> None:
    instance = prepare_instance(tmp_path / "instance", pg_cluster.url, screeners=1)
    server = start_server(instance.env(REFERRAL_SECRET_KEY="fault-secret"))
    browser = signed_in(server.port, instance.screeners[0])
    key = new_draft(browser)
    fill_draft(browser, key)
    token = browser.token(f"/intake/{key}/review")

    pg_cluster.stop("fast")
    down = browser.post(f"/intake/{key}/submit", {"csrf_token": token})
    assert down.status == 503, down.body[:2000]
    assert "La base de datos no responde" in down.body
    assert "Su borrador está guardado" in down.body
    assert "Traceback" not in down.body
    browser.language = "en"
    down_en = browser.post(f"/intake/{key}/submit", {"csrf_token": token})
    assert down_en.status == 503
    assert "The database is not answering" in down_en.body
    assert "Your draft is saved" in down_en.body
    browser.language = "es"

    pg_cluster.start()
    # The app recovers by itself: stale pooled connections are pinged and replaced.
    for _ in range(10):  # every request lands on one of the two workers; none may fail
        page = browser.get(f"/intake/{key}/review")
        assert page.status == 200, page.body[:500]
    assert count(pg_cluster.url, "case_file") == 0, "no partial case while the database was down"
    notes = query(pg_cluster.url, f"SELECT data FROM intake_draft WHERE key = '{key}'")
    assert notes and notes[0][0]["notes"] == "Habla poco.", "the draft is still there"

    done = browser.post(f"/intake/{key}/submit", {"csrf_token": token})
    assert done.status == 302 and done.location.startswith("/cases/"), done.body[:500]
    assert count(pg_cluster.url, "case_file") == 1
    assert half_written(pg_cluster.url) == {}


def test_postgres_killed_while_submissions_are_in_flight(
    tmp_path: Path, pg_cluster: PgCluster, start_server: Callable[..., Server]
) -> None:
    """Stopped with ``-m immediate`` while 8 submissions run: each is whole or absent."""
    instance = prepare_instance(tmp_path / "instance", pg_cluster.url, screeners=8)
    server = start_server(instance.env(REFERRAL_SECRET_KEY="fault-secret"))
    ready: list[tuple[Browser, str, str]] = []
    for email in instance.screeners:
        browser = signed_in(server.port, email)
        key = new_draft(browser)
        fill_draft(browser, key)
        ready.append((browser, key, browser.token(f"/intake/{key}/review")))

    answers: list[Answer] = []
    start = threading.Barrier(len(ready) + 1, timeout=30)

    def send(browser: Browser, key: str, token: str) -> None:
        start.wait()
        answers.append(browser.post(f"/intake/{key}/submit", {"csrf_token": token}))

    threads = [threading.Thread(target=send, args=item, daemon=True) for item in ready]
    for thread in threads:
        thread.start()
    start.wait()
    time.sleep(0.05)
    pg_cluster.stop("immediate")
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == len(ready)
    assert {a.status for a in answers} <= {302, 503}, [(a.status, a.body[:300]) for a in answers]

    pg_cluster.start()
    stored = count(pg_cluster.url, "case_file")
    assert stored >= sum(1 for a in answers if a.status == 302)
    assert half_written(pg_cluster.url) == {}
    # Every screener can submit again; drafts that made a case go to that case.
    for browser, key, token in ready:
        again = browser.post(f"/intake/{key}/submit", {"csrf_token": token})
        assert again.status == 302 and again.location.startswith("/cases/"), again.body[:300]
    assert count(pg_cluster.url, "case_file") == len(ready)
    assert half_written(pg_cluster.url) == {}


# --- (b) the server is killed in the middle of the load -----------------------------------


def test_server_killed_mid_load_leaves_nothing_half_written(
    tmp_path: Path, scale_database_url: str, start_server: Callable[..., Server]
) -> None:
    instance = prepare_instance(
        tmp_path / "instance", scale_database_url, screeners=10, supervisors=2
    )
    env = instance.env(REFERRAL_SECRET_KEY="fault-secret")
    server = start_server(env)
    killed: list[float] = []

    def kill_mid_load(elapsed: float, progress: LoadResult) -> None:
        if not killed and (progress.submitted >= 20 or elapsed >= 20):
            server.kill()
            killed.append(elapsed)

    result = run_load(
        server.port, instance.screeners, instance.supervisors, seconds=30, on_tick=kill_mid_load
    )
    assert killed, "the server was not killed"
    assert result.server_errors == [], result.server_errors[:3]
    assert result.submitted > 0

    restarted = start_server(env)
    stored = count(scale_database_url, "case_file")
    # Every answered submission is stored; at most one in flight per screener may be too.
    assert result.submitted <= stored <= result.submitted + len(instance.screeners)
    assert half_written(scale_database_url) == {}

    after = run_load(restarted.port, instance.screeners[:4], instance.supervisors, seconds=4)
    assert after.server_errors == [] and after.failures == []
    assert count(scale_database_url, "case_file") == stored + after.submitted
    assert half_written(scale_database_url) == {}


# --- (c) a retried submission never makes two cases ---------------------------------------


def press(
    gate: threading.Barrier, answers: list[Answer], tab: Browser, key: str, token: str
) -> None:
    """Press "submit" in one tab at the same moment as another tab."""
    gate.wait()
    answers.append(tab.post(f"/intake/{key}/submit", {"csrf_token": token}))


def test_retried_and_concurrent_submissions_make_one_case(
    tmp_path: Path, scale_database_url: str, start_server: Callable[..., Server]
) -> None:
    instance = prepare_instance(tmp_path / "instance", scale_database_url, screeners=1)
    server = start_server(instance.env(REFERRAL_SECRET_KEY="fault-secret"))
    browser = signed_in(server.port, instance.screeners[0])

    key = new_draft(browser)
    fill_draft(browser, key)
    token = browser.token(f"/intake/{key}/review")
    first = browser.post(f"/intake/{key}/submit", {"csrf_token": token})
    # The screener pressed the button again, or the browser resent the form after a timeout.
    again = browser.post(f"/intake/{key}/submit", {"csrf_token": token})
    assert first.status == again.status == 302
    assert first.location == again.location and first.location.startswith("/cases/")

    drafts = 6
    for _ in range(drafts):  # two tabs of one session submit the same draft at once
        key = new_draft(browser)
        fill_draft(browser, key)
        token = browser.token(f"/intake/{key}/review")
        tabs = [Browser(server.port) for _ in range(2)]
        for tab in tabs:
            tab.cookies = dict(browser.cookies)
        gate = threading.Barrier(2, timeout=30)
        answers: list[Answer] = []

        threads = [
            threading.Thread(target=press, args=(gate, answers, tab, key, token), daemon=True)
            for tab in tabs
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert [a.status for a in answers] == [302, 302], [a.body[:300] for a in answers]
        assert answers[0].location == answers[1].location
    assert count(scale_database_url, "case_file") == 1 + drafts
    assert half_written(scale_database_url) == {}


# --- (d) SQLite under concurrent writers --------------------------------------------------


def test_sqlite_never_answers_database_is_locked(
    tmp_path: Path, start_server: Callable[..., Server]
) -> None:
    """24 writers on both workers: autosaves, sections, submits, case views (which write)."""
    url = "sqlite:///" + str(tmp_path / "hammer.db")
    instance = prepare_instance(tmp_path / "instance", url, screeners=24)
    server = start_server(instance.env(REFERRAL_SECRET_KEY="fault-secret"))
    answers: list[Answer] = []
    errors: list[str] = []
    lock = threading.Lock()
    # The 15 s of writing start when every writer has signed in (argon2 is slow on purpose,
    # and a busy machine must not spend the test's time on it).
    deadline = [0.0]

    def start_clock() -> None:
        deadline[0] = time.monotonic() + 15

    ready = threading.Barrier(len(instance.screeners), action=start_clock, timeout=180)

    def writer(email: str) -> None:
        try:
            browser = signed_in(server.port, email)
            key = new_draft(browser)
            token = browser.token(f"/intake/{key}/encounter")
            ready.wait()
            for number in range(2_000):
                if time.monotonic() >= deadline[0]:
                    return
                if number % 10 == 9:
                    fill_draft(browser, key)
                    done = submit(browser, key)
                    shown = browser.get(done.location)
                    key = new_draft(browser)
                    token = browser.token(f"/intake/{key}/encounter")
                    got = [done, shown]
                else:
                    data = {"csrf_token": token, "_section": "legal", "notes": f"nota {number}"}
                    got = [browser.post(f"/intake/{key}/autosave", data)]
                with lock:
                    answers.extend(got)
        except Exception as exc:
            ready.abort()  # the others stop waiting for a writer that will never come
            with lock:
                errors.append(repr(exc))

    threads = [threading.Thread(target=writer, args=(e,), daemon=True) for e in instance.screeners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    assert len(answers) > 100
    bad = [(a.status, a.body[:300]) for a in answers if a.status >= 500 or "locked" in a.body]
    assert bad == []
    assert "database is locked" not in server.log_text()
    assert half_written(url) == {}


# --- (e) two workers start at once on an empty instance -----------------------------------


def test_two_workers_on_an_empty_instance_agree_and_migrate_once(
    tmp_path: Path, scale_database_url: str, start_server: Callable[..., Server]
) -> None:
    from referral import create_app, migrate
    from referral.auth import operations as ops
    from referral.db import get_db
    from tests.scale.conftest import server_env

    instance = tmp_path / "empty-instance"
    server = start_server(server_env(instance, scale_database_url))  # no secret key given
    answers: list[Answer] = []
    threads = [
        threading.Thread(target=lambda: answers.append(Browser(server.port).get("/sign-in")))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [a.status for a in answers] == [200] * 8

    secret = (instance / "secret_key").read_text()
    assert len(secret.strip()) == 64 and secret.count("\n") == 1
    versions = query(scale_database_url, "SELECT version_num FROM alembic_version")
    app = create_app({"DATABASE_URL": scale_database_url, "INSTANCE_PATH": str(instance)})
    try:
        assert app.config["SECRET_KEY"] == secret.strip()
        assert [v[0] for v in versions] == [migrate.head_revision(get_db(app).writer)]
        assert count(scale_database_url, "state") == 32  # the seeds were loaded once
        with app.app_context(), get_db(app).transaction() as session:
            data = ops.AccountData(
                email="first@scale.example.org", role="screener", states=[], national=True
            )
            ops.create_user(session, data, PASSWORD, actor_id=None)
    finally:
        get_db(app).dispose()

    # One sign-in is honoured by both workers: they share one secret key.
    browser = signed_in(server.port, "first@scale.example.org")
    pages = [browser.get("/intake") for _ in range(20)]
    assert [p.status for p in pages] == [200] * 20
