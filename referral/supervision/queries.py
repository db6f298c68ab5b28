"""The gap dashboard's numbers: SQL aggregations over gap, referral and screening rows.

Every panel is one GROUP BY query restricted to the user's reach (``Reach.filter`` on the
row's state) and to the filters; nothing loads rows into Python to count them. Every
number has a key, and :func:`case_ids` gives the cases behind it with the same conditions.

Days and months are Mexico City days and months. Mexico City has kept UTC-6 all year since
2022, so a month is bucketed by shifting the stored UTC time by six hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, false, func, literal, select
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col

from referral.access import Reach
from referral.casework import models as casework_models
from referral.i18n import local_timezone
from referral.rules.contract import DECLINED_STATUSES, GapKind, ReferralStatus

# Table classes as query builders: their attributes are SQL columns here, not Python values.
Case: Any = casework_models.Case
Screening: Any = casework_models.Screening
ScreeningForm: Any = casework_models.ScreeningForm
Gap: Any = casework_models.Gap
GapReason: Any = casework_models.GapReason
Referral: Any = casework_models.Referral

GAP_KINDS = tuple(GapKind)
AGE_BANDS = ("0-11", "12-17", "18-29", "30-59", "60+", "unknown")
NONE = "none"  # the bucket of a gap with no screening, or a screening with no form

# Panels over gap records: dimension -> how to read it.
GAP_PANELS = ("need", "reason", "state", "month", "kind")
PROFILE_PANELS = ("sex", "age_band", "minor", "foreign", "form")
REFERRAL_PANELS = ("referral_status", "rejection_reason")
PANELS = (*GAP_PANELS, *PROFILE_PANELS, *REFERRAL_PANELS, "encounter", "accepted", "open_for")


@dataclass(frozen=True)
class Filters:
    since: date | None = None
    until: date | None = None
    state: str | None = None
    need: str | None = None
    reason: str | None = None
    kind: str | None = None

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments (for links to the cases behind a number)."""
        out = {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "state": self.state,
            "need": self.need,
            "reason": self.reason,
            "kind": self.kind,
        }
        return {k: v for k, v in out.items() if v}


def day_start(day: date) -> datetime:
    """The first instant of a Mexico City day, in UTC."""
    local = datetime.combine(day, time.min, tzinfo=local_timezone())
    return local.astimezone(UTC)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def month_of(column: Any, session: Session) -> ColumnElement[str]:
    """'YYYY-MM' of a stored UTC time, in Mexico City (UTC-6)."""
    if _dialect(session) == "postgresql":
        return func.to_char(func.timezone(local_timezone().key, column), "YYYY-MM")
    return func.strftime("%Y-%m", column, "-6 hours")


def hours_between(start: Any, end: Any, session: Session) -> Any:
    if _dialect(session) == "postgresql":
        return func.extract("epoch", end - start) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def age_band(age: Any) -> ColumnElement[str]:
    return case(
        (age.is_(None), "unknown"),
        (age < 12, "0-11"),
        (age < 18, "12-17"),
        (age < 30, "18-29"),
        (age < 60, "30-59"),
        else_="60+",
    )


def _in_period(column: Any, filters: Filters, session: Session) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if filters.since:
        out.append(column >= day_start(filters.since))
    if filters.until:
        out.append(column < day_start(filters.until + timedelta(days=1)))
    return out


def _scoped(query: Any, reach: Reach, state_column: Any) -> Any:
    """Supervisors see their states' rows only; admins and national supervisors all."""
    if not (reach.is_admin or reach.is_supervisor):
        return query.where(false())
    return reach.filter(query, state_column)


# --- gap records -----------------------------------------------------------------------


def reason_codes(reason: str) -> list[str]:
    """The codes a reason filter stands for: reasons that read the same (routing's "no free
    places" and a service's "no capacity") are one choice, their codes joined by commas."""
    return [code for code in reason.split(",") if code]


def _gap_conditions(filters: Filters, session: Session) -> list[ColumnElement[bool]]:
    conditions = _in_period(Gap.opened_at, filters, session)
    if filters.state:
        conditions.append(Gap.state == filters.state)
    if filters.need:
        conditions.append(Gap.need == filters.need)
    if filters.kind:
        conditions.append(Gap.kind == filters.kind)
    if filters.reason:
        conditions.append(
            Gap.id.in_(
                select(GapReason.gap_id).where(
                    col(GapReason.reason).in_(reason_codes(filters.reason))
                )
            )
        )
    return conditions


