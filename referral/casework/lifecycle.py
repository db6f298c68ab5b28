"""The life of a case after its screening: closure and reopening, handover, consent withdrawn,
erasure and retention. Operations only flush; the request (or the CLI's transaction) commits.

Every step is a :class:`CaseEvent` (the case's history, free text kept with the case and
never exported) and an audit event (codes only). Erasure removes every row that refers to
the case or to its rows, found by walking the foreign keys of ``SQLModel.metadata``, so a
table added later is covered as soon as it carries such a key; the audit log is exempt
(append-only) and receives a tombstone: the case code, the reason code and who erased it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from blinker import Namespace
from sqlalchemy import Table, delete, func, or_
from sqlalchemy import select as sql_select
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, SQLModel, col, select

from referral.audit.operations import record_audit
from referral.casework import notices
from referral.casework.models import (
    Case,
    CaseClosedReason,
    CaseEvent,
    CaseEventKind,
    Gap,
    Referral,
)
from referral.casework.workflow import change_status, follow_case
from referral.db import utcnow
from referral.rules.contract import (
    FINAL_STATUSES,
    GapClosedReason,
    ReferralReason,
    ReferralStatus,
)

CLOSE_REASONS = tuple(CaseClosedReason)
NOTE_MAX = 500  # a closure's "other" note, a reopening's reason: short, kept with the case
# The audit log is append-only (triggers, migration 0007): erasure leaves it a tombstone.
ERASURE_EXEMPT = frozenset({"audit_event"})


# Sent (with the session and ``case_id``) just before a case's rows are deleted. Features
# that derive anonymous numbers from those rows listen; casework imports none of them.
case_erasing = Namespace().signal("case-erasing")


class ErasureReason(StrEnum):
    """Why a case was erased: codes only, since the audit tombstone holds no free text."""

    person_request = "person_request"  # the person asked (their right to cancellation)
    duplicate = "duplicate"  # the same person screened twice
    entered_in_error = "entered_in_error"  # the case should never have been recorded
    legal_order = "legal_order"  # an authority ordered it
    retention = "retention"  # closed longer than the retention period (the console)


ERASURE_REASONS = tuple(r for r in ErasureReason if r != ErasureReason.retention)


class LifecycleError(ValueError):
    """A step the life of a case does not allow; ``code`` names which rule (the view
    turns it into a message at the field)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def is_closed(case: Case) -> bool:
    return case.closed_at is not None


def _clean_note(note: str | None) -> str | None:
    text = (note or "").strip()
    if len(text) > NOTE_MAX:
        raise LifecycleError("note_too_long")
    return text or None


def _event(
    session: Session,
    case: Case,
    kind: CaseEventKind,
    *,
    by_user_id: int | None,
    reason: str | None = None,
    note: str | None = None,
    from_user_id: int | None = None,
    to_user_id: int | None = None,
) -> CaseEvent:
    event = CaseEvent(
        case_id=case.id,
        kind=kind,
        reason=reason,
        note=note,
        by_user_id=by_user_id,
        from_user_id=from_user_id,
        to_user_id=to_user_id,
    )
    session.add(event)
    return event


def _audit(session: Session, action: str, case: Case, actor_id: int | None) -> None:
    record_audit(
        session, action, actor_id=actor_id, object_kind="case", object_id=case.id, state=case.state
    )


# --- closure and reopening ------------------------------------------------------------


def close_case(session: Session, case: Case, *, reason: str, note: str | None, user_id: int) -> int:
    """Close the case for ``reason``; its open gap records close as ``case_closed``.

    ``other`` needs a short note (kept with the case, never exported). Returns how many gap
    records closed.
    """
    if is_closed(case):
        raise LifecycleError("already_closed")
    if reason not in CLOSE_REASONS:
        raise LifecycleError("unknown_reason")
    text = _clean_note(note)
    if reason == CaseClosedReason.other and not text:
        raise LifecycleError("note_required")
    now = utcnow()
    gaps = session.exec(
        select(Gap).where(Gap.case_id == case.id, col(Gap.closed_at).is_(None))
    ).all()
    for gap in gaps:
        gap.closed_at = now
        gap.closed_reason = GapClosedReason.case_closed
        session.add(gap)
    case.closed_at = now
    case.closed_reason = reason
    case.closed_by = user_id
    case.updated_at = now
    session.add(case)
    _event(
        session,
        case,
        CaseEventKind.closed,
        by_user_id=user_id,
        reason=reason,
        note=text if reason == CaseClosedReason.other else None,
    )
    session.flush()
    _audit(session, "case_closed", case, user_id)
    return len(gaps)


