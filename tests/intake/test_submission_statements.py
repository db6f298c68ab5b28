"""The statements one submission sends to the database, pinned (issue 17).

On PostgreSQL each statement is a round trip, and a submission is the screener's busiest
write: a change that adds one must show up here, with its reason, rather than slow intake
silently. The test's transaction adds SAVEPOINT statements of its own (and takes SQLite's
write lock with the first write instead of ``BEGIN IMMEDIATE``): those are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import select

from referral.audit.models import AuditEvent
from referral.casework.models import Case, Draft, Screening
from referral.db import get_db
from tests.factories import fill_all

ADULT_NOT_IN_DANGER = {
    "person": {"age": "30", "vulnerabilities": []},
    "needs": {"needs": ["shelter", "medical"], "immediate_danger": None},
}

# (verb, table) of each statement of a submission of a new case with no routing gap and no
# alert for supervisors: the same on SQLite and PostgreSQL. Seven of them are the submission's
# own; the listeners of `rows_inserted` (supervision: counts, loop clocks) add the rest.
NEW_CASE = [
    ("SELECT", "user_session"),  # the session check, with its user
    ("SELECT", "intake_draft"),  # the draft, locked, with the directory's newest change
    ("INSERT", "case_file"),  # with the id its first screening will have
    ("INSERT", "screening"),
    ("INSERT", "screening_form"),
    ("SELECT", "screening"),  # the dashboard's counts of the new rows (supervision)
    ("SELECT", "screening"),  # the loop panel's clocks of the new case: its screenings
    ("INSERT", "loop_clock"),  # idem (the default record is a foreign person's: reflection)
    ("INSERT", "aggregate_delta"),  # the dashboard's counts
    ("INSERT", "audit_event"),
    ("UPDATE", "intake_draft"),  # submitted: the case it made
]


def shape(statement: str) -> tuple[str, str]:
    verb = statement.split(None, 1)[0].upper()
    if verb == "SELECT":  # the table of the first column read
        table = re.match(r"\s*SELECT\s+\"?(\w+)\"?\.", statement, re.I) or re.search(
            r"\bFROM\s+\"?(\w+)", statement, re.I
        )
    elif verb == "INSERT":
        table = re.search(r"\bINTO\s+\"?(\w+)", statement, re.I)
    else:
        table = re.search(rf"\b{verb}\s+\"?(\w+)", statement, re.I)
    return verb, table.group(1) if table else "?"


@contextmanager
def statements_of(engine: Engine) -> Iterator[list[tuple[str, str]]]:
    seen: list[tuple[str, str]] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if not re.match(r"\s*(SAVEPOINT|RELEASE|ROLLBACK)\b", statement, re.I):
            seen.append(shape(statement))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


@pytest.fixture
def signed_in(client, make_user, login):
    login(client, make_user("screener", ("MX-CHP",)))
    return client


def test_a_submission_makes_eleven_statements(app, signed_in, test_engine) -> None:
    key = fill_all(signed_in, ADULT_NOT_IN_DANGER)
    token_page = signed_in.get(f"/intake/{key}/review")
    assert token_page.status_code == 200
    with statements_of(test_engine) as seen:
        response = submit_only(signed_in, key, token_page.get_data(as_text=True))
    assert response.status_code == 302 and "/cases/RT-" in response.headers["Location"]
    assert seen == NEW_CASE, "\n".join(f"{verb} {table}" for verb, table in seen)
    # What the statements wrote is the whole case: the screening the case points at, the
    # audit event, the draft marked submitted.
    with get_db(app).session() as session:
        draft = session.exec(select(Draft).where(Draft.key == key)).one()
        case = session.get(Case, draft.submitted_case_id)
        assert case is not None and case.latest_screening_id is not None
        screening = session.get(Screening, case.latest_screening_id)
        assert screening is not None and screening.case_id == case.id
        event_row = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "case_created", AuditEvent.object_id == str(case.id)
            )
        ).one()
        assert event_row.state == "MX-CHP" and event_row.actor_id == case.screener_id


def test_a_draft_submitted_twice_makes_one_case_and_no_second_write(signed_in, test_engine) -> None:
    key = fill_all(signed_in, ADULT_NOT_IN_DANGER)
    page = signed_in.get(f"/intake/{key}/review").get_data(as_text=True)
    first = submit_only(signed_in, key, page)
    assert first.status_code == 302
    with statements_of(test_engine) as seen:
        again = submit_only(signed_in, key, page)  # the same page, posted again
    assert again.headers["Location"] == first.headers["Location"]
    assert not [s for s in seen if s[0] in {"INSERT", "UPDATE", "DELETE"}], seen


def submit_only(client: Any, key: str, page: str) -> Any:
    """The submit POST alone (the review page, which gives its CSRF token, read before)."""
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    return client.post(f"/intake/{key}/submit", data={"csrf_token": token.group(1)})