def _profile_screening_id() -> Any:
    """The screening a gap speaks for: its own, or the one its referral was made from."""
    return func.coalesce(Gap.screening_id, Referral.screening_id)


def _gap_dimension(panel: str, session: Session) -> Any:
    return {
        "need": Gap.need,
        "state": Gap.state,
        "kind": Gap.kind,
        "month": month_of(Gap.opened_at, session),
        "reason": GapReason.reason,
        "sex": func.coalesce(Screening.sex, literal(NONE)),
        "age_band": case((Screening.id.is_(None), literal(NONE)), else_=age_band(Screening.age)),
        "minor": case(
            (Screening.id.is_(None), literal(NONE)),
            (Screening.minor.is_(True), literal("minor")),
            else_=literal("adult"),
        ),
        "foreign": case(
            (Screening.id.is_(None), literal(NONE)),
            (Screening.foreign.is_(True), literal("foreign")),
            else_=literal("national"),
        ),
        "form": func.coalesce(ScreeningForm.form, literal(NONE)),
    }[panel]


def _gap_select(columns: Sequence[Any], panel: str) -> Any:
    query = select(*columns).select_from(Gap)
    if panel == "reason":
        query = query.join(GapReason, GapReason.gap_id == Gap.id)
    if panel in PROFILE_PANELS:
        query = query.outerjoin(Referral, Referral.id == Gap.referral_id).outerjoin(
            Screening, Screening.id == _profile_screening_id()
        )
    if panel == "form":
        query = query.outerjoin(ScreeningForm, ScreeningForm.screening_id == Screening.id)
    return query


def gap_counts(
    session: Session, reach: Reach, filters: Filters, panel: str
) -> list[tuple[str, int]]:
    """Gap records counted by one dimension, largest first.

    A gap counts once per reason on the reason panel and once per form on the form panel
    (a gap with two reasons is one gap with two reasons); every other panel counts gaps.
    """
    dimension = _gap_dimension(panel, session).label("key")
    query = _gap_select([dimension, func.count().label("n")], panel)
    query = _scoped(query.where(*_gap_conditions(filters, session)), reach, Gap.state)
    rows = session.execute(query.group_by(dimension)).all()
    return _ordered(rows, panel)


def gap_total(session: Session, reach: Reach, filters: Filters) -> int:
    query = select(func.count()).select_from(Gap).where(*_gap_conditions(filters, session))
    return int(session.execute(_scoped(query, reach, Gap.state)).scalar_one())


def _ordered(rows: Sequence[Any], panel: str) -> list[tuple[str, int]]:
    pairs = [(str(key), int(n)) for key, n in rows]
    if panel == "month":
        return sorted(pairs)
    if panel == "age_band":
        order = {band: i for i, band in enumerate((*AGE_BANDS, NONE))}
        return sorted(pairs, key=lambda p: order.get(p[0], 99))
    return sorted(pairs, key=lambda p: (-p[1], p[0]))


GAP_ENDINGS = ("open", "accepted", "rerouted", "case_closed")  # open, or its closed_reason


def gap_endings(session: Session, reach: Reach, filters: Filters) -> list[tuple[str, int]]:
    """Gap records by how they ended: still open, or their closed_reason. Gaps closed because
    their case was closed (``case_closed``) are kept apart from those a service closed."""
    ending = func.coalesce(Gap.closed_reason, literal("open")).label("key")
    query = select(ending, func.count()).select_from(Gap).where(*_gap_conditions(filters, session))
    rows = dict(session.execute(_scoped(query, reach, Gap.state).group_by(ending)).all())
    return [(key, int(rows.get(key, 0))) for key in GAP_ENDINGS]


# --- referral outcomes -----------------------------------------------------------------


def _referral_conditions(filters: Filters, session: Session) -> list[ColumnElement[bool]]:
    conditions = _in_period(Referral.created_at, filters, session)
    if filters.state:
        conditions.append(Referral.state == filters.state)
    if filters.need:
        conditions.append(Referral.need == filters.need)
    return conditions


def referral_counts(
    session: Session, reach: Reach, filters: Filters, panel: str
) -> list[tuple[str, int]]:
    """Referrals by status, or declined referrals (rejected, failed) by reason code."""
    key = Referral.status if panel == "referral_status" else Referral.reason_code
    query = select(key.label("key"), func.count().label("n")).where(
        *_referral_conditions(filters, session)
    )
    if panel == "rejection_reason":
        query = query.where(
            Referral.status.in_(DECLINED_STATUSES),
            Referral.reason_code.is_not(None),
        )
    rows = session.execute(_scoped(query, reach, Referral.state).group_by(key)).all()
    return _ordered(rows, panel)


