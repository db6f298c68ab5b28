"""Reading cases: the list a screener works from, one case's timeline, its displayed result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import abort
from sqlalchemy import case as sql_case
from sqlalchemy import func, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from referral.access import Reach, load_or_404
from referral.auth.models import User
from referral.casework.models import (
    Case,
    Gap,
    Referral,
    ReferralEvent,
    Screening,
)
from referral.db import UTCDateTime, session, utcnow
from referral.rules.contract import ReferralStatus

PAGE_SIZE = 50
CASE_LISTS = ("open", "closed", "all")  # the case list's filter: open cases are the working list


# Age bands of the case list: children apart from adolescents, then adults; unknown apart.
AGE_BANDS: dict[str, tuple[int, int]] = {
    "0-11": (0, 11),
    "12-17": (12, 17),
    "18-29": (18, 29),
    "30-59": (30, 59),
    "60+": (60, 120),
}
AGE_UNKNOWN = "unknown"
ATTENTION = ("gaps", "awaiting", "stale")  # open gaps, referrals awaiting, unanswered too long
SORTS = ("activity", "oldest_activity", "first_screened", "gaps", "awaiting")


@dataclass(frozen=True)
class CaseFilters:
    """What the case list is narrowed to and ordered by (query parameters, checked)."""

    status: str | None = None
    code: str | None = None
    state: str | None = None
    encounter: str | None = None
    sex: str | None = None
    age_band: str | None = None
    nationality: str | None = None
    attention: str | None = None
    sort: str = "activity"
    show: str = "open"  # open cases (the working list), closed ones, or all


@dataclass(frozen=True)
class CaseRow:
    case: Case
    stale_referrals: int
    open_gaps: int
    awaiting: int = 0  # referrals requested and not yet answered by the service
    last_activity: datetime | None = None  # the latest screening or referral change
    age: int | None = None
    minor: bool = False
    sex: str = "unknown"
    nationality: str = "ZZ"
    encounter: str = ""
    questions_not_asked: int | None = None  # None: screened without the questions (API, import)

    @property
    def age_band(self) -> str:
        if self.age is None:
            return AGE_UNKNOWN
        return next(band for band, (low, high) in AGE_BANDS.items() if low <= self.age <= high)


def case_list(
    session: Session,
    reach: Reach,
    *,
    status: str | None = None,
    code: str | None = None,
    stale_days: int,
    page: int = 1,
    filters: CaseFilters | None = None,
) -> tuple[list[CaseRow], int]:
    """The working list of cases in reach (a SQL WHERE), filtered and ordered in SQL, with each
    case's latest screening facts and its open gaps and referrals awaiting an answer."""
    f = filters or CaseFilters(status=status, code=code)
    stale_before = utcnow() - timedelta(days=stale_days)
    gaps = (
        select(func.count())
        .where(Gap.case_id == Case.id, col(Gap.closed_at).is_(None))
        .correlate(Case)
        .scalar_subquery()
    )
    awaiting = (
        select(func.count())
        .where(Referral.case_id == Case.id, Referral.status == ReferralStatus.requested)
        .correlate(Case)
        .scalar_subquery()
    )
    stale = (
        select(func.count())
        .where(Referral.case_id == Case.id, Referral.status == ReferralStatus.requested)
        .where(Referral.updated_at < stale_before)
        .correlate(Case)
        .scalar_subquery()
    )
    last_referral = (
        select(func.max(Referral.updated_at))
        .where(Referral.case_id == Case.id)
        .correlate(Case)
        .scalar_subquery()
    )
    last_activity = type_coerce(
        sql_case(
            (last_referral > Case.updated_at, last_referral),
            else_=Case.updated_at,
        ),
        UTCDateTime(),
    )
    latest = Screening.id == Case.latest_screening_id
    conditions: list[Any] = []
    if f.status:
        conditions.append(Case.latest_status == f.status)
    if f.code:
        conditions.append(col(Case.code).contains(f.code.strip().upper()))
    if f.state:
        conditions.append(Case.state == f.state)
    if f.encounter:
        conditions.append(Screening.encounter == f.encounter)
    if f.sex:
        conditions.append(Screening.sex == f.sex)
    if f.nationality:
        conditions.append(Screening.nationality == f.nationality)
    if f.age_band == AGE_UNKNOWN:
        conditions.append(col(Screening.age).is_(None))
    elif f.age_band in AGE_BANDS:
        low, high = AGE_BANDS[f.age_band]
        conditions.append(col(Screening.age).between(low, high))
    if f.show == "open":
        conditions.append(col(Case.closed_at).is_(None))
    elif f.show == "closed":
        conditions.append(col(Case.closed_at).is_not(None))
    if f.attention == "gaps":
        conditions.append(gaps > 0)
    elif f.attention == "awaiting":
        conditions.append(awaiting > 0)
    elif f.attention == "stale":
        conditions.append(stale > 0)

    def narrowed(query: Any) -> Any:
        query = reach.filter(query.outerjoin(Screening, latest), Case.state, Case.screener_id)
        return query.where(*conditions) if conditions else query

    total = session.exec(narrowed(select(func.count()).select_from(Case))).one()
    order = {
        "activity": [last_activity.desc()],
        "oldest_activity": [last_activity.asc()],
        "first_screened": [col(Case.first_screened_at).desc()],
        "gaps": [gaps.desc(), last_activity.desc()],
        "awaiting": [awaiting.desc(), last_activity.desc()],
    }[f.sort if f.sort in SORTS else "activity"]
    query = narrowed(
        sa_select(
            Case,
            stale,
            gaps,
            awaiting,
            last_activity,
            col(Screening.age),
            col(Screening.minor),
            col(Screening.sex),
            col(Screening.nationality),
            col(Screening.encounter),
            col(Screening.questions_not_asked),
        ).select_from(Case)
    )
    found = session.execute(
        query.order_by(*order, col(Case.id).desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    rows = [
        CaseRow(
            case=row[0],
            stale_referrals=row[1] or 0,
            open_gaps=row[2] or 0,
            awaiting=row[3] or 0,
            last_activity=row[4],
            age=row[5],
            minor=bool(row[6]) if row[6] is not None else False,
            sex=row[7] or "unknown",
            nationality=row[8] or "ZZ",
            encounter=row[9] or "",
            questions_not_asked=row[10],
        )
        for row in found
    ]
    return rows, total


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # screening | referral | gap_opened | gap_closed
    item: Any
    extra: Any = None
    actor: str | None = None  # who acted, for a referral event made by an account


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
        user_ids = {e.by_user_id for e in events if e.by_user_id is not None}
        names = (
            {
                user.id: user.display_name or user.email
                for user in session.exec(select(User).where(col(User.id).in_(user_ids))).all()
            }
            if user_ids
            else {}
        )
        for event in events:
            entries.append(
                TimelineEntry(
                    event.at,
                    "referral",
                    event,
                    referrals[event.referral_id],
                    actor=names.get(event.by_user_id) if event.by_user_id else None,
                )
            )
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
