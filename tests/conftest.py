"""Fixtures: an app on a real database (SQLite by default, PostgreSQL when asked).

`REFERRAL_TEST_DATABASE_URL` runs the whole suite on that database (CI runs it once on
SQLite and once on PostgreSQL). `REFERRAL_TEST_POSTGRES_URL` names a PostgreSQL server
for the tests that need one whatever the main database is. With `CI=true`, a test that
needs PostgreSQL or a browser fails instead of skipping when it is missing.

The database is migrated and seeded once per session (committed). Each test then runs in
one transaction that is rolled back at its end (Warehouse's ``db_session`` pattern): the
app's sessions are bound to the test's connection (``Database.bind_to``) and their commits
become savepoints. A test that cannot run inside one transaction (a live server, threads,
a CLI in a subprocess, migrations, locks between transactions) asks for the
``isolated_database`` fixture: it commits for real, and the database is emptied and seeded
again after it.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Connection, Engine, MetaData, create_engine, text

from referral import create_app, migrate
from referral.db import Database, get_db, make_engine
from referral.directory.operations import apply_seeds
from referral.seeds.loader import SeedSet, load_seed_set

pytest_plugins = ["tests.browser_support"]

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip locally, fail in CI, when something a test needs is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def seed_set() -> SeedSet:
    return load_seed_set(SEEDS)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("REFERRAL_TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "referral.db")


def reset_schema(engine: Engine) -> None:
    """Drop every table and type so the migrations start from nothing."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        metadata = MetaData()
        metadata.reflect(engine)
        metadata.drop_all(engine)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session")
def migrated_database(database_url: str) -> Iterator[str]:
    engine = create_engine(database_url)
    reset_schema(engine)
    migrate.upgrade(engine)
    engine.dispose()
    yield database_url


def empty_all_tables(engine: Engine) -> None:
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.begin() as conn, audit_guard_lifted(conn):
        for table in reversed(metadata.sorted_tables):
            if table.name != "alembic_version":
                conn.execute(table.delete())


@contextmanager
def audit_guard_lifted(conn: Connection) -> Iterator[None]:
    """Emptying the tables empties the audit log too: its guard (triggers refusing UPDATE and
    DELETE, referral/audit/guard.py) is dropped for the cleanup and put back in the same
    transaction, so no test ever runs without it."""
    from referral.audit import guard

    present = guard.installed(conn)
    if present:
        guard.remove(conn)
    yield
    if present:
        guard.install(conn)


def load_seeds(url: str, seed_set: SeedSet) -> None:
    """Empty every table and load the seeds, committed."""
    database = Database(url)
    try:
        empty_all_tables(database.writer)
        with database.transaction() as session:
            apply_seeds(session, seed_set)
    finally:
        database.dispose()


@pytest.fixture(scope="session")
def seeded_database(migrated_database: str, seed_set: SeedSet) -> str:
    """The migrated database with the seeds committed: what every test starts from."""
    load_seeds(migrated_database, seed_set)
    return migrated_database


@pytest.fixture(scope="session")
def test_engine(seeded_database: str) -> Iterator[Engine]:
    """The engine of the tests' connections (a plain ``BEGIN`` on SQLite: no write lock
    until the test writes)."""
    engine = make_engine(seeded_database)
    yield engine
    engine.dispose()


@pytest.fixture
def isolated_database(seeded_database: str, seed_set: SeedSet) -> Iterator[str]:
    """Opt out of the per-test transaction: the test's commits are real, and the database
    is emptied and seeded again after it."""
    yield seeded_database
    load_seeds(seeded_database, seed_set)


@contextmanager
def rolled_back(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back at the end, whatever happened."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            if transaction.is_active:
                transaction.rollback()


@pytest.fixture
def db_connection(test_engine: Engine) -> Iterator[Connection]:
    """The connection every session of a test joins, rolled back after the test.

    A module may override it with ``scope="module"`` to store an expensive data set once
    (with ``bound_app``): each of its tests still runs in a savepoint of its own.
    """
    with rolled_back(test_engine) as connection:
        yield connection


def app_for(url: str, instance: Path, **config: Any) -> Flask:
    """An app of the suite on ``url``; ``config`` goes over the suite's settings."""
    instance.mkdir(parents=True, exist_ok=True)
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret-key",
            "AUTO_SETUP": False,
            "INSTANCE_PATH": str(instance),
            **TEST_ARGON2,
            # Signing in hundreds of times from 127.0.0.1 is the suite, not an attack: the
            # rate limits and the second factor have their own tests (tests/auth).
            "RATELIMIT_ENABLED": False,
            "SECOND_FACTOR": "none",
            **config,
        }
    )


