"""A module may share one connection between its tests (``db_connection`` at module scope)
to store a data set once: each test's own writes are still undone after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, select

from referral.auth.models import User
from referral.db import get_db
from tests.conftest import bound_app, rolled_back
from tests.factories import create_user


@pytest.fixture(scope="module")
def db_connection(test_engine) -> Iterator[Connection]:
    with rolled_back(test_engine) as connection:
        yield connection


@pytest.fixture(scope="module")
def shared_user(db_connection, seeded_database, tmp_path_factory) -> str:
    with bound_app(seeded_database, tmp_path_factory.mktemp("i"), db_connection) as app:
        return create_user(app, "screener", ("MX-CHP",), email="shared@example.org").email


def emails(app) -> set[str]:
    with get_db(app).session() as session:
        return set(session.execute(select(User.email)).scalars())


def test_a_test_sees_the_shared_data_and_its_own_writes(app, make_user, shared_user) -> None:
    make_user("screener", email="own@example.org")
    assert emails(app) == {shared_user, "own@example.org"}


def test_the_next_test_sees_the_shared_data_only(app, shared_user) -> None:
    assert emails(app) == {shared_user}
