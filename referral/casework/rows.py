"""The rows a routed screening becomes, built in one place.

``store_screening`` turns them into ORM objects one case at a time; the demo generator
inserts them in bulk with Core statements (the ORM path would make a million cases take
hours). Both write the same columns with the same values because both build them here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from referral.rules import RoutingResult, ScreeningRecord
from referral.rules.contract import QuestionAnswer

NOT_ASKED = QuestionAnswer.not_asked.value


@dataclass(frozen=True)
class CaseDetails:
    """What a case carries besides the screening record."""

    consent_referral: bool
    consent_statistics: bool
    notes: str | None = None
    # The answer to every screening question (web form only): kept on the screening.
    answers: dict[str, str] | None = None


def case_row(
    record: ScreeningRecord,
    result: RoutingResult,
    *,
    code: str,
    screener_id: int,
    details: CaseDetails,
    when: datetime,
) -> dict[str, Any]:
    """A new case, first screened ``when``."""
    return {
        "code": code,
        "state": record.state,
        "screener_id": screener_id,
        "consent_referral": details.consent_referral,
        "consent_statistics": details.consent_statistics,
        "notes": details.notes or None,
        "latest_status": result.status,
        "first_screened_at": when,
        "created_at": when,
        "updated_at": when,
    }


def screening_row(
    record: ScreeningRecord,
    result: RoutingResult,
    *,
    screener_id: int,
    when: datetime,
    lang: str,
    case_id: int | None = None,
    answers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One screening: the record, the result in ``lang`` without ``excluded`` (it can be
    recomputed from the record and the rules version), and the columns statistics read."""
    return {
        "case_id": case_id,
        "screener_id": screener_id,
        "screened_at": when,
        "record": record.to_dict(),
        "result": result.to_json(lang, excluded=False),
        "rules_version": result.rules_version,
        "lang": lang,
        "status": result.status,
        "state": record.state,
        "encounter": record.encounter,
        "sex": record.sex,
        "age": record.age,
        "minor": result.screening.minor,
        "foreign": record.foreign,
        "nationality": record.nationality,
        "answers": dict(answers) if answers is not None else None,
        "questions_not_asked": (
            None if answers is None else sum(1 for a in answers.values() if a == NOT_ASKED)
        ),
    }


def form_rows(screening_id: int | None, result: RoutingResult) -> list[dict[str, Any]]:
    """The forms of exploitation of a screening, one row each."""
    return [{"screening_id": screening_id, "form": form} for form in result.screening.forms]


def gap_row(
    *,
    case_id: int | None,
    state: str,
    need: str,
    kind: str,
    reasons: Iterable[str],
    opened_at: datetime,
    screening_id: int | None = None,
    referral_id: int | None = None,
    closed_at: datetime | None = None,
) -> dict[str, Any]:
    """A gap record (CONTRACT section 5); its reasons sorted, each once."""
    return {
        "case_id": case_id,
        "screening_id": screening_id,
        "referral_id": referral_id,
        "need": need,
        "kind": kind,
        "state": state,
        "reasons": sorted(set(reasons)),
        "opened_at": opened_at,
        "closed_at": closed_at,
    }


def gap_reason_rows(gap_id: int | None, reasons: Iterable[str]) -> list[dict[str, Any]]:
    """One row per reason of a gap, so statistics count gaps by reason in SQL."""
    return [{"gap_id": gap_id, "reason": reason} for reason in reasons]
