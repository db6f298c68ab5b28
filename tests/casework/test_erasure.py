"""Erasure and retention: nothing of an erased case remains in any table but its audit
tombstone, on SQLite and PostgreSQL; `cases erase` and `retention run` for the console."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import MetaData, inspect, select, update
from sqlmodel import Session, SQLModel
from sqlmodel import select as model_select

from referral.audit.models import AuditEvent
from referral.casework import lifecycle, workflow
from referral.casework.drafts import start_draft
from referral.casework.models import Case, Referral
from referral.clocks.operations import record_child_notice
from referral.db import get_db, utcnow
from referral.provider.operations import issue_answer_link
from tests.factories import referred_case

# Values that only this case holds: each must be gone after the erasure.
NOTES = "Notas-ERASE-ME-ocelote"
PROVIDER = "Proveedor-ERASE-ME-tapir"
EVENT_NOTE = "Nota-ERASE-ME-quetzal"
RESPONDER = "Persona-ERASE-ME-ajolote"
CLOSING = "Cierre-ERASE-ME-jaguar"
DRAFT_NOTE = "Borrador-ERASE-ME-coati"
AUTHORITY = "Autoridad-ERASE-ME-cacomixtle"
DISTINCT = (NOTES, PROVIDER, EVENT_NOTE, RESPONDER, CLOSING, DRAFT_NOTE, AUTHORITY)


def build_case(app: Flask, screener: Any, admin: Any) -> str:
    """A case with every kind of row: screening, referrals with events and notes, gaps,
    drafts (a re-screening in progress and the submitted one), closure and its note."""
    code = referred_case(app, screener.id, notes=NOTES, ad_hoc_provider=PROVIDER)
    with app.app_context(), get_db(app).transaction() as session:
        case = session.exec(model_select(Case).where(Case.code == code)).one()
        referral = session.exec(
            model_select(Referral).where(Referral.case_id == case.id, Referral.service_id != None)  # noqa: E711
        ).one()
        # The service's copy with its answer link (a token row), answered through it: the
        # screener is mailed (an outbox row holding the case code).
        issue_answer_link(session, referral, user_id=screener.id, days=14)
        # A child-protection notice recorded for the case (a clock's row).
        record_child_notice(
            session,
            case,
            authority="other",
            authority_other=AUTHORITY,
            notified_at=utcnow() - timedelta(hours=1),
            user_id=screener.id,
        )
        workflow.change_status(
            session,
            referral,
            status="rejected",
            reason_code="no_capacity",  # opens a declined gap
            expected_version=referral.version,
            user_id=None,
            answer=workflow.Answer(
                channel=workflow.EventChannel.link,
                note=EVENT_NOTE,
                responder_name=RESPONDER,
                responder_role="Coordinadora",
            ),
        )
        start_draft(session, screener.id, rescreen=case, data={"notes": DRAFT_NOTE, "age": "47"})
        submitted = start_draft(session, screener.id, data={"notes": DRAFT_NOTE})
        submitted.submitted_case_id = case.id
        session.add(submitted)
        lifecycle.close_case(session, case, reason="other", note=CLOSING, user_id=screener.id)
        lifecycle.reopen_case(session, case, note=CLOSING, user_id=admin.id)
    return code


def every_row(session: Session) -> list[tuple[str, dict[str, Any]]]:
    rows = []
    for table in SQLModel.metadata.sorted_tables:
        for row in session.execute(select(table)).mappings():
            rows.append((table.name, dict(row)))
    return rows


def referenced_ids(session: Session, code: str) -> dict[str, set[Any]]:
    """Per table, the key values of the case's rows (what foreign keys could point at)."""
    case_id = session.exec(model_select(Case.id).where(Case.code == code)).one()
    found: dict[str, set[Any]] = {}
    for table, condition in lifecycle.case_rows(case_id):
        keys = list(table.primary_key.columns)
        found[table.name] = {
            tuple(row) for row in session.execute(select(*keys).where(condition)).all()
        }
    return found


def test_metadata_knows_every_table_of_the_database(app: Flask) -> None:
    """Erasure walks SQLModel.metadata: a table it does not know would keep its rows."""
    with app.app_context(), get_db(app).transaction(write=False) as session:
        database = MetaData()
        database.reflect(session.connection())
    assert set(database.tables) - {"alembic_version"} <= set(SQLModel.metadata.tables)


