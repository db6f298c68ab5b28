"""Alembic environment: runs on the connection handed over by referral.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, inspect
from sqlmodel import SQLModel

import referral.models  # noqa: F401  (registers every table on SQLModel.metadata)
from referral.audit import guard

config = context.config
target_metadata = SQLModel.metadata


def keep_audit_guard(connection: Connection) -> None:
    """Put the audit log's triggers back once the database is at or past the migration that
    made them: a SQLite batch migration that recreates audit_event drops them with the old
    table (idempotent; downgrades below that migration leave them dropped)."""
    current = context.get_context().get_current_revision()
    if current is None or not inspect(connection).has_table(guard.TABLE):
        return
    lineage = {script.revision for script in context.script.iterate_revisions(current, "base")}
    if guard.REVISION in lineage:
        guard.install(connection)


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
            keep_audit_guard(connection)
        return
    engine = create_engine(str(config.get_main_option("sqlalchemy.url")))
    with engine.connect() as conn:
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            render_as_batch=conn.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
            keep_audit_guard(conn)


run_migrations_online()
