"""The audit log's guard in the database: triggers refuse UPDATE and DELETE on audit_event
(and TRUNCATE on PostgreSQL), so not even direct SQL through the app's connection changes
the history. The ORM refuses first (referral.audit.operations); this is for everything else.

Created by migration 0007. On SQLite, a later batch migration that recreates audit_event
drops its triggers with the old table, so referral/migrations/env.py calls :func:`install`
again after every upgrade that ends at or past 0007 (it is idempotent).

What it does not stop: a database role that owns the table may drop the triggers. Run the
app with a role that does not own its tables (docs/security.md).
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, text

TABLE = "audit_event"
MESSAGE = "audit_event is append-only: its rows are never changed or deleted"
REVISION = "0007"  # the migration that first created the guard

SQLITE_TRIGGERS = {
    "audit_event_no_update": "UPDATE",
    "audit_event_no_delete": "DELETE",
}
PG_FUNCTION = "audit_event_append_only"
PG_TRIGGERS = {
    "audit_event_no_change": "BEFORE UPDATE OR DELETE ON audit_event FOR EACH ROW",
    "audit_event_no_truncate": "BEFORE TRUNCATE ON audit_event FOR EACH STATEMENT",
}


def install(connection: Connection) -> None:
    """Create the guard, or create it again if it is missing (safe to run any number of times)."""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text(
                f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege'; "
                "END $$"
            )
        )
        for name, when in PG_TRIGGERS.items():
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {TABLE}"))
            connection.execute(
                text(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION {PG_FUNCTION}()")
            )
        return
    for name, event in SQLITE_TRIGGERS.items():
        connection.execute(
            text(
                f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {event} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
        )


def remove(connection: Connection) -> None:
    """Drop the guard (the downgrade of migration 0007)."""
    if connection.dialect.name == "postgresql":
        for name in PG_TRIGGERS:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {TABLE}"))
        connection.execute(text(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()"))
        return
    for name in SQLITE_TRIGGERS:
        connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"))


def installed(connection: Connection) -> bool:
    """Whether every trigger of the guard exists."""
    if connection.dialect.name == "postgresql":
        query = text(
            "SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE c.relname = :table AND t.tgname = ANY(:names)"
        )
        found = connection.execute(query, {"table": TABLE, "names": list(PG_TRIGGERS)}).scalar()
        return found == len(PG_TRIGGERS)
    query = text(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table "
        "AND name IN :names"
    ).bindparams(bindparam("names", expanding=True))
    found = connection.execute(query, {"table": TABLE, "names": list(SQLITE_TRIGGERS)}).scalar()
    return found == len(SQLITE_TRIGGERS)