def test_erasure_leaves_nothing_of_the_case_but_the_tombstone(app, make_user) -> None:
    screener, admin = make_user("screener"), make_user("admin", (), national=True)
    code = build_case(app, screener, admin)
    other = referred_case(app, screener.id, notes="Another person")
    with app.app_context(), get_db(app).transaction() as session:
        before = referenced_ids(session, code)
        assert {"case_file", "screening", "referral", "referral_event", "gap", "gap_reason"} <= {
            name for name, keys in before.items() if keys
        }
        assert len(before["intake_draft"]) == 2 and len(before["case_event"]) == 2
        # What the receiving service, the mail and the clocks keep of the case, too.
        assert before["answer_token"] and before["outbox_message"] and before["child_notice"]
        others_before = {name: len(keys) for name, keys in referenced_ids(session, other).items()}
        text = repr(every_row(session))
        assert all(value in text for value in DISTINCT)  # the search can find them
        case = session.exec(model_select(Case).where(Case.code == code)).one()
        erased = lifecycle.erase_case(session, case, reason="person_request", actor_id=admin.id)
        assert erased.rows["case_file"] == 1

    with app.app_context(), get_db(app).transaction(write=False) as session:
        rows = every_row(session)
        for name, row in rows:
            for column, value in row.items():
                for distinct in DISTINCT:
                    assert distinct not in str(value), (name, column)
                if code in str(value):
                    assert (name, column) == ("audit_event", "object_id"), (name, column)
        # No foreign key anywhere points at a row the case had.
        for table in SQLModel.metadata.sorted_tables:
            for fk in table.foreign_keys:
                gone = before.get(fk.column.table.name)
                if not gone or len(fk.column.table.primary_key.columns) != 1:
                    continue
                values = session.execute(select(fk.parent)).scalars().all()
                assert not {(v,) for v in values} & gone, (table.name, fk.parent.name)
        tombstone = session.execute(
            select(AuditEvent).where(AuditEvent.action == "case_erased")  # type: ignore[arg-type]
        ).scalar_one()
        assert (tombstone.object_kind, tombstone.object_id, tombstone.actor_id) == (
            "case",
            f"{code}:person_request",
            admin.id,
        )
        # The other case is whole.
        others_after = {name: len(keys) for name, keys in referenced_ids(session, other).items()}
        assert others_after == others_before


def test_cases_erase_command(app, runner, make_user) -> None:
    screener = make_user("screener")
    code = referred_case(app, screener.id)
    refused = runner.invoke(args=["cases", "erase", code, "--reason", "because"])
    assert refused.exit_code == 2
    unknown = runner.invoke(args=["cases", "erase", "RT-NONE", "--reason", "person_request"])
    assert unknown.exit_code == 2 and "No case has the code RT-NONE" in unknown.output
    done = runner.invoke(args=["cases", "erase", code, "--reason", "person_request"])
    assert done.exit_code == 0, done.output
    assert f"Erased case {code}" in done.output
    with app.app_context(), get_db(app).transaction(write=False) as session:
        assert session.exec(model_select(Case).where(Case.code == code)).first() is None
        tombstone = session.exec(
            model_select(AuditEvent).where(AuditEvent.action == "case_erased")
        ).one()
        assert tombstone.actor_id is None  # the console
    again = runner.invoke(args=["cases", "erase", code, "--reason", "person_request"])
    assert again.exit_code == 2


def close_days_ago(app: Flask, code: str, days: int, screener_id: int) -> None:
    with app.app_context(), get_db(app).transaction() as session:
        case = session.exec(model_select(Case).where(Case.code == code)).one()
        lifecycle.close_case(
            session, case, reason="services_completed", note=None, user_id=screener_id
        )
        session.execute(
            update(Case)
            .where(Case.id == case.id)  # type: ignore[arg-type]
            .values(closed_at=utcnow() - timedelta(days=days))
        )


def test_retention_run_erases_old_closed_cases_once(app_factory, make_user) -> None:
    app = app_factory(RETENTION_DAYS=30)
    runner = app.test_cli_runner()
    screener = make_user("screener")
    old, older, recent, still_open = (referred_case(app, screener.id) for _ in range(4))
    close_days_ago(app, old, 31, screener.id)
    close_days_ago(app, older, 400, screener.id)
    close_days_ago(app, recent, 29, screener.id)

    def codes() -> set[str]:
        with app.app_context(), get_db(app).transaction(write=False) as session:
            return set(session.exec(model_select(Case.code)).all())

    before = codes()
    dry = runner.invoke(args=["retention", "run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "2 cases closed more than 30 days ago would be erased" in dry.output
    assert codes() == before

    first = runner.invoke(args=["retention", "run"])
    assert first.exit_code == 0, first.output
    assert "Erased 2 cases" in first.output
    assert codes() == before - {old, older}
    assert {recent, still_open} <= codes()
    second = runner.invoke(args=["retention", "run"])
    assert "Erased 0 cases" in second.output
    with app.app_context(), get_db(app).transaction(write=False) as session:
        tombstones = session.exec(
            model_select(AuditEvent.object_id).where(AuditEvent.action == "case_erased")
        ).all()
    assert sorted(tombstones) == sorted([f"{old}:retention", f"{older}:retention"])


def test_retention_days_must_be_positive(monkeypatch) -> None:
    import pytest

    from referral import ConfigurationError, create_app

    monkeypatch.setenv("REFERRAL_RETENTION_DAYS", "0")
    with pytest.raises(ConfigurationError, match="RETENTION_DAYS"):
        create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": "sqlite://"})


def test_a_case_keeps_no_stray_rows_in_the_inspector(app: Flask) -> None:
    """Every table of the case's rows is a real table of the database (dialects agree)."""
    with app.app_context(), get_db(app).transaction(write=False) as session:
        names = set(inspect(session.connection()).get_table_names())
    assert {table.name for table, _c in lifecycle.case_rows(1)} <= names
