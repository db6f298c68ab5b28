"""The audit log names objects as people do and keeps each change's before and after."""

from __future__ import annotations

import pytest
from sqlmodel import select

from referral.audit.models import AuditEvent
from referral.audit.operations import AuditError, field_changes, record_audit
from referral.auth.operations import AccountData, update_user
from referral.casework.workflow import change_status
from referral.db import get_db
from tests.test_security import refer_to_a_shelter


def last_event(app, action: str, kind: str) -> AuditEvent:
    with get_db(app).transaction(write=False) as session:
        query = (
            select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.object_kind == kind)
            .order_by(AuditEvent.id.desc())  # type: ignore[union-attr]
        )
        return session.exec(query).first()


def test_field_changes_keep_codes_and_only_the_names_of_free_text() -> None:
    before = {"status": "requested", "name": "Casa", "states": ["MX-CHP"], "same": 1}
    after = {"status": "accepted", "name": "Casa Nueva", "states": ["MX-CHP", "MX-GRO"], "same": 1}
    assert field_changes(before, after, names_only=["name"]) == {
        "name": None,
        "states": [["MX-CHP"], ["MX-CHP", "MX-GRO"]],
        "status": ["requested", "accepted"],
    }
    # A value that is not a code (a sentence) is never kept, even when not named.
    assert field_changes({"note": "a"}, {"note": "se fue con su tía"}) == {"note": None}


def test_a_case_keeps_only_the_names_and_values_are_refused(app, make_user) -> None:
    user = make_user("screener")
    with get_db(app).transaction() as session, pytest.raises(AuditError):
        record_audit(
            session,
            "case_changed",
            actor_id=user.id,
            object_kind="case",
            object_id=1,
            changes={"state": ["MX-CHP", "MX-GRO"]},
        )
    with get_db(app).transaction() as session, pytest.raises(AuditError):
        record_audit(
            session,
            "referral_status_changed",
            actor_id=user.id,
            object_kind="referral",
            object_id=1,
            changes={"status": ["requested", "la señora dijo que no"]},
        )


def test_a_referral_status_change_shows_case_code_need_and_before_after(
    app, client, make_user, login
) -> None:
    screener = make_user("screener", ("MX-CHP",), email="ana@example.org")
    admin = make_user("admin", (), national=True)
    case, referral, service = refer_to_a_shelter(app, screener)
    with get_db(app).transaction() as session:
        change_status(
            session,
            session.get(type(referral), referral.id),
            status="rejected",
            reason_code="no_capacity",
            expected_version=referral.version,
            user_id=screener.id,
        )
    event = last_event(app, "referral_status_changed", "referral")
    assert event.changes == {
        "reason_code": [None, "no_capacity"],
        "status": ["requested", "rejected"],
    }
    login(client, admin)
    page = client.get(f"/audit?object_id={case.code.lower()}").get_data(as_text=True)
    assert case.code in page and service.id in page
    assert f">{referral.id}<" not in page  # the row id is not what people read
    assert "Albergue" in page or "Alojamiento" in page  # the need, labelled
    assert 'Solicitada</span> → <span class="after">Rechazada' in page
    # The case's own event is in the same filter, with only the names of what changed.
    assert "Caso creado" in page
    client.get("/language/en")
    english = client.get(f"/audit?object_id={case.code}").get_data(as_text=True)
    assert 'Requested</span> → <span class="after">Rejected' in english
    # Filter by person: the screener's name or email.
    by_email = client.get("/audit?user=ana@example.org&action=referral_status_changed")
    assert case.code in by_email.get_data(as_text=True)


def test_a_user_change_keeps_codes_and_only_the_name_of_the_display_name(
    app, client, make_user, login
) -> None:
    admin = make_user("admin", (), national=True)
    user = make_user("screener", ("MX-CHP",), email="luis@example.org")
    with get_db(app).transaction() as session:
        stored = session.get(type(user), user.id)
        update_user(
            session,
            stored,
            AccountData(
                email=stored.email,
                display_name="Luis Pérez",
                role="supervisor",
                states=["MX-CHP", "MX-GRO"],
                national=False,
                language=stored.language,
                active=True,
            ),
            actor_id=admin.id,
        )
    event = last_event(app, "user_changed", "user")
    assert event.changes["role"] == ["screener", "supervisor"]
    assert event.changes["states"] == [["MX-CHP"], ["MX-CHP", "MX-GRO"]]
    assert event.changes["display_name"] is None  # free text: only that it changed
    login(client, admin)
    client.get("/language/en")
    page = client.get("/audit?object_id=luis@example.org").get_data(as_text=True)
    assert "luis@example.org (Luis Pérez)" in page
    assert 'Screener</span> → <span class="after">Supervisor' in page
    assert "MX-CHP, MX-GRO" in page
    assert "<li>Name</li>" in page
    by_name = client.get("/audit?user=p%C3%A9rez").get_data(as_text=True)
    assert "No event matches these filters." in by_name  # Luis acted on nothing yet
    by_actor = client.get(f"/audit?user={admin.email}&action=user_changed")
    assert "luis@example.org" in by_actor.get_data(as_text=True)


def test_the_changes_column_migration_keeps_the_append_only_guard(tmp_path) -> None:
    from alembic import command
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.exc import DBAPIError

    from referral import migrate
    from referral.audit import guard

    engine = create_engine(f"sqlite:///{tmp_path}/changes.db")
    migrate.upgrade(engine)
    with engine.begin() as conn:
        assert "changes" in {c["name"] for c in inspect(conn).get_columns("audit_event")}
        assert guard.installed(conn)
        conn.execute(
            text("INSERT INTO audit_event (at, action) VALUES (CURRENT_TIMESTAMP, 'sign_in')")
        )
    config = migrate.alembic_config(engine)
    with engine.begin() as conn:  # down and up again: the batch may recreate the table
        config.attributes["connection"] = conn
        command.downgrade(config, "0013")
        command.upgrade(config, "head")
    with engine.connect() as conn:
        assert guard.installed(conn)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_event"))
    engine.dispose()
