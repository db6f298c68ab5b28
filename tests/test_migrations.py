"""Every migration runs up and down on the suite's database (SQLite or PostgreSQL)."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from referral import migrate
from tests.conftest import reset_schema


def test_every_migration_up_and_down(tmp_path, isolated_database) -> None:
    """On PostgreSQL it runs on the suite's database (emptied and seeded again after it)."""
    url = isolated_database if "postgresql" in isolated_database else f"sqlite:///{tmp_path}/m.db"
    engine = create_engine(url)
    try:
        reset_schema(engine)
        script = ScriptDirectory.from_config(migrate.alembic_config(engine))
        revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
        assert revisions, "no migrations found"
        for revision in revisions:
            migrate.upgrade(engine, revision)
            assert migrate.current_revision(engine) == revision
        tables_at_head = set(inspect(engine).get_table_names())
        assert {"state", "service", "directory_version"} <= tables_at_head
        for previous in [*reversed(revisions[:-1]), "base"]:
            migrate.downgrade(engine, previous)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(engine)
        assert migrate.is_up_to_date(engine)
    finally:
        if "postgresql" in url:
            reset_schema(engine)
            migrate.upgrade(engine)
        engine.dispose()


def test_models_match_the_migrations(tmp_path) -> None:
    """Autogenerate finds nothing to add: the SQLModel tables and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    import referral.models  # noqa: F401

    engine = create_engine(f"sqlite:///{tmp_path}/cmp.db")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diff == []