def reopen_case(session: Session, case: Case, *, note: str | None, user_id: int) -> None:
    """Reopen a closed case, saying why. Its gap records stay closed (``case_closed``); the
    next routing of the case opens new ones where a need still has no option."""
    if not is_closed(case):
        raise LifecycleError("not_closed")
    text = _clean_note(note)
    if not text:
        raise LifecycleError("note_required")
    case.closed_at = None
    case.closed_reason = None
    case.closed_by = None
    case.updated_at = utcnow()
    session.add(case)
    _event(session, case, CaseEventKind.reopened, by_user_id=user_id, note=text)
    session.flush()
    _audit(session, "case_reopened", case, user_id)


# --- handover -------------------------------------------------------------------------


def covers_state(user: Any, state: str) -> bool:
    """Whether ``user`` (an account) works in ``state``: listed, or national."""
    return bool(user.national) or state in (user.states or ())


def can_receive(user: Any, case: Case) -> bool:
    """A case may be handed to an active screener, other than its own, who works in its state."""
    return (
        user.role == "screener"
        and bool(user.active)
        and user.id != case.screener_id
        and covers_state(user, case.state)
    )


def hand_over(
    session: Session, case: Case, to_user: Any, *, from_user: Any, by_user_id: int
) -> None:
    """Make ``to_user`` the case's screener (a supervisor's decision); ``from_user`` is the
    screener it had. Raises LifecycleError("cannot_receive") for anyone else."""
    if not can_receive(to_user, case):
        raise LifecycleError("cannot_receive")
    case.screener_id = to_user.id
    case.updated_at = utcnow()
    session.add(case)
    follow_case(session, case)  # its referrals move to the new screener's lists with it
    event = _event(
        session,
        case,
        CaseEventKind.handed_over,
        by_user_id=by_user_id,
        from_user_id=from_user.id if from_user is not None else None,
        to_user_id=to_user.id,
    )
    session.flush()
    handed_over(session, case, from_user, to_user, actor_id=by_user_id, event_id=event.id)


def handed_over(
    session: Session,
    case: Case,
    from_user: Any,
    to_user: Any,
    *,
    actor_id: int | None = None,
    event_id: int | None = None,
) -> None:
    """The case passed from ``from_user`` to ``to_user``: the audit event, and both
    screeners are told (by mail, through the outbox, in the same transaction)."""
    _audit(session, "case_handed_over", case, actor_id)
    notices.notify_handover(session, case, from_user, to_user, event_id)


# --- consent withdrawn ----------------------------------------------------------------


def open_referrals(session: Session, case: Case) -> list[Referral]:
    return list(
        session.exec(
            select(Referral)
            .where(Referral.case_id == case.id, col(Referral.status).notin_(FINAL_STATUSES))
            .order_by(col(Referral.id))
        ).all()
    )


def withdraw_consent(
    session: Session, case: Case, *, referral: bool, statistics: bool, user_id: int
) -> list[Referral]:
    """The person withdrew consent to referral and/or to statistics.

    To referral: no new referral can be made, and every open referral is cancelled with
    reason ``person_declined`` (through the workflow: events and audit as any change).
    To statistics: the case leaves every later export and release (those already published
    are not changed). Returns the referrals cancelled.
    """
    if not referral and not statistics:
        raise LifecycleError("nothing_withdrawn")
    if referral and not case.consent_referral:
        raise LifecycleError("no_referral_consent")
    if statistics and not case.consent_statistics and case.statistics_withdrawn_at is not None:
        raise LifecycleError("no_statistics_consent")
    cancelled: list[Referral] = []
    now = utcnow()
    if referral:
        for open_one in open_referrals(session, case):
            cancelled.append(
                change_status(
                    session,
                    open_one,
                    status=ReferralStatus.cancelled,
                    reason_code=ReferralReason.person_declined,
                    expected_version=open_one.version,
                    user_id=user_id,
                )
            )
        case.consent_referral = False
        _event(session, case, CaseEventKind.consent_referral_withdrawn, by_user_id=user_id)
    if statistics:
        case.consent_statistics = False
        case.statistics_withdrawn_at = now
        _event(session, case, CaseEventKind.consent_statistics_withdrawn, by_user_id=user_id)
    case.updated_at = now
    session.add(case)
    session.flush()
    if referral:
        _audit(session, "consent_referral_withdrawn", case, user_id)
    if statistics:
        _audit(session, "consent_statistics_withdrawn", case, user_id)
    return cancelled


