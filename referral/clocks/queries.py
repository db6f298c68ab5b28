"""When each clock started, when it is due, and what is overdue, computed from the data at
the moment asked (the web shows overdue things whether or not the clocks command runs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from referral.access import Reach
from referral.casework.models import Case, Referral, Screening
from referral.clocks.models import ChildNotice
from referral.rules.contract import Alert, ReferralStatus, ScreeningStatus

# The reflection period of a foreign victim: 30 days (the report, "a reflection period of 30
# days"; Ley de Migración Art. 113 and 136), as ALERT_SOURCES cites for reflection_period.
REFLECTION_DAYS = 30
INDICATED = (ScreeningStatus.likely, ScreeningStatus.possible)
AWAITING = (ReferralStatus.requested,)  # a referral the service has not answered yet


@dataclass(frozen=True)
class Settings:
    answer_due: timedelta
    escalate_after: timedelta
    reminder_before: timedelta

    @classmethod
    def of(cls, config: Any) -> Settings:
        return cls(
            answer_due=timedelta(hours=int(config["ANSWER_DUE_HOURS"])),
            escalate_after=timedelta(hours=int(config["CHILD_NOTICE_ESCALATE_HOURS"])),
            reminder_before=timedelta(days=int(config["REFLECTION_REMINDER_DAYS"])),
        )


# --- the child-protection notice ------------------------------------------------------------


def child_notice_starts(session: Session, case_ids: list[int] | None = None) -> Any:
    """case id -> the first screening that found a minor (the notice is due at that moment)."""
    query = (
        select(Screening.case_id, func.min(Screening.screened_at))
        .where(Screening.minor == True)  # noqa: E712
        .group_by(col(Screening.case_id))
    )
    if case_ids is not None:
        query = query.where(Screening.case_id.in_(case_ids))  # type: ignore[union-attr]
    return query


def open_child_notices(
    session: Session, reach: Reach | None = None, *, due_before: datetime | None = None
) -> list[tuple[Case, datetime]]:
    """Minors' cases with no notice recorded, and when the notice was due (oldest first);
    ``due_before``: only those due before that moment (overdue)."""
    starts = child_notice_starts(session).subquery()
    query = (
        select(Case, starts.c[1])
        .join(starts, starts.c.case_id == Case.id)
        .outerjoin(ChildNotice, ChildNotice.case_id == Case.id)  # type: ignore[arg-type]
        .where(ChildNotice.id.is_(None))  # type: ignore[union-attr]
    )
    if due_before is not None:
        query = query.where(starts.c[1] <= due_before)
    if reach is not None:
        query = reach.filter(query, Case.state, Case.screener_id)
    return [(case, due) for case, due in session.exec(query.order_by(starts.c[1])).all()]


# --- the reflection period ------------------------------------------------------------------


@dataclass(frozen=True)
class Reflection:
    case: Case
    screening_id: int
    starts: datetime
    ends: datetime

    def ending_soon(self, now: datetime, before: timedelta) -> bool:
        return self.ends - before <= now < self.ends

    def ended(self, now: datetime) -> bool:
        return now >= self.ends


def raises_reflection(screening: Screening) -> bool:
    alerts = (screening.result or {}).get("alerts", [])
    return any(a.get("code") == Alert.reflection_period for a in alerts)


def reflection_periods(
    session: Session, reach: Reach | None = None, case_ids: list[int] | None = None
) -> list[Reflection]:
    """Each case's reflection period: from its first screening that found trafficking likely
    or possible for a person who is (or may be) foreign, the one that raised the alert."""
    query = (
        select(Screening, Case)
        .join(Case, Case.id == Screening.case_id)  # type: ignore[arg-type]
        .where(
            Screening.status.in_(INDICATED),  # type: ignore[attr-defined]
            or_(Screening.foreign == True, Screening.nationality == "ZZ"),  # type: ignore[arg-type]  # noqa: E712
        )
        .order_by(col(Screening.case_id), col(Screening.screened_at))
    )
    if case_ids is not None:
        query = query.where(Screening.case_id.in_(case_ids))  # type: ignore[union-attr]
    if reach is not None:
        query = reach.filter(query, Case.state, Case.screener_id)
    periods: dict[int, Reflection] = {}
    for screening, case in session.exec(query).all():
        if case.id in periods or not raises_reflection(screening):
            continue
        start = screening.screened_at
        periods[case.id or 0] = Reflection(
            case, screening.id or 0, start, start + timedelta(days=REFLECTION_DAYS)
        )
    return list(periods.values())


# --- the referral's answer --------------------------------------------------------------------


def overdue_referrals_query(reach: Reach | None, now: datetime, due: timedelta) -> Any:
    """Referrals still waiting for the service's answer past their due time."""
    query = (
        select(Referral, Case)
        .join(Case, Case.id == Referral.case_id)  # type: ignore[arg-type]
        .where(
            Referral.status.in_(AWAITING),  # type: ignore[attr-defined]
            Referral.created_at <= now - due,
        )
        .order_by(col(Referral.created_at))
    )
    if reach is not None:
        query = reach.filter(query, Case.state, Case.screener_id)  # the case's, as every list
    return query


def overdue_referrals(
    session: Session, reach: Reach | None, now: datetime, due: timedelta
) -> list[tuple[Referral, Case]]:
    return [(r, c) for r, c in session.exec(overdue_referrals_query(reach, now, due)).all()]


# --- one case's clocks, for its page ------------------------------------------------------------


@dataclass(frozen=True)
class ChildNoticeClock:
    due_at: datetime
    notice: ChildNotice | None
    escalates_at: datetime

    def overdue(self, now: datetime) -> bool:
        return self.notice is None and now >= self.escalates_at


@dataclass(frozen=True)
class CaseClocks:
    now: datetime
    child_notice: ChildNoticeClock | None
    reflection: Reflection | None
    reminder_before: timedelta
    overdue_referrals: list[tuple[Referral, datetime]]

    @property
    def any(self) -> bool:
        return bool(self.child_notice or self.reflection or self.overdue_referrals)


def case_clocks(session: Session, case: Case, settings: Settings, now: datetime) -> CaseClocks:
    starts = session.exec(child_notice_starts(session, [case.id or 0])).first()
    child = None
    if starts is not None:
        notice = session.exec(select(ChildNotice).where(ChildNotice.case_id == case.id)).first()
        child = ChildNoticeClock(starts[1], notice, starts[1] + settings.escalate_after)
    reflections = reflection_periods(session, case_ids=[case.id or 0])
    overdue = [
        (referral, referral.created_at + settings.answer_due)
        for referral, _case in session.exec(
            overdue_referrals_query(None, now, settings.answer_due).where(Case.id == case.id)
        ).all()
    ]
    return CaseClocks(
        now=now,
        child_notice=child,
        reflection=reflections[0] if reflections else None,
        reminder_before=settings.reminder_before,
        overdue_referrals=overdue,
    )
