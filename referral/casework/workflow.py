"""Referral workflow (FHIR Task statuses) and the gap records it makes (CONTRACT section 5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, update
from sqlmodel import Session, select

from referral.audit.operations import field_changes, record_audit
from referral.casework import notices
from referral.casework.models import (
    Case,
    EventChannel,
    Gap,
    GapReason,
    Referral,
    ReferralEvent,
)
from referral.casework.rows import gap_reason_rows, gap_row
from referral.db import utcnow
from referral.rules import Catalogue
from referral.rules.contract import (
    DECLINE_REASONS,
    DECLINED_STATUSES,
    FINAL_STATUSES,
    REASON_REQUIRED_STATUSES,
    GapClosedReason,
    GapKind,
    GapReasonCode,
    ReferralReason,
    ReferralStatus,
)

STATUSES = tuple(ReferralStatus)
REASONS = tuple(ReferralReason)
# A referral in any other status is under way or done: a new one would repeat it.
ENDED_WITHOUT_SERVICE = tuple(
    s for s in ReferralStatus if s in FINAL_STATUSES and s != ReferralStatus.completed
)

_S = ReferralStatus
# Which status may follow which (FHIR Task's state machine, as a referral uses it).
TRANSITIONS: dict[str, frozenset[str]] = {
    _S.requested: frozenset(
        {_S.accepted, _S.rejected, _S.on_hold, _S.cancelled, _S.entered_in_error}
    ),
    _S.accepted: frozenset(
        {_S.in_progress, _S.on_hold, _S.failed, _S.completed, _S.cancelled, _S.entered_in_error}
    ),
    _S.in_progress: frozenset(
        {_S.on_hold, _S.failed, _S.completed, _S.cancelled, _S.entered_in_error}
    ),
    _S.on_hold: frozenset(
        {_S.requested, _S.accepted, _S.in_progress, _S.failed, _S.cancelled, _S.entered_in_error}
    ),
    **{
        status: frozenset({_S.entered_in_error})
        for status in FINAL_STATUSES - {_S.entered_in_error}
    },
    _S.entered_in_error: frozenset(),
}


class ReferralError(ValueError):
    """A referral change the workflow does not allow; ``code`` names which rule."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class ReferralConflict(Exception):
    """Someone else changed the referral since this person loaded it."""

    def __init__(self, referral: Referral) -> None:
        super().__init__(str(referral.id))
        self.referral = referral


@dataclass(frozen=True)
class Answer:
    """Who gives a status change and how: an account by default, or the service's answer
    link, where the person answering gives a name and role instead of an account."""

    channel: EventChannel = EventChannel.screener
    note: str | None = None
    responder_name: str | None = None
    responder_role: str | None = None


SCREENER = Answer()


def _event(
    session: Session, referral: Referral, user_id: int | None, answer: Answer = SCREENER
) -> None:
    session.add(
        ReferralEvent(
            referral_id=referral.id,
            status=referral.status,
            reason_code=referral.reason_code,
            at=referral.updated_at,
            by_user_id=user_id,
            channel=answer.channel,
            note=(answer.note or "").strip() or None,
            responder_name=answer.responder_name,
            responder_role=answer.responder_role,
        )
    )


def _check_referable(case: Case) -> None:
    """A closed case is reopened before anyone refers it; nobody is referred without consent."""
    if case.closed_at is not None:
        raise ReferralError("case_closed")
    if not case.consent_referral:
        raise ReferralError("no_consent")


def active_referral(session: Session, case_id: int, need: str, service_id: str) -> Referral | None:
    return session.exec(
        select(Referral).where(
            Referral.case_id == case_id,
            Referral.need == need,
            Referral.service_id == service_id,
            Referral.status.notin_(ENDED_WITHOUT_SERVICE),  # type: ignore[attr-defined]
        )
    ).first()


def refer(
    session: Session,
    case: Case,
    *,
    need: str,
    service_id: str,
    catalogue: Catalogue,
    user_id: int,
) -> Referral:
    """Refer the case to a directory service for one need (one active referral per pair)."""
    _check_referable(case)
    service = catalogue.services_by_id.get(service_id)
    if service is None or service.need != need:
        raise ReferralError("unknown_service")
    existing = active_referral(session, case.id or 0, need, service_id)
    if existing is not None:
        raise ReferralError("already_referred")
    return _new_referral(session, case, need=need, service_id=service_id, user_id=user_id)