def counted_in_statistics() -> ColumnElement[bool]:
    """SQL: the case counts in exports and releases made from now on. A person who withdrew
    consent to statistics (and did not give it again at a re-screening) is left out."""
    return or_(col(Case.statistics_withdrawn_at).is_(None), col(Case.consent_statistics))


def history(session: Session, case: Case) -> list[CaseEvent]:
    return list(
        session.exec(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id)
            .order_by(col(CaseEvent.at).desc(), col(CaseEvent.id).desc())
        ).all()
    )


# --- erasure and retention ------------------------------------------------------------


def case_rows(case_id: int) -> list[tuple[Table, ColumnElement[bool]]]:
    """Every table holding rows of the case, each with the condition that finds them, in
    dependency order (the case first, then what refers to it, then what refers to those).

    Found by walking the foreign keys of every table on ``SQLModel.metadata``: any row that
    refers to the case, or to a row found so far, belongs to the case.
    """
    case_table = SQLModel.metadata.tables[Case.__tablename__]
    found: dict[str, list[ColumnElement[bool]]] = {case_table.name: [case_table.c.id == case_id]}
    ordered: list[Table] = [case_table]
    # Parents come before their children here, so a table's parents are all settled first.
    for table in SQLModel.metadata.sorted_tables:
        if table.name in ERASURE_EXEMPT or table is case_table:
            continue
        for fk in table.foreign_keys:
            parent = fk.column.table
            if parent is table or parent.name not in found:
                continue
            rows_of_parent = sql_select(fk.column).where(or_(*found[parent.name]))
            found.setdefault(table.name, []).append(fk.parent.in_(rows_of_parent))
        if table.name in found:
            ordered.append(table)
    return [(table, or_(*found[table.name])) for table in ordered]


@dataclass(frozen=True)
class Erased:
    code: str
    rows: dict[str, int]  # table -> rows deleted


def erase_case(session: Session, case: Case, *, reason: str, actor_id: int | None) -> Erased:
    """Delete the case and every row that refers to it, children first; leave the audit a
    tombstone (``case_erased``: the code and the reason code; the actor is who erased it)."""
    if reason not in tuple(ErasureReason):
        raise LifecycleError("unknown_erasure_reason")
    code, case_id = case.code, case.id
    assert case_id is not None
    session.flush()
    # Whoever keeps anonymous counts of the case (the dashboard's) keeps them now.
    case_erasing.send(session, case_id=case_id)
    tables = case_rows(case_id)
    names = {table.name for table, _condition in tables}
    # The ORM must not write back, or later refresh, rows deleted under it.
    for instance in list(session.identity_map.values()):
        if getattr(getattr(instance, "__table__", None), "name", None) in names:
            session.expunge(instance)
    counts: dict[str, int] = {}
    for table, condition in reversed(tables):
        result = session.execute(delete(table).where(condition))
        counts[table.name] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    record_audit(
        session,
        "case_erased",
        actor_id=actor_id,
        object_kind="case",
        object_id=f"{code}:{reason}",
    )
    return Erased(code, counts)


def retention_cutoff(days: int, now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=days)


def due_for_erasure(session: Session, days: int, now: datetime | None = None) -> Sequence[str]:
    """Codes of the cases closed more than ``days`` ago, oldest closure first."""
    cutoff = retention_cutoff(days, now)
    return session.exec(
        select(Case.code)
        .where(col(Case.closed_at).is_not(None), col(Case.closed_at) < cutoff)
        .order_by(col(Case.closed_at), col(Case.id))
    ).all()


def count_due(session: Session, days: int, now: datetime | None = None) -> int:
    cutoff = retention_cutoff(days, now)
    return int(
        session.exec(
            select(func.count())
            .select_from(Case)
            .where(col(Case.closed_at).is_not(None), col(Case.closed_at) < cutoff)
        ).one()
    )


def erase_by_code(session: Session, code: str, *, reason: str, actor_id: int | None) -> Erased:
    case = session.exec(select(Case).where(Case.code == code)).first()
    if case is None:
        raise LifecycleError("unknown_case")
    return erase_case(session, case, reason=reason, actor_id=actor_id)
