"""referral/db.py: instants come back aware in UTC; long reads see one snapshot."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from referral.audit.models import AuditEvent
from referral.db import Database, get_db

MEXICO_CITY = ZoneInfo("America/Mexico_City")


def stored_and_read_back(app, moment: datetime) -> datetime:
    with get_db(app).transaction() as session:
        event = AuditEvent(action="test_event", at=moment)
        session.add(event)
        session.flush()
        session.expunge_all()  # read the row itself, not the object in memory
        return session.exec(select(AuditEvent.at).where(AuditEvent.id == event.id)).one()


def test_an_instant_comes_back_aware_in_utc(app) -> None:
    local = datetime(2024, 2, 29, 23, 30, tzinfo=MEXICO_CITY)
    back = stored_and_read_back(app, local)
    assert back == local
    assert back.tzinfo is UTC
    assert back == datetime(2024, 3, 1, 5, 30, tzinfo=UTC)


def test_a_naive_instant_is_taken_as_utc(app) -> None:
    assert stored_and_read_back(app, datetime(2024, 3, 1, 5, 30)) == datetime(
        2024, 3, 1, 5, 30, tzinfo=UTC
    )


def test_comparisons_use_the_instant_not_the_wall_time(app) -> None:
    """Half past five in the morning UTC is still the day before in Mexico City."""
    stored_and_read_back(app, datetime(2024, 3, 1, 5, 30, tzinfo=UTC))
    march_first_local = datetime(2024, 3, 1, tzinfo=MEXICO_CITY)
    events = select(AuditEvent.id).where(AuditEvent.action == "test_event")
    with get_db(app).session() as session:
        since_march = session.exec(events.where(col(AuditEvent.at) >= march_first_local)).all()
        in_february = session.exec(events.where(col(AuditEvent.at) < march_first_local)).all()
    assert (len(since_march), len(in_february)) == (0, 1)


@pytest.mark.postgres
def test_a_snapshot_read_is_repeatable_and_read_only(postgres_url: str) -> None:
    database = Database(postgres_url)
    try:
        with database.transaction(write=False, snapshot=True) as session:
            level = session.execute(text("SHOW transaction_isolation")).scalar_one()
            read_only = session.execute(text("SHOW transaction_read_only")).scalar_one()
        assert (level, read_only) == ("repeatable read", "on")
        with database.transaction(write=False) as session:  # the pooled connection is reset
            level = session.execute(text("SHOW transaction_isolation")).scalar_one()
            read_only = session.execute(text("SHOW transaction_read_only")).scalar_one()
        assert (level, read_only) == ("read committed", "off")
    finally:
        database.dispose()
