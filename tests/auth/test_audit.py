"""The audit log: append-only codes, and the page admins and supervisors read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from referral.audit.models import AuditEvent
from referral.audit.operations import AppendOnlyError, AuditError, record_audit
from referral.auth.operations import utcnow
from referral.db import get_db


def add_events(app, actor_id: int) -> None:
    with get_db(app).transaction() as session:
        record_audit(
            session,
            "case_viewed",
            actor_id=actor_id,
            object_kind="case",
            object_id=41,
            state="MX-CHP",
        )
        record_audit(
            session,
            "case_created",
            actor_id=actor_id,
            object_kind="case",
            object_id=42,
            state="MX-GRO",
        )
        record_audit(
            session,
            "export_made",
            actor_id=actor_id,
            object_kind="export",
            object_id="stats-2024",
            state="MX-CHP",
        )


def rows(page: str) -> int:
    return page.count("<tr>") - 1  # minus the header row


def test_events_are_codes_only_and_append_only(app, make_user) -> None:
    user = make_user("screener")
    with get_db(app).transaction() as session:
        with pytest.raises(AuditError):
            record_audit(session, "free text goes here", actor_id=user.id)
        with pytest.raises(AuditError):
            record_audit(
                session,
                "case_viewed",
                actor_id=user.id,
                object_kind="case",
                object_id="María López, 15 años",
            )
        event = record_audit(
            session,
            "case_viewed",
            actor_id=user.id,
            object_kind="case",
            object_id=7,
            state="MX-CHP",
        )
    with get_db(app).transaction() as session:
        stored = session.get(AuditEvent, event.id)
        assert stored is not None
        stored.action = "case_changed"
        with pytest.raises(AppendOnlyError):
            session.flush()
        session.rollback()
    with get_db(app).transaction() as session:
        stored = session.get(AuditEvent, event.id)
        session.delete(stored)
        with pytest.raises(AppendOnlyError):
            session.flush()
        session.rollback()


def test_admin_sees_everything_and_filters(app, client, make_user, login) -> None:
    screener = make_user("screener", email="s@example.org")
    admin = make_user("admin", (), national=True)
    add_events(app, screener.id)
    login(client, admin)
    everything = client.get("/audit").get_data(as_text=True)
    assert "Inició sesión" in everything and "Caso consultado" in everything
    assert rows(client.get("/audit?action=case_created").get_data(as_text=True)) == 1
    assert rows(client.get("/audit?user=s@example.org").get_data(as_text=True)) == 3
    assert rows(client.get("/audit?object_kind=case&object_id=41").get_data(as_text=True)) == 1
    today = utcnow().date()
    assert (
        rows(
            client.get(f"/audit?user=s@example.org&since={today - timedelta(days=1)}").get_data(
                as_text=True
            )
        )
        == 3
    )
    future = today + timedelta(days=3)
    assert "Ningún evento" in client.get(f"/audit?since={future}").get_data(as_text=True)
    bad = client.get("/audit?since=yesterday&action=nonsense")
    assert bad.status_code == 200  # a bad filter is ignored and named, never a 500


def test_supervisors_see_only_their_states(app, client, make_user, login) -> None:
    screener = make_user("screener")
    supervisor = make_user("supervisor", ("MX-CHP",))
    add_events(app, screener.id)
    login(client, supervisor)
    page = client.get("/audit").get_data(as_text=True)
    assert rows(page) == 2  # the two Chiapas events; not Guerrero, not sign-ins
    assert "MX-GRO" not in page
    assert "<td>Inició sesión</td>" not in page
    with get_db(app).transaction(write=False) as session:
        assert len(session.exec(select(AuditEvent)).all()) >= 5


# --- reads that reveal people are audited (issue 16) --------------------------------------------


def events_of(app, action: str) -> list[AuditEvent]:
    with get_db(app).transaction(write=False) as session:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return list(session.exec(query).all())


def test_reads_that_reveal_people_leave_an_audit_event(app, make_user, login) -> None:
    from tests.test_security import refer_to_a_shelter

    screener = make_user("screener", ("MX-CHP",))
    supervisor = make_user("supervisor", ("MX-CHP",))
    _case, referral, _service = refer_to_a_shelter(app, screener)
    client = app.test_client()
    login(client, screener)
    assert client.get(f"/referrals/{referral.id}/sheet").status_code == 200
    [sheet] = events_of(app, "referral_sheet_viewed")
    assert (sheet.actor_id, sheet.object_kind, sheet.object_id, sheet.state) == (
        screener.id,
        "referral",
        str(referral.id),
        "MX-CHP",
    )
    assert client.get("/cases?page=2").status_code == 200
    [listed] = events_of(app, "case_list_viewed")
    assert (listed.actor_id, listed.object_kind, listed.object_id) == (
        screener.id,
        "case_list",
        "cases:page:2",
    )
    boss = app.test_client()
    login(boss, supervisor)
    answer = boss.get("/supervision/cases?panel=need&key=shelter kind of")
    assert answer.status_code == 200
    drill = events_of(app, "case_list_viewed")[-1]
    assert drill.actor_id == supervisor.id
    assert drill.object_id == "supervision:need:shelter_kind_of:page:1"


def test_an_admin_opening_a_confidential_entry_is_audited(app, make_user, login) -> None:
    admin = make_user("admin", (), national=True)
    supervisor = make_user("supervisor", ("MX-CHP",))
    with get_db(app).transaction(write=False) as session:
        from referral.directory.models import Service

        shelter = next(
            s for s in session.exec(select(Service)).all() if s.entry.get("confidential")
        )
        plain = next(
            s for s in session.exec(select(Service)).all() if not s.entry.get("confidential")
        )
    client = app.test_client()
    login(client, supervisor)
    client.get(f"/directory/{shelter.id}")  # a supervisor does not see the location
    assert events_of(app, "service_location_viewed") == []
    client = app.test_client()
    login(client, admin)
    client.get(f"/directory/{plain.id}")
    assert events_of(app, "service_location_viewed") == []
    client.get(f"/directory/{shelter.id}")
    client.get(f"/directory/{shelter.id}/edit")
    events = events_of(app, "service_location_viewed")
    assert [(e.actor_id, e.object_id) for e in events] == [(admin.id, shelter.id)] * 2


def test_console_exports_and_the_data_dictionary_are_audited(app, runner, make_user, login):
    assert runner.invoke(args=["cases", "export-jsonl"]).exit_code == 0
    assert runner.invoke(args=["directory", "export"]).exit_code == 0
    result = runner.invoke(
        args=["directory", "export", "--format", "hsds", "--withhold-confidential"]
    )
    assert result.exit_code == 0
    exports = [(e.actor_id, e.object_id) for e in events_of(app, "export_made")]
    assert exports == [
        (None, "cases:jsonl"),
        (None, "directory:json:full"),
        (None, "directory:hsds:shared"),
    ]
    supervisor = make_user("supervisor", ("MX-CHP",))
    client = app.test_client()
    login(client, supervisor)
    from tests.conftest import csrf_token

    token = csrf_token(client, "/stats")
    answer = client.post("/stats/dictionary.csv", data={"csrf_token": token})
    assert answer.status_code == 200
    last = events_of(app, "export_made")[-1]
    assert (last.actor_id, last.object_id, last.state) == (
        supervisor.id,
        "microdata-dictionary:csv:states1",
        "MX-CHP",
    )


# --- the database refuses changes to the audit log (issue 16) -------------------------------------


def one_event(app) -> int:
    with get_db(app).transaction() as session:
        return record_audit(
            session, "export_made", actor_id=None, object_kind="export", object_id=1
        ).id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET action = 'case_changed' WHERE id = :id",
        "UPDATE audit_event SET actor_id = NULL",
        "DELETE FROM audit_event WHERE id = :id",
        "DELETE FROM audit_event",
    ],
)
def test_direct_sql_cannot_change_or_delete_audit_rows(app, statement) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    event_id = one_event(app)
    database = get_db(app)
    with pytest.raises(DBAPIError, match="append-only"), database.transaction() as session:
        session.execute(text(statement), {"id": event_id})
    with database.session() as session:  # closed without commit: nothing is kept
        assert (
            session.execute(
                text("SELECT action FROM audit_event WHERE id = :id"), {"id": event_id}
            ).scalar()
            == "export_made"
        )
        session.execute(
            text("INSERT INTO audit_event (at, action) VALUES (CURRENT_TIMESTAMP, 'sign_in')")
        )  # inserting is what the log is for


def test_postgresql_refuses_truncate_too(app) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    database = get_db(app)
    if database.writer.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's (SQLite has none)")
    one_event(app)
    with pytest.raises(DBAPIError, match="append-only"), database.transaction() as session:
        session.execute(text("TRUNCATE audit_event"))


LATER_BATCH_MIGRATION = '''"""A later migration recreating audit_event (a test's)."""

from pathlib import Path

import sqlalchemy as sa
from alembic import op

from referral.audit import guard

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event", recreate="always") as batch:
        batch.add_column(sa.Column("later_column", sa.String(10), nullable=True))
    seen = Path(__file__).with_suffix(".seen")
    seen.write_text("installed" if guard.installed(op.get_bind()) else "dropped")


def downgrade() -> None:
    with op.batch_alter_table("audit_event", recreate="always") as batch:
        batch.drop_column("later_column")
'''


def test_a_later_sqlite_batch_migration_keeps_the_guard(tmp_path) -> None:
    import shutil

    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError

    from referral import migrate
    from referral.audit import guard

    engine = create_engine(f"sqlite:///{tmp_path}/later.db")
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO audit_event (at, action) VALUES (CURRENT_TIMESTAMP, 'sign_in')")
        )
    scripts = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    head = ScriptDirectory.from_config(migrate.alembic_config(engine)).get_current_head()
    (scripts / "versions" / "9999_later_batch.py").write_text(
        LATER_BATCH_MIGRATION.format(head=head)
    )
    config = migrate.alembic_config(engine)
    config.set_main_option("script_location", str(scripts))
    from alembic import command

    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    seen = (scripts / "versions" / "9999_later_batch.seen").read_text()
    assert seen == "dropped"  # the batch dropped the guard with the old table...
    with engine.connect() as conn:
        assert guard.installed(conn)  # ...and env.py put it back
        columns = list(conn.execute(text("SELECT * FROM audit_event")).keys())
        assert "later_column" in columns
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event"))
    with engine.begin() as conn:  # back below 0007, the guard is gone with its migration
        config.attributes["connection"] = conn
        before = ScriptDirectory.from_config(config).get_revision(guard.REVISION).down_revision
        command.downgrade(config, str(before))
    with engine.connect() as conn:
        assert not guard.installed(conn)
    engine.dispose()
