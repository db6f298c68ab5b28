"""Reading cases: the list a screener works from, one case's timeline, its displayed result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import abort
from sqlalchemy import func
from sqlmodel import Session, col, select

from referral.access import Reach, load_or_404
from referral.casework.models import (
    Case,
    Gap,
    Referral,
    ReferralEvent,
    Screening,
)
from referral.db import session, utcnow

PAGE_SIZE = 50
CASE_LISTS = ("open", "closed", "all")  # the case list's filter: open cases are the working list


@dataclass(frozen=True)
class CaseRow:
    case: Case
    stale_referrals: int
    open_gaps: int


def case_list(
    session: Session,
    reach: Reach,
    *,
    status: str | None,
    code: str | None,
    stale_days: int,
    page: int = 1,
    which: str = "open",
) -> tuple[list[CaseRow], int]:
    """Cases in reach, newest first, with counts of stale referrals and open gaps: the open
    cases (the working list), the closed ones, or ``all``."""
    query = reach.filter(select(Case), Case.state, Case.screener_id)
    count_query = reach.filter(select(func.count()).select_from(Case), Case.state, Case.screener_id)
    if which in CASE_LISTS[:2]:
        closed = (
            col(Case.closed_at).is_(None) if which == "open" else col(Case.closed_at).is_not(None)
        )
        query = query.where(closed)
        count_query = count_query.where(closed)
    if status:
        query = query.where(Case.latest_status == status)
        count_query = count_query.where(Case.latest_status == status)
    if code:
        pattern = code.strip().upper()
        query = query.where(col(Case.code).contains(pattern))
        count_query = count_query.where(col(Case.code).contains(pattern))
    total = session.exec(count_query).one()
    cases = session.exec(
        query.order_by(col(Case.updated_at).desc(), col(Case.id).desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    ids = [c.id for c in cases]
    stale_before = utcnow() - timedelta(days=stale_days)
    stale = (
        dict(
            session.exec(
                select(Referral.case_id, func.count())
                .where(col(Referral.case_id).in_(ids), Referral.status == "requested")
                .where(Referral.updated_at < stale_before)
                .group_by(col(Referral.case_id))
            ).all()
        )
        if ids
        else {}
    )
    gaps = (
        dict(
            session.exec(
                select(Gap.case_id, func.count())
                .where(col(Gap.case_id).in_(ids), col(Gap.closed_at).is_(None))
                .group_by(col(Gap.case_id))
            ).all()
        )
        if ids
        else {}
    )
    rows = [CaseRow(c, stale.get(c.id, 0), gaps.get(c.id, 0)) for c in cases]
    return rows, total


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # screening | referral | gap_opened | gap_closed
    item: Any
    extra: Any = None


def timeline(session: Session, case: Case) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for screening in session.exec(select(Screening).where(Screening.case_id == case.id)).all():
        entries.append(TimelineEntry(screening.screened_at, "screening", screening))
    referrals = {
        r.id: r for r in session.exec(select(Referral).where(Referral.case_id == case.id)).all()
    }
    if referrals:
        events = session.exec(
            select(ReferralEvent).where(col(ReferralEvent.referral_id).in_(list(referrals)))
        ).all()
        for event in events:
            entries.append(TimelineEntry(event.at, "referral", event, referrals[event.referral_id]))
    for gap in session.exec(select(Gap).where(Gap.case_id == case.id)).all():
        entries.append(TimelineEntry(gap.opened_at, "gap_opened", gap))
        if gap.closed_at is not None:
            entries.append(TimelineEntry(gap.closed_at, "gap_closed", gap))
    order = {"screening": 0, "gap_opened": 1, "referral": 2, "gap_closed": 3}
    return sorted(entries, key=lambda e: (e.at, order[e.kind]), reverse=True)


def v4_reasons_since(session: Session) -> datetime | None:
    """When this instance first routed under contract v4: routing gap reasons follow v4 from
    then on (docs/supervision.md). None before any v4 screening."""
    first = session.exec(
        select(func.min(Screening.screened_at)).where(col(Screening.rules_version).like("4/%"))
    ).one()
    return first


def case_referrals(session: Session, case: Case) -> list[Referral]:
    return list(
        session.exec(
            select(Referral).where(Referral.case_id == case.id).order_by(col(Referral.id))
        ).all()
    )


def open_gaps(session: Session, case: Case) -> list[Gap]:
    return list(
        session.exec(
            select(Gap)
            .where(Gap.case_id == case.id, col(Gap.closed_at).is_(None))
            .order_by(col(Gap.id))
        ).all()
    )


def load_case(code: str, reach: Reach) -> Case:
    """The case with this code if the user may see it; 404 otherwise (never 403)."""
    case_id = session().exec(select(Case.id).where(Case.code == code)).first()
    if case_id is None:
        abort(404)
    return load_or_404(session(), Case, case_id, reach, "state", "screener_id")


def load_referral(referral_id: int, reach: Reach) -> tuple[Referral, Case]:
    """A referral and its case, if the user may see the case; 404 otherwise."""
    referral = session().get(Referral, referral_id)
    if referral is None:
        abort(404)
    case = load_or_404(session(), Case, referral.case_id, reach, "state", "screener_id")
    return referral, case


def latest_screening(session: Session, case: Case) -> Screening | None:
    if case.latest_screening_id is None:
        return None
    return session.get(Screening, case.latest_screening_id)
