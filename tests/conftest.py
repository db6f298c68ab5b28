"""Fixtures: an app on a real database (SQLite by default, PostgreSQL when asked).

`REFERRAL_TEST_DATABASE_URL` runs the whole suite on that database (CI runs it once on
SQLite and once on PostgreSQL). `REFERRAL_TEST_POSTGRES_URL` names a PostgreSQL server
for the tests that need one whatever the main database is. With `CI=true`, a test that
needs PostgreSQL or a browser fails instead of skipping when it is missing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine, MetaData, create_engine, text

from referral import create_app, migrate
from referral.seeds.loader import SeedSet, apply_seeds, load_seed_set

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
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name != "alembic_version":
                conn.execute(table.delete())


@pytest.fixture
def app(migrated_database: str, seed_set: SeedSet, tmp_path: Path) -> Iterator[Flask]:
    instance = tmp_path / "instance"
    instance.mkdir()
    flask_app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": migrated_database,
            "SECRET_KEY": "test-secret-key",
            "AUTO_SETUP": False,
            "INSTANCE_PATH": str(instance),
        }
    )
    from referral.db import get_db

    database = get_db(flask_app)
    empty_all_tables(database.writer)
    with database.transaction() as session:
        apply_seeds(session, seed_set)
    yield flask_app
    database.dispose()
    shutil.rmtree(instance, ignore_errors=True)


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


@pytest.fixture
def api_headers(app: Flask) -> dict[str, str]:
    """Headers that authenticate an API request (a bearer token once accounts exist)."""
    return {}
