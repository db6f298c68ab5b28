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
