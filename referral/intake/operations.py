"""Drafts, submission and re-screening: state changes only (they flush; the request commits).

A draft becomes a case through :func:`submit_draft`, which validates the screening record
with the rules core, routes it, stores the result with its ``rules_version`` and records a
routing gap for every need with no option. Bulk import stores records through the same
:func:`store_screening`, so a record means the same thing however it arrives.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from referral.audit.operations import record_audit
from referral.intake.models import Case, Draft, Screening, ScreeningForm
from referral.models import utcnow
from referral.referrals.models import Gap, GapReason
from referral.rules import Catalogue, RecordInvalid, ScreeningRecord, route_case, validate_record

# Case codes: 12 characters from an alphabet without look-alikes (60 bits of randomness).
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_PREFIX = "RT-"

SECTIONS = ("encounter", "person", "indicators", "needs", "legal", "review")


def new_case_code() -> str:
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{CODE_PREFIX}{body[:4]}-{body[4:8]}-{body[8:]}"


def new_draft_key() -> str:
    return secrets.token_urlsafe(24)


class DraftAlreadySubmitted(Exception):
    """The draft made a case already; ``case`` is that case."""

    def __init__(self, case: Case) -> None:
        super().__init__(case.code)
        self.case = case


@dataclass(frozen=True)
class CaseDetails:
    """What a case carries besides the screening record."""

    consent_referral: bool
    consent_statistics: bool
    notes: str | None = None


def start_draft(
    session: Session, user_id: int, *, rescreen: Case | None = None, data: dict | None = None
) -> Draft:
    draft = Draft(
        key=new_draft_key(),
        user_id=user_id,
        rescreen_case_id=rescreen.id if rescreen else None,
        data=dict(data or {}),
    )
    session.add(draft)
    session.flush()
    return draft


def save_draft(session: Session, draft: Draft, section: str, values: dict[str, Any]) -> None:
    """Merge one section's values into the draft (a new dict, so the JSON column is updated)."""
    merged = dict(draft.data)
    merged.update(values)
    draft.data = merged
    draft.section = section
    draft.updated_at = utcnow()
    session.add(draft)
    session.flush()


def lock_draft(session: Session, draft_id: int) -> Draft | None:
    """The draft, locked for this transaction (two submits of one draft make one case)."""
    # populate_existing: the draft is already in the session, loaded before the lock; without
    # it the ORM keeps that stale copy and a second submit waiting on the lock makes a case too.
    statement = (
        select(Draft)
        .where(Draft.id == draft_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


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


def open_gap(
    session: Session,
    case: Case,
    *,
    need: str,
    kind: str,
    reasons: list[str],
    screening_id: int | None = None,
    referral_id: int | None = None,
    when: datetime | None = None,
) -> Gap:
    """The case's open gap for this need and kind; a new one only when none is open."""
    existing = session.exec(
        select(Gap).where(
            Gap.case_id == case.id,
            Gap.need == need,
            Gap.kind == kind,
            Gap.closed_at.is_(None),  # type: ignore[union-attr]
        )
    ).first()
    if existing is not None:
        return existing
    gap = Gap(
        case_id=case.id,
        screening_id=screening_id,
        referral_id=referral_id,
        need=need,
        kind=kind,
        state=case.state,
        reasons=sorted(set(reasons)),
        opened_at=when or utcnow(),
    )
    session.add(gap)
    session.flush()
    for reason in gap.reasons:
        session.add(GapReason(gap_id=gap.id, reason=reason))
    return gap


def close_gaps(session: Session, case_id: int, need: str) -> int:
    """Close every open gap of this case and need (a referral for it was accepted)."""
    gaps = session.exec(
        select(Gap).where(Gap.case_id == case_id, Gap.need == need, Gap.closed_at.is_(None))  # type: ignore[union-attr]
    ).all()
    now = utcnow()
    for gap in gaps:
        gap.closed_at = now
        session.add(gap)
    return len(gaps)


def submit_draft(
    session: Session,
    draft: Draft,
    record_data: dict[str, Any],
    details: CaseDetails,
    catalogue: Catalogue,
    *,
    lang: str,
) -> Case:
    """Turn a draft into a case (or a re-screening). Raises RecordInvalid, DraftAlreadySubmitted."""
    locked = lock_draft(session, draft.id) if draft.id is not None else None
    if locked is not None and locked.submitted_case_id is not None:
        existing = session.get(Case, locked.submitted_case_id)
        if existing is not None:
            raise DraftAlreadySubmitted(existing)
    record = validate_record(record_data, catalogue.codes)
    rescreen = session.get(Case, draft.rescreen_case_id) if draft.rescreen_case_id else None
    case, _screening, _result = store_screening(
        session,
        record,
        catalogue,
        screener_id=draft.user_id,
        details=details,
        case=rescreen,
        lang=lang,
    )
    target = locked or draft
    target.submitted_case_id = case.id
    target.updated_at = utcnow()
    session.add(target)
    session.flush()
    return case


def saved_at(draft: Draft) -> str:
    """The draft's version as the browser sees it (microseconds, UTC)."""
    return as_utc(draft.updated_at).isoformat()


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive value is taken as UTC (SQLite returns them naive)."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


__all__ = [
    "SECTIONS",
    "CaseDetails",
    "DraftAlreadySubmitted",
    "RecordInvalid",
    "close_gaps",
    "new_case_code",
    "open_gap",
    "save_draft",
    "start_draft",
    "store_screening",
    "submit_draft",
]


def latest_screening(session: Session, case: Case) -> Screening | None:
    if case.latest_screening_id is None:
        return None
    return session.get(Screening, case.latest_screening_id)
