"""Drafts, submission and re-screening: state changes only (they flush; the request commits).

A draft becomes a case through :func:`submit_draft`, which validates the screening record
with the rules core, routes it, stores the result with its ``rules_version`` and records a
routing gap for every need with no option. Bulk import stores records through the same
:func:`store_screening`, so a record means the same thing however it arrives.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from referral.audit.operations import record_audit
from referral.casework.models import Case, Screening, ScreeningForm
from referral.casework.workflow import open_gap
from referral.db import utcnow
from referral.rules import Catalogue, ScreeningRecord, route_case

# Case codes: 12 characters from an alphabet without look-alikes (60 bits of randomness).
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_PREFIX = "RT-"


def new_case_code() -> str:
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{CODE_PREFIX}{body[:4]}-{body[4:8]}-{body[8:]}"


@dataclass(frozen=True)
class CaseDetails:
    """What a case carries besides the screening record."""

    consent_referral: bool
    consent_statistics: bool
    notes: str | None = None


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
) -> tuple[Case, Screening, dict[str, Any]]:
    """Route ``record`` and store it as a new case, or as a re-screening of ``case``."""
    when = screened_at or utcnow()
    result = route_case(record, catalogue, lang=lang)
    stored_result = {k: v for k, v in result.items() if k != "excluded"}
    status = result["screening"]["status"]
    if case is None:
        case = Case(
            code=code or new_case_code(),
            state=record.state,
            screener_id=screener_id,
            consent_referral=details.consent_referral,
            consent_statistics=details.consent_statistics,
            notes=details.notes or None,
            latest_status=status,
            first_screened_at=when,
            created_at=when,
            updated_at=when,
        )
        session.add(case)
        session.flush()
        created = True
    else:
        case.state = record.state
        case.consent_referral = details.consent_referral
        case.consent_statistics = details.consent_statistics
        if details.notes is not None:
            case.notes = details.notes or None
        case.latest_status = status
        case.updated_at = utcnow()
        created = False
    screening = Screening(
        case_id=case.id,
        screener_id=screener_id,
        screened_at=when,
        record=record.to_dict(),
        result=stored_result,
        rules_version=result["rules_version"],
        lang=lang,
        status=status,
        state=record.state,
        encounter=record.encounter,
        sex=record.sex,
        age=record.age,
        minor=bool(result["screening"]["minor"]),
        foreign=record.foreign,
        nationality=record.nationality,
    )
    session.add(screening)
    session.flush()
    for form in result["screening"]["forms"]:
        session.add(ScreeningForm(screening_id=screening.id, form=form))
    case.latest_screening_id = screening.id
    session.add(case)
    for gap in result["gaps"]:
        open_gap(
            session,
            case,
            need=gap["need"],
            kind="routing",
            reasons=gap["reasons"],
            screening_id=screening.id,
            when=when,
        )
    session.flush()
    record_audit(
        session,
        "case_created" if created else "case_changed",
        actor_id=screener_id,
        object_kind="case",
        object_id=case.id,
        state=case.state,
    )
    return case, screening, result
