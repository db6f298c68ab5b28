"""Drafts, submission and re-screening: state changes only (they flush; the request commits).

A draft becomes a case through :func:`submit_draft`, which validates the screening record
with the rules core, routes it, stores the result with its ``rules_version`` and records a
routing gap for every need with no option. Bulk import stores records through the same
:func:`store_screening`, so a record means the same thing however it arrives.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from blinker import Namespace
from sqlalchemy import func, insert, select
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session

from referral.audit.operations import field_changes, insert_audit, record_audit
from referral.casework.models import Case, Screening, ScreeningForm
from referral.casework.rows import CaseDetails, case_row, form_rows, screening_row
from referral.casework.workflow import follow_case, open_new_case_gaps, reroute_gaps
from referral.db import utcnow
from referral.rules import (
    Catalogue,
    RoutingResult,
    ScreeningRecord,
    route_case,
    validate_record,
)

__all__ = ["CaseDetails", "new_case_code", "route_again", "store_screening"]

# Case codes: 12 characters from an alphabet without look-alikes (60 bits of randomness).
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_PREFIX = "RT-"


def new_case_code() -> str:
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{CODE_PREFIX}{body[:4]}-{body[4:8]}-{body[8:]}"


def store_screening(
    session: Session,
    record: ScreeningRecord,
    catalogue: Catalogue,
    *,
    screener_id: int,
    details: CaseDetails,
    case: Case | None = None,
    code: str | None = None,
    screened_at: datetime | None = None,
    lang: str = "es",
) -> tuple[Case, Screening, RoutingResult]:
    """Route ``record`` and store it as a new case, or as a re-screening of ``case``."""
    when = screened_at or utcnow()
    result = route_case(record, catalogue)
    if case is None:
        case, screening = insert_new_case(
            session,
            record,
            result,
            code=code or new_case_code(),
            screener_id=screener_id,
            details=details,
            when=when,
            lang=lang,
        )
        insert_audit(
            session,
            "case_created",
            actor_id=screener_id,
            object_kind="case",
            object_id=case.id,
            state=case.state,
        )
        return case, screening, result
    before = _case_fields(case)
    case.state = record.state
    case.consent_referral = details.consent_referral
    case.consent_statistics = details.consent_statistics
    if details.notes is not None:
        case.notes = details.notes or None
    case.latest_status = result.status
    case.updated_at = utcnow()
    # Only the names: a case's values are personal data that erasure must remove.
    changed: dict[str, None] = dict.fromkeys(field_changes(before, _case_fields(case)))
    changed["screening"] = None
    screening = Screening(
        **screening_row(
            record,
            result,
            screener_id=screener_id,
            when=when,
            lang=lang,
            case_id=case.id,
            answers=details.answers,
        )
    )
    session.add(screening)
    session.flush()
    for row in form_rows(screening.id, result):
        session.add(ScreeningForm(**row))
    case.latest_screening_id = screening.id
    session.add(case)
    if case.state != before["state"]:  # the case's referrals follow it to its new state
        follow_case(session, case)
    # A new routing closes (rerouted) or updates the case's open routing gaps (CONTRACT 5).
    reroute_gaps(
        session,
        case,
        {gap.need: list(gap.reasons) for gap in result.gaps},
        {need for need, options in result.options.items() if options},
        screening_id=screening.id,
        when=when,
    )
    session.flush()
    record_audit(
        session,
        "case_changed",
        actor_id=screener_id,
        object_kind="case",
        object_id=case.id,
        state=case.state,
        changes=changed or None,
    )
    return case, screening, result


def _case_fields(case: Case) -> dict[str, object]:
    """The case's fields a re-screening may change (compared, never logged)."""
    return {
        "state": case.state,
        "consent_referral": case.consent_referral,
        "consent_statistics": case.consent_statistics,
        "notes": case.notes,
        "latest_status": case.latest_status,
    }