@contextmanager
def bound_app(url: str, instance: Path, connection: Connection) -> Iterator[Flask]:
    """An app whose sessions all join ``connection``'s transaction (their commits become
    savepoints)."""
    flask_app = app_for(url, instance)
    database = get_db(flask_app)
    try:
        with database.bind_to(connection):
            yield flask_app
    finally:
        database.dispose()


@pytest.fixture
def app_factory(
    request: pytest.FixtureRequest, seeded_database: str, tmp_path: Path
) -> Iterator[Callable[..., Flask]]:
    """``app_factory(**config)``: an app on the test's database, with ``config`` over the
    suite's settings. Every app of a test shares its transaction (rolled back after it), or,
    when the test asked for ``isolated_database``, commits for real."""
    connection: Connection | None = None
    with ExitStack() as undo:
        if "isolated_database" in request.fixturenames:
            request.getfixturevalue("isolated_database")  # set up first, so restored last
        else:
            connection = request.getfixturevalue("db_connection")
            # Undone after the test, also when its module shares one connection between tests.
            savepoint = connection.begin_nested()
            undo.callback(lambda: savepoint.rollback() if savepoint.is_active else None)
        undo.callback(shutil.rmtree, tmp_path / "instances", ignore_errors=True)
        made = 0

        def make(**config: Any) -> Flask:
            nonlocal made
            made += 1
            flask_app = app_for(seeded_database, tmp_path / "instances" / str(made), **config)
            database = get_db(flask_app)
            undo.callback(database.dispose)
            if connection is not None:
                undo.enter_context(database.bind_to(connection))
            return flask_app

        yield make


@pytest.fixture
def app(app_factory: Callable[..., Flask]) -> Flask:
    """The app on the seeded database, inside the test's transaction unless the test asked
    for ``isolated_database``."""
    return app_factory()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("REFERRAL_TEST_POSTGRES_URL")
    require(bool(url), "REFERRAL_TEST_POSTGRES_URL is not set (no PostgreSQL server)")
    assert url is not None
    return url


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("REFERRAL_CHROMIUM", "/usr/bin/chromium")
    require(Path(path).exists(), f"no Chromium at {path} (apt-get install chromium)")
    return path


# --- accounts (issue 4) -------------------------------------------------------------------

PASSWORD = "correct horse battery staple"
# Cheap argon2id for tests; the rehash test checks that real parameters take over.
TEST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8192, "ARGON2_PARALLELISM": 1}
_CSRF_INPUT = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'type="hidden" name="csrf_token" value="([^"]+)"|'
    r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"'
)


def csrf_token(client: FlaskClient, path: str = "/sign-in") -> str:
    """The CSRF token of the form on ``path`` (as a browser would read it from the page)."""
    page = client.get(path).get_data(as_text=True)
    match = _CSRF_INPUT.search(page)
    assert match, f"no CSRF token on {path}"
    return next(group for group in match.groups() if group)


@pytest.fixture
def make_user(app: Flask) -> Callable[..., Any]:
    """``make_user(role="screener", states=("MX-CHP",), email=None, national=False, ...)``.

    Creates an account through the same operation as the CLI; its password is ``PASSWORD``.
    """
    from tests.factories import create_user

    counter = iter(range(1, 10_000))

    def make(
        role: str = "screener",
        states: tuple[str, ...] | list[str] = ("MX-CHP",),
        *,
        email: str | None = None,
        **account: Any,
    ) -> Any:
        return create_user(
            app, role, states, email=email or f"{role}{next(counter)}@example.org", **account
        )

    return make


@pytest.fixture
def login() -> Callable[..., Any]:
    """``login(client, user, password=PASSWORD)`` signs in through the real sign-in form."""

    def sign_in(client: FlaskClient, user: Any, password: str = PASSWORD) -> Any:
        token = csrf_token(client, "/sign-in")
        response = client.post(
            "/sign-in", data={"csrf_token": token, "email": user.email, "password": password}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return sign_in


@pytest.fixture
def api_token(app: Flask) -> Callable[[Any], str]:
    """``api_token(user)`` issues a bearer token for that user, as `users token` does."""
    from referral.auth import operations as ops

    def issue(user: Any) -> str:
        with app.app_context(), get_db(app).transaction() as session:
            return ops.issue_token(session, user, actor_id=None)

    return issue


@pytest.fixture
def api_headers(make_user: Callable[..., Any], api_token: Callable[[Any], str]) -> dict[str, str]:
    """Headers that authenticate an API request: a national screener's bearer token."""
    user = make_user("screener", (), national=True, email="api-client@example.org")
    return {"Authorization": f"Bearer {api_token(user)}"}