@dataclass(frozen=True)
class Outcomes:
    referrals: int  # every referral but those entered in error
    accepted: int  # ever accepted
    cases_accepted: int  # cases with an accepted referral (the median's population)
    median_hours: float | None  # first screening -> first accepted referral
    binned: bool = False  # the median from whole-hour bins (maintained aggregates)

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.referrals if self.referrals else None


def outcomes(session: Session, reach: Reach, filters: Filters) -> Outcomes:
    base = select(
        func.count().label("n"),
        func.count(Referral.accepted_at).label("accepted"),
    ).where(
        *_referral_conditions(filters, session),
        Referral.status != ReferralStatus.entered_in_error,
    )
    totals = session.execute(_scoped(base, reach, Referral.state)).one()
    count, median = _median_hours_to_acceptance(session, reach, filters)
    return Outcomes(int(totals.n), int(totals.accepted), count, median)


def _first_accepted(session: Session, reach: Reach, filters: Filters) -> Any:
    """Per case: hours from the case's first screening to its first accepted referral."""
    first = select(
        Referral.case_id.label("case_id"),
        func.min(Referral.accepted_at).label("accepted_at"),
    ).where(Referral.accepted_at.is_not(None))
    if filters.state:
        first = first.where(Referral.state == filters.state)
    if filters.need:
        first = first.where(Referral.need == filters.need)
    first = _scoped(first, reach, Referral.state).group_by(Referral.case_id).subquery()
    hours = hours_between(Case.first_screened_at, first.c.accepted_at, session).label("hours")
    return (
        select(hours)
        .select_from(first)
        .join(Case, Case.id == first.c.case_id)
        .where(*_in_period(Case.first_screened_at, filters, session))
    )