# Sent with the session and the ids of rows written by Core INSERTs (a new case, its
# screening and routing gaps), which no session flush sees. Features that derive numbers
# from those rows listen; casework imports none of them.
rows_inserted = Namespace().signal("casework-rows-inserted")

CASES, SCREENINGS = Case.__table__, Screening.__table__  # type: ignore[attr-defined]
# The case and its first screening point at each other. The case is inserted with the id its
# screening will have, taken in the same statement, so no UPDATE has to follow: PostgreSQL
# takes it from the screening's sequence; SQLite gives a new row the largest id plus one, and
# a transaction that has written holds the database's write lock until it ends (the app's
# writers take it at BEGIN IMMEDIATE), so nobody else inserts a screening in between.
NEXT_SCREENING_ID = {
    "postgresql": func.nextval(func.pg_get_serial_sequence(SCREENINGS.name, "id")),
    "sqlite": select(func.coalesce(func.max(SCREENINGS.c.id), 0) + 1).scalar_subquery(),
}
INSERT_CASE = {
    dialect: insert(CASES)
    .values(latest_screening_id=next_id)
    .returning(CASES.c.id, CASES.c.latest_screening_id)
    for dialect, next_id in NEXT_SCREENING_ID.items()
}
INSERT_SCREENING = insert(SCREENINGS)
INSERT_FORM = insert(ScreeningForm.__table__)  # type: ignore[attr-defined]


def insert_new_case(
    session: Session,
    record: ScreeningRecord,
    result: RoutingResult,
    *,
    code: str,
    screener_id: int,
    details: CaseDetails,
    when: datetime,
    lang: str,
) -> tuple[Case, Screening]:
    """A new case with its first screening, forms and routing gaps, in Core INSERTs (a new
    case has nothing for the ORM to merge with, and its flushes cost a third of an intake).
    The case and screening come back as persistent objects of the session, read nothing."""
    case_values = case_row(
        record, result, code=code, screener_id=screener_id, details=details, when=when
    )
    # Statements with bound parameters on the session's connection: compiled once, cached.
    connection = session.connection()
    inserted = connection.execute(INSERT_CASE[connection.dialect.name], case_values).one()
    case_id, screening_id = inserted
    screening_values = screening_row(
        record,
        result,
        screener_id=screener_id,
        when=when,
        lang=lang,
        case_id=case_id,
        answers=details.answers,
    )
    connection.execute(INSERT_SCREENING, {"id": screening_id, **screening_values})
    forms = form_rows(screening_id, result)
    if forms:
        connection.execute(INSERT_FORM, forms)
    gap_ids = open_new_case_gaps(
        connection,
        case_id,
        record.state,
        {gap.need: list(gap.reasons) for gap in result.gaps},
        screening_id=screening_id,
        when=when,
    )
    # No flush sees these rows: tell who keeps numbers of them (the dashboard's counts).
    rows_inserted.send(session, case_ids=[case_id], screening_ids=[screening_id], gap_ids=gap_ids)
    case = Case(id=case_id, latest_screening_id=screening_id, **case_values)
    screening = Screening(id=screening_id, **screening_values)
    for made in (case, screening):
        make_transient_to_detached(made)
        session.add(made)
    return case, screening


def route_again(
    session: Session,
    case: Case,
    screening: Screening,
    catalogue: Catalogue,
    *,
    screener_id: int,
    lang: str = "es",
) -> tuple[Screening, RoutingResult]:
    """Route the same answers under today's rules and directory: a new screening of the case,
    the old one kept; the case's open routing gaps close or change (CONTRACT section 5).
    Raises RecordInvalid if the stored answers no longer pass today's code lists."""
    record = validate_record(screening.record, catalogue.codes)
    details = CaseDetails(
        consent_referral=case.consent_referral,
        consent_statistics=case.consent_statistics,
        answers=screening.answers,  # the same answers, so the same completeness
    )
    _, new, result = store_screening(
        session, record, catalogue, screener_id=screener_id, details=details, case=case, lang=lang
    )
    return new, result