def refer_ad_hoc(
    session: Session, case: Case, *, need: str, provider: str, reason: str, user_id: int
) -> Referral:
    """A referral to a provider outside the directory: recorded as an ``ad_hoc`` gap too."""
    _check_referable(case)
    if not provider.strip() or not reason.strip():
        raise ReferralError("ad_hoc_needs_provider_and_reason")
    referral = _new_referral(
        session,
        case,
        need=need,
        service_id=None,
        user_id=user_id,
        provider=provider.strip(),
        reason=reason.strip(),
    )
    open_gap(
        session,
        case,
        need=need,
        kind=GapKind.ad_hoc,
        reasons=[GapReasonCode.ad_hoc],
        referral_id=referral.id,
    )
    return referral


def follow_case(session: Session, case: Case) -> None:
    """Copy the case's current screener and state onto every referral of the case, in one
    UPDATE (the API's lists read them; reach is decided on the case). Call it in the same
    transaction as any change of ``Case.screener_id`` or ``Case.state``. Neither the
    referral's version nor its ``updated_at`` moves: nothing about the referral changed."""
    session.execute(
        update(Referral)
        .where(Referral.case_id == case.id)  # type: ignore[arg-type]
        .values(case_screener_id=case.screener_id, case_state=case.state)
        .execution_options(synchronize_session="evaluate")
    )


def _new_referral(
    session: Session,
    case: Case,
    *,
    need: str,
    service_id: str | None,
    user_id: int,
    provider: str | None = None,
    reason: str | None = None,
) -> Referral:
    now = utcnow()
    referral = Referral(
        case_id=case.id,
        screening_id=case.latest_screening_id,
        need=need,
        service_id=service_id,
        ad_hoc_provider=provider,
        ad_hoc_reason=reason,
        state=case.state,
        status=ReferralStatus.requested,
        created_by=user_id,
        updated_by=user_id,
        created_at=now,
        updated_at=now,
        case_screener_id=case.screener_id,
        case_state=case.state,
    )
    session.add(referral)
    session.flush()
    _event(session, referral, user_id)
    notices.notify_service_of_referral(session, referral)
    record_audit(
        session,
        "referral_status_changed",
        actor_id=user_id,
        object_kind="referral",
        object_id=referral.id,
        state=case.state,
        changes={"status": [None, referral.status]},
    )
    return referral


def change_status(
    session: Session,
    referral: Referral,
    *,
    status: str,
    reason_code: str | None,
    expected_version: int,
    user_id: int | None,
    answer: Answer = SCREENER,
) -> Referral:
    """Move a referral to ``status``; refuse a stale ``expected_version`` (ReferralConflict).

    ``user_id`` is None only for an answer through the service's link (``answer`` says who).
    """
    if referral.version != expected_version:
        raise ReferralConflict(referral)
    if status not in STATUSES:
        raise ReferralError("unknown_status")
    if status not in TRANSITIONS[referral.status]:
        raise ReferralError("transition_not_allowed")
    if status in REASON_REQUIRED_STATUSES and reason_code not in REASONS:
        raise ReferralError("reason_required")
    if status not in REASON_REQUIRED_STATUSES:
        reason_code = None
    if reason_code == ReferralReason.other and not (answer.note or "").strip():
        raise ReferralError("note_required")  # "other" says nothing without a word of why
    # Compare-and-set on the version, so two concurrent changes cannot both win.
    updated = session.execute(
        update(Referral)
        .where(Referral.id == referral.id, Referral.version == expected_version)  # type: ignore[arg-type]
        .values(version=expected_version + 1)
        .execution_options(synchronize_session=False)
    )
    if updated.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(referral)
        raise ReferralConflict(referral)
    now = utcnow()
    before = {"status": referral.status, "reason_code": referral.reason_code}
    referral.version = expected_version + 1
    referral.status = status
    referral.reason_code = reason_code
    referral.updated_by = user_id
    referral.updated_at = now
    if status == ReferralStatus.accepted and referral.accepted_at is None:
        referral.accepted_at = now
    session.add(referral)
    session.flush()
    _event(session, referral, user_id, answer)
    notices.notify_referral_answered(session, referral, answer.channel)
    case = session.get(Case, referral.case_id)
    assert case is not None
    if status == ReferralStatus.accepted:
        close_gaps(session, case.id or 0, referral.need)
    elif status in DECLINED_STATUSES and reason_code in DECLINE_REASONS:
        open_gap(
            session,
            case,
            need=referral.need,
            kind=GapKind.declined,
            reasons=[reason_code or ReferralReason.other],
            referral_id=referral.id,
        )
    record_audit(
        session,
        "referral_status_changed",
        actor_id=user_id,
        object_kind="referral",
        object_id=referral.id,
        state=referral.state,
        changes=field_changes(before, {"status": status, "reason_code": reason_code}),
    )
    return referral


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
        **gap_row(
            case_id=case.id,
            state=case.state,
            need=need,
            kind=kind,
            reasons=reasons,
            opened_at=when or utcnow(),
            screening_id=screening_id,
            referral_id=referral_id,
        )
    )
    session.add(gap)
    session.flush()
    for row in gap_reason_rows(gap.id, gap.reasons):
        session.add(GapReason(**row))
    return gap


