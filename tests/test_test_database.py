"""The suite's database: each test runs in one transaction; ``isolated_database`` commits.

If these fail, tests leak rows into each other (or see only what was committed before them).
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select

from referral.auth.models import User
from referral.db import get_db
from referral.directory.models import State


def users_seen_from_outside(url: str) -> int:
    """Users committed in the database, as another connection sees them."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(User)).scalar_one()
    finally:
        engine.dispose()


def test_the_seeds_are_there_and_commits_stay_in_the_tests_transaction(
    app, client, make_user, login, seeded_database
) -> None:
    with get_db(app).session() as session:
        assert session.execute(select(func.count()).select_from(State)).scalar_one() == 32
    user = make_user("screener")  # committed by the app's own transaction()
    login(client, user)  # a request that writes and commits (the server-side session)
    with get_db(app).session() as session:
        assert session.get(User, user.id) is not None
    assert users_seen_from_outside(seeded_database) == 0


def test_a_rolled_back_unit_of_work_keeps_what_came_before(app, make_user) -> None:
    kept = make_user("screener")
    with pytest.raises(RuntimeError), get_db(app).transaction() as session:
        session.add(User(email="gone@example.org", role="screener", password_hash="x"))
        session.flush()
        raise RuntimeError("the unit of work fails")
    with get_db(app).session() as session:
        emails = set(session.execute(select(User.email)).scalars())
    assert emails == {kept.email}


def test_an_isolated_test_commits_for_real(isolated_database, app, make_user) -> None:
    make_user("screener")
    assert users_seen_from_outside(isolated_database) == 1