def _median_hours_to_acceptance(
    session: Session, reach: Reach, filters: Filters
) -> tuple[int, float | None]:
    durations = _first_accepted(session, reach, filters).subquery()
    if session.get_bind().dialect.name == "postgresql":
        # One pass: PostgreSQL has an ordered-set aggregate for the median.
        count, median = session.execute(
            select(
                func.count(),
                func.percentile_cont(0.5).within_group(durations.c.hours),
            ).select_from(durations)
        ).one()
        return int(count), (float(median) if count else None)
    count = int(session.execute(select(func.count()).select_from(durations)).scalar_one())
    if not count:
        return 0, None
    # SQLite has no percentile aggregate: the median by ORDER BY ... OFFSET.
    middle = (
        session.execute(
            select(durations.c.hours).order_by(durations.c.hours).offset((count - 1) // 2).limit(2)
        )
        .scalars()
        .all()
    )
    values = [float(v) for v in middle]
    median = values[0] if count % 2 else (values[0] + values[1]) / 2
    return count, median


# --- screenings ------------------------------------------------------------------------


@dataclass(frozen=True)
class EncounterRow:
    encounter: str
    screenings: int
    likely: int
    possible: int


def screenings_by_encounter(session: Session, reach: Reach, filters: Filters) -> list[EncounterRow]:
    likely = func.sum(case((Screening.status == "likely", 1), else_=0))
    possible = func.sum(case((Screening.status == "possible", 1), else_=0))
    query = select(Screening.encounter, func.count(), likely, possible).where(
        *_in_period(Screening.screened_at, filters, session)
    )
    if filters.state:
        query = query.where(Screening.state == filters.state)
    rows = session.execute(_scoped(query, reach, Screening.state).group_by(Screening.encounter))
    out = [EncounterRow(e, int(n), int(lk or 0), int(ps or 0)) for e, n, lk, ps in rows.all()]
    return sorted(out, key=lambda r: (-r.screenings, r.encounter))


# --- the cases behind a number ---------------------------------------------------------


# Gap records apart: the closed ones, and the open ones by how long they have been open.
OPEN_FOR = (("open_under_7", 7), ("open_7_30", 30), ("open_31_90", 90), ("open_over_90", None))
OPEN_FOR_KEYS = (*(key for key, _days in OPEN_FOR), "closed")


def _open_for(now: datetime) -> Any:
    """'closed', or which band of days the gap has been open for at ``now``."""
    bands = [(Gap.closed_at.is_not(None), literal("closed"))]
    bands += [
        (Gap.opened_at > now - timedelta(days=days), literal(key))
        for key, days in OPEN_FOR
        if days is not None
    ]
    return case(*bands, else_=literal(OPEN_FOR[-1][0]))


@dataclass(frozen=True)
class OpenAndClosed:
    counts: list[tuple[str, int]]  # every key of OPEN_FOR_KEYS, in that order
    oldest_open: datetime | None  # when the longest-open gap was opened


def gaps_open_and_closed(
    session: Session, reach: Reach, filters: Filters, now: datetime, closed: int | None = None
) -> OpenAndClosed:
    """Gap records counted open (by days open) and closed, and the oldest open one.

    The open ones depend on ``now``: counted from the open gaps only (a partial index holds
    them: the read is bounded by the open gaps, not every gap). ``closed``: the closed count
    when the caller has it already (the maintained counts); otherwise counted here."""
    band = _open_for(now).label("key")
    query = select(band, func.count().label("n")).select_from(Gap)
    conditions = [*_gap_conditions(filters, session), Gap.closed_at.is_(None)]
    query = _scoped(query.where(*conditions), reach, Gap.state)
    found = {str(key): int(n) for key, n in session.execute(query.group_by(band)).all()}
    if closed is None:
        closed_query = select(func.count()).select_from(Gap)
        closed_query = closed_query.where(
            *_gap_conditions(filters, session), Gap.closed_at.is_not(None)
        )
        closed = int(session.execute(_scoped(closed_query, reach, Gap.state)).scalar_one())
    found["closed"] = closed
    oldest = select(func.min(Gap.opened_at)).where(*conditions)
    return OpenAndClosed(
        counts=[(key, found.get(key, 0)) for key in OPEN_FOR_KEYS],
        oldest_open=session.execute(_scoped(oldest, reach, Gap.state)).scalar(),
    )


def _open_for_case_ids(
    session: Session, reach: Reach, filters: Filters, key: str, now: datetime
) -> Any:
    query = select(Gap.case_id).where(*_gap_conditions(filters, session), _open_for(now) == key)
    return _scoped(query, reach, Gap.state)


def case_ids(
    session: Session,
    reach: Reach,
    filters: Filters,
    panel: str,
    key: str,
    now: datetime | None = None,
) -> Any:
    """A SELECT of the ids of the cases behind one number (same conditions and reach)."""
    if panel == "open_for":
        return _open_for_case_ids(session, reach, filters, key, now or datetime.now(UTC))
    if panel in GAP_PANELS or panel in PROFILE_PANELS or panel == "total":
        query = _gap_select([Gap.case_id], panel if panel != "total" else "need")
        query = query.where(*_gap_conditions(filters, session))
        if panel == "reason":
            query = query.where(col(GapReason.reason).in_(reason_codes(key)))
        elif panel != "total":
            query = query.where(_gap_dimension(panel, session) == key)
        return _scoped(query, reach, Gap.state)
    if panel in REFERRAL_PANELS:
        query = select(Referral.case_id).where(*_referral_conditions(filters, session))
        if panel == "referral_status":
            query = query.where(Referral.status == key)
        else:
            query = query.where(
                Referral.status.in_(DECLINED_STATUSES),
                col(Referral.reason_code).in_(reason_codes(key)),
            )
        return _scoped(query, reach, Referral.state)
    if panel == "accepted":
        query = select(Referral.case_id).where(
            *_referral_conditions(filters, session),
            Referral.accepted_at.is_not(None),
        )
        return _scoped(query, reach, Referral.state)
    if panel == "encounter":
        query = select(Screening.case_id).where(
            *_in_period(Screening.screened_at, filters, session), Screening.encounter == key
        )
        if filters.state:
            query = query.where(Screening.state == filters.state)
        return _scoped(query, reach, Screening.state)
    raise ValueError(panel)


@dataclass
class CaseList:
    cases: list[Case] = field(default_factory=list)
    total: int = 0


def cases_behind(
    session: Session,
    reach: Reach,
    filters: Filters,
    panel: str,
    key: str,
    *,
    page: int = 1,
    page_size: int = 50,
) -> CaseList:
    ids = case_ids(session, reach, filters, panel, key).subquery()
    # The case itself must be in reach too (its state may have changed since the gap); closed
    # cases leave this working list (the case list's "closed" filter still finds them).
    condition = Case.id.in_(select(ids.c.case_id)) & Case.closed_at.is_(None)
    total_query = reach.filter(select(func.count()).select_from(Case).where(condition), Case.state)
    total = int(session.execute(total_query).scalar_one())
    query = reach.filter(select(Case).where(condition), Case.state)
    query = query.order_by(Case.first_screened_at.desc(), Case.id.desc())
    rows = session.execute(query.offset((page - 1) * page_size).limit(page_size)).scalars().all()
    return CaseList(list(rows), total)