def close_gaps(
    session: Session,
    case_id: int,
    need: str,
    reason: GapClosedReason = GapClosedReason.accepted,
) -> int:
    """Close every open gap of this case and need, saying why (CONTRACT section 5)."""
    gaps = session.exec(
        select(Gap).where(Gap.case_id == case_id, Gap.need == need, Gap.closed_at.is_(None))  # type: ignore[union-attr]
    ).all()
    now = utcnow()
    for gap in gaps:
        gap.closed_at = now
        gap.closed_reason = reason
        session.add(gap)
    return len(gaps)


GAPS = Gap.__table__  # type: ignore[attr-defined]
INSERT_GAP = insert(GAPS).returning(GAPS.c.id, sort_by_parameter_order=True)
INSERT_GAP_REASON = insert(GapReason.__table__)  # type: ignore[attr-defined]


def open_new_case_gaps(
    connection: Connection,
    case_id: int,
    state: str,
    gaps: dict[str, list[str]],
    *,
    screening_id: int,
    when: datetime,
) -> list[int]:
    """The routing gaps of a case just created (it has none open yet): what
    :func:`reroute_gaps` does for such a case, in two Core INSERTs on the session's
    connection. Returns the new gaps' ids."""
    rows = [
        gap_row(
            case_id=case_id,
            state=state,
            need=need,
            kind=GapKind.routing,
            reasons=reasons,
            opened_at=when,
            screening_id=screening_id,
        )
        for need, reasons in gaps.items()
    ]
    if not rows:
        return []
    gap_ids = list(connection.execute(INSERT_GAP, rows).scalars().all())
    reasons = [
        reason
        for gap_id, row in zip(gap_ids, rows, strict=True)
        for reason in gap_reason_rows(gap_id, row["reasons"])
    ]
    if reasons:
        connection.execute(INSERT_GAP_REASON, reasons)
    return gap_ids


def reroute_gaps(
    session: Session,
    case: Case,
    gaps: dict[str, list[str]],
    options: set[str],
    *,
    screening_id: int | None,
    when: datetime,
) -> None:
    """A new routing of the case (CONTRACT section 5): close its open routing gap of each need
    that now has an option (``rerouted``); give the one of a need still without an option
    the new reasons; open one for every other need without an option.

    ``gaps``: need -> reasons of the new routing's gaps; ``options``: needs with an option.
    """
    open_routing = session.exec(
        select(Gap).where(
            Gap.case_id == case.id,
            Gap.kind == GapKind.routing,
            Gap.closed_at.is_(None),  # type: ignore[union-attr]
        )
    ).all()
    for gap in open_routing:
        if gap.need in options:
            gap.closed_at = when
            gap.closed_reason = GapClosedReason.rerouted
            session.add(gap)
        elif gap.need in gaps and sorted(set(gaps[gap.need])) != list(gap.reasons):
            gap.reasons = sorted(set(gaps[gap.need]))
            gap.screening_id = screening_id
            session.add(gap)
            for old in session.exec(select(GapReason).where(GapReason.gap_id == gap.id)).all():
                session.delete(old)
            for row in gap_reason_rows(gap.id, gap.reasons):
                session.add(GapReason(**row))
    for need, reasons in gaps.items():
        open_gap(
            session,
            case,
            need=need,
            kind=GapKind.routing,
            reasons=reasons,
            screening_id=screening_id,
            when=when,
        )
