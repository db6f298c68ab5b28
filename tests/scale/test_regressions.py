"""Regressions found by the load tests, kept as quick tests of their own."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import select

from referral.auth.models import UserSession
from referral.db import get_db, utcnow
from tests.conftest import csrf_token


def test_a_write_after_a_minute_idle_does_not_wait_on_its_own_lock(
    isolated_database: str,
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., Any],
    login: Callable[..., Any],
) -> None:
    """The idle timer was touched in a second transaction while the request's own held
    SQLite's write lock: every form sent after a minute idle waited the busy timeout out and
    failed with "database is locked". Two transactions, so not inside the test's one."""
    app.config["SQLITE_BUSY_TIMEOUT"] = 2
    login(client, make_user("screener", national=True))
    token = csrf_token(client, "/intake")
    with app.app_context(), get_db(app).transaction() as session:
        for record in session.exec(select(UserSession)).all():
            record.last_seen_at = utcnow() - timedelta(minutes=5)
    started = time.monotonic()
    response = client.post("/intake", data={"csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert time.monotonic() - started < 2
    with app.app_context(), get_db(app).transaction() as session:
        seen = [r.last_seen_at for r in session.exec(select(UserSession)).all()]
    five_minutes_ago = utcnow() - timedelta(minutes=5)
    assert all(s > five_minutes_ago for s in seen), "the timer moved on"
