"""The loop panel (issue 14): how fast services answer their referrals, who records the
answers, what waits unanswered, and the legal clocks overdue. Each number has a key, and
:func:`loop_case_ids` gives the cases behind it under the same conditions and reach.

A referral's first answer is its first event after it was made that a service gives
(accepted, rejected, in progress, on hold, completed, failed); cancelled and entered in error
are the screener's own. Its channel says who gave it: the service itself (its account, its
answer link or its system) or the screener recording what the service said.

What the page reads does not grow with the cases (issue 17, third pass): first answers come
from the maintained ``answer_count`` (whole-hour bins by day, month, year and all time, see
:func:`aggregates.answer_bins`), so the median and 90th percentile are within half an hour
of the exact ones; the legal clocks from ``loop_clock`` (one row per case with a clock,
kept by the flush), where "overdue" and "ended" are counts of an index range. The functions
named ``*_recount`` read every referral event and screening as before: the reference the
tests and the benchmark compare with.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, false, func, literal, or_, select
from sqlmodel import Session

from referral.access import Reach
from referral.casework import models as casework_models
from referral.clocks import queries as clocks
from referral.clocks.models import ChildNotice as ChildNoticeModel
from referral.rules.contract import Alert
from referral.supervision import aggregates
from referral.supervision.queries import CaseList, Filters, day_start, hours_between

Case: Any = casework_models.Case
Referral: Any = casework_models.Referral
ReferralEvent: Any = casework_models.ReferralEvent
Screening: Any = casework_models.Screening
ChildNotice: Any = ChildNoticeModel
Channel = casework_models.EventChannel
REFLECTION = timedelta(days=clocks.REFLECTION_DAYS)

ANSWERS = aggregates.ANSWERS
SERVICE_CHANNELS = aggregates.SERVICE_CHANNELS
UNANSWERED_DAYS = (2, 7, 30)  # "no answer after N days", each its own number
OUTSIDE = aggregates.OUTSIDE  # the key of referrals to a provider outside the directory
LoopClock: Any = aggregates.LoopClock
LOOP_PANELS = ("answer_time", "answered_by", "unanswered", "child_notice", "reflection")


def _scoped(query: Any, reach: Reach, state_column: Any) -> Any:
    """Supervisors see their states' rows only; admins and national supervisors all."""
    if not (reach.is_admin or reach.is_supervisor):
        return query.where(false())
    return reach.filter(query, state_column)


def _referral_conditions(filters: Filters, session: Session) -> list[Any]:
    """Referrals made in the period, in the chosen state and need."""
    conditions = []
    if filters.since:
        conditions.append(Referral.created_at >= day_start(filters.since))
    if filters.until:
        conditions.append(Referral.created_at < day_start(filters.until + timedelta(days=1)))
    if filters.state:
        conditions.append(Referral.state == filters.state)
    if filters.need:
        conditions.append(Referral.need == filters.need)
    return conditions


def first_answers(session: Session, reach: Reach, filters: Filters) -> Any:
    """One row per answered referral in reach: its case, service, state, the hours to its
    first answer, and whether the service gave that answer itself."""
    first = (
        select(
            ReferralEvent.referral_id.label("referral_id"),
            func.min(ReferralEvent.id).label("event_id"),
        )
        .where(ReferralEvent.status.in_(ANSWERS))
        .group_by(ReferralEvent.referral_id)
        .subquery()
    )
    by_service = case(
        (ReferralEvent.channel.in_(SERVICE_CHANNELS), literal("service")), else_=literal("screener")
    )
    query = (
        select(
            Referral.case_id.label("case_id"),
            func.coalesce(Referral.service_id, literal(OUTSIDE)).label("service"),
            Referral.state.label("state"),
            hours_between(Referral.created_at, ReferralEvent.at, session).label("hours"),
            by_service.label("answered_by"),
        )
        .select_from(first)
        .join(Referral, Referral.id == first.c.referral_id)
        .join(ReferralEvent, ReferralEvent.id == first.c.event_id)
        .where(*_referral_conditions(filters, session))
    )
    return _scoped(query, reach, Referral.state)


def percentile(values: list[float], q: float) -> float:
    """PostgreSQL's percentile_cont: linear interpolation between the nearest ranks."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class AnswerTime:
    service: str
    state: str
    answered: int
    median_hours: float
    p90_hours: float

    @property
    def key(self) -> str:
        return f"{self.service}|{self.state}"


def answer_times(session: Session, reach: Reach, filters: Filters) -> list[AnswerTime]:
    """Hours from referral to the service's first answer, median and 90th percentile, by
    service and state (the slowest median first), from the maintained hour bins."""
    return _answer_times(aggregates.answer_bins(session, reach, filters))


def _answer_times(bins: Counter[aggregates.AnswerBin]) -> list[AnswerTime]:
    by_pair: dict[tuple[str, str], Counter[int]] = defaultdict(Counter)
    for (state, service, _need, _by, hours), n in bins.items():
        by_pair[(service, state)][hours] += n
    out = []
    for (service, state), pair_bins in by_pair.items():
        median = aggregates.binned_percentile(pair_bins, 0.5)
        p90 = aggregates.binned_percentile(pair_bins, 0.9)
        if median is None or p90 is None:
            continue
        out.append(AnswerTime(service, state, sum(pair_bins.values()), median, p90))
    return sorted(out, key=lambda t: (-t.median_hours, t.service, t.state))


def answered_by(session: Session, reach: Reach, filters: Filters) -> dict[str, int]:
    """First answers given by the service itself, and recorded by the screener."""
    return _answered_by(aggregates.answer_bins(session, reach, filters))


def _answered_by(bins: Counter[aggregates.AnswerBin]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for (_state, _service, _need, by, _hours), n in bins.items():
        counts[by] += n
    return {key: int(counts.get(key, 0)) for key in ("service", "screener")}


def answer_times_recount(session: Session, reach: Reach, filters: Filters) -> list[AnswerTime]:
    """Hours from referral to the service's first answer, median and 90th percentile, by
    service and state (the slowest median first), read from every referral event: the
    reference for :func:`answer_times`."""
    rows = first_answers(session, reach, filters).subquery()
    if session.get_bind().dialect.name == "postgresql":
        grouped = session.execute(
            select(
                rows.c.service,
                rows.c.state,
                func.count(),
                func.percentile_cont(0.5).within_group(rows.c.hours),
                func.percentile_cont(0.9).within_group(rows.c.hours),
            ).group_by(rows.c.service, rows.c.state)
        ).all()
        out = [AnswerTime(s, st, int(n), float(m), float(p)) for s, st, n, m, p in grouped]
    else:  # SQLite has no percentile aggregate: the hours of each group, ordered in Python
        hours: dict[tuple[str, str], list[float]] = defaultdict(list)
        for service, state, value in session.execute(
            select(rows.c.service, rows.c.state, rows.c.hours)
        ).all():
            hours[(service, state)].append(float(value))
        out = [
            AnswerTime(s, st, len(v), percentile(v, 0.5), percentile(v, 0.9))
            for (s, st), v in hours.items()
        ]
    return sorted(out, key=lambda t: (-t.median_hours, t.service, t.state))


def answered_by_recount(session: Session, reach: Reach, filters: Filters) -> dict[str, int]:
    """First answers given by the service itself, and recorded by the screener."""
    rows = first_answers(session, reach, filters).subquery()
    counts = dict(
        session.execute(select(rows.c.answered_by, func.count()).group_by(rows.c.answered_by)).all()
    )
    return {key: int(counts.get(key, 0)) for key in ("service", "screener")}


def unanswered_query(
    session: Session, reach: Reach, filters: Filters, days: int, now: datetime
) -> Any:
    query = select(Referral.case_id).where(
        *_referral_conditions(filters, session),
        Referral.status.in_(clocks.AWAITING),
        Referral.created_at <= now - timedelta(days=days),
    )
    return _scoped(query, reach, Referral.state)


def unanswered(session: Session, reach: Reach, filters: Filters, now: datetime) -> dict[int, int]:
    """Referrals still without an answer after each of UNANSWERED_DAYS days: one read of the
    waiting referrals older than the shortest time (an index on status and creation time)."""
    shortest = min(UNANSWERED_DAYS)
    columns = [
        func.coalesce(
            func.sum(case((Referral.created_at <= now - timedelta(days=d), 1), else_=0)), 0
        )
        for d in UNANSWERED_DAYS
    ]
    query = select(*columns).where(
        *_referral_conditions(filters, session),
        Referral.status.in_(clocks.AWAITING),
        Referral.created_at <= now - timedelta(days=shortest),
    )
    row = session.execute(_scoped(query, reach, Referral.state)).one()
    return {days: int(n) for days, n in zip(UNANSWERED_DAYS, row, strict=True)}


def _clocks_in_reach(query: Any, reach: Reach, filters: Filters) -> Any:
    """The clock rows of the chosen state in the supervisor's states (the case's state as
    it is now, kept in step by the flush)."""
    if filters.state:
        query = query.where(LoopClock.state == filters.state)
    return _supervised(reach).filter(query, LoopClock.state)


def overdue_child_notices_query(
    reach: Reach, filters: Filters, settings: clocks.Settings, now: datetime
) -> Any:
    """Minors' cases whose child-protection notice is still open past the escalation time
    (an index range of ``loop_clock``)."""
    query = select(LoopClock.case_id).where(
        LoopClock.notice_due_at <= now - settings.escalate_after
    )
    return _clocks_in_reach(query, reach, filters)


def overdue_child_notice_count(
    session: Session, reach: Reach, filters: Filters, settings: clocks.Settings, now: datetime
) -> int:
    """How many cases :func:`overdue_child_notices_query` holds."""
    query = overdue_child_notices_query(reach, filters, settings, now).subquery()
    return int(session.execute(select(func.count()).select_from(query)).scalar_one())


def reflections_query(
    reach: Reach, filters: Filters, settings: clocks.Settings, now: datetime, key: str
) -> Any:
    """Cases whose reflection period ends within the reminder days (``ending``) or has
    ended (``ended``), as ``clocks.Reflection.ending_soon`` and ``.ended`` say."""
    starts = LoopClock.reflection_starts_at
    if key == "ended":  # now >= start + 30 days
        condition = starts <= now - REFLECTION
    else:  # start + 30 days - reminder <= now < start + 30 days
        condition = and_(
            starts > now - REFLECTION, starts <= now - REFLECTION + settings.reminder_before
        )
    return _clocks_in_reach(select(LoopClock.case_id).where(condition), reach, filters)


def reflection_counts(
    session: Session, reach: Reach, filters: Filters, settings: clocks.Settings, now: datetime
) -> tuple[int, int]:
    """How many reflection periods end within the reminder days, and how many have ended."""
    counts = []
    for key in ("ending", "ended"):
        query = reflections_query(reach, filters, settings, now, key).subquery()
        counts.append(int(session.execute(select(func.count()).select_from(query)).scalar_one()))
    return counts[0], counts[1]


# --- the reference: the same numbers read from every screening (tests, benchmark) ------------


def _in_state(cases: list[Any], filters: Filters) -> list[Any]:
    return [c for c in cases if not filters.state or c.state == filters.state]


def overdue_child_notices(
    session: Session, reach: Reach, filters: Filters, settings: clocks.Settings, now: datetime
) -> list[Any]:
    """Minors' cases whose child-protection notice is still open past the escalation time."""
    open_ones = clocks.open_child_notices(
        session, _supervised(reach), due_before=now - settings.escalate_after
    )
    return _in_state([case for case, _due in open_ones], filters)


def overdue_child_notice_count_recount(
    session: Session, reach: Reach, filters: Filters, settings: clocks.Settings, now: datetime
) -> int:
    """How many :func:`overdue_child_notices` there are, counted by the database (the same
    conditions as ``clocks.open_child_notices``; no case objects loaded)."""
    starts = clocks.child_notice_starts(session).subquery()
    query = (
        select(func.count())
        .select_from(starts)
        .join(Case, Case.id == starts.c.case_id)
        .outerjoin(ChildNotice, ChildNotice.case_id == Case.id)
        .where(ChildNotice.id.is_(None), starts.c[1] <= now - settings.escalate_after)
    )
    if filters.state:
        query = query.where(Case.state == filters.state)
    query = _supervised(reach).filter(query, Case.state, Case.screener_id)
    return int(session.execute(query).scalar_one())


def reflections(
    session: Session,
    reach: Reach,
    filters: Filters,
    settings: clocks.Settings,
    now: datetime,
    key: str,
) -> list[Any]:
    """Cases whose reflection period ends within the reminder days (``ending``) or has
    ended (``ended``)."""
    periods = clocks.reflection_periods(session, _supervised(reach))
    return _in_state(_reflections_of(periods, settings, now, key), filters)


def _reflections_of(
    periods: list[Any], settings: clocks.Settings, now: datetime, key: str
) -> list[Any]:
    return [
        p.case
        for p in periods
        if (p.ended(now) if key == "ended" else p.ending_soon(now, settings.reminder_before))
    ]


def reflection_counts_recount(
    session: Session, reach: Reach, filters: Filters, settings: clocks.Settings, now: datetime
) -> tuple[int, int]:
    """How many reflection periods end within the reminder days, and how many have ended:
    the same periods as :func:`clocks.reflection_periods` (each case's first screening that
    raised the alert), read as plain columns (no case or screening objects: the panel only
    counts them)."""
    query = (
        select(Screening.case_id, Screening.screened_at, Screening.result, Case.state)
        .join(Case, Case.id == Screening.case_id)
        .where(
            Screening.status.in_(clocks.INDICATED),
            or_(Screening.foreign.is_(True), Screening.nationality == "ZZ"),
        )
        .order_by(Screening.case_id, Screening.screened_at)
    )
    query = _supervised(reach).filter(query, Case.state, Case.screener_id)
    seen: set[int] = set()
    ending = ended = 0
    for case_id, screened_at, result, state in session.execute(query):
        if case_id in seen:
            continue
        alerts = (result or {}).get("alerts", [])
        if not any(a.get("code") == Alert.reflection_period for a in alerts):
            continue
        seen.add(case_id)
        if filters.state and state != filters.state:
            continue
        ends = screened_at + REFLECTION  # as clocks.Reflection.ended and .ending_soon
        if now >= ends:
            ended += 1
        elif ends - settings.reminder_before <= now:
            ending += 1
    return ending, ended


def _supervised(reach: Reach) -> Reach:
    """The reach of the dashboard: the supervisor's states (not the cases they screened)."""
    return Reach(role=reach.role, user_id=None, states=reach.states, national=reach.national)


@dataclass
class LoopPanel:
    answer_times: list[AnswerTime] = field(default_factory=list)
    answered_by: dict[str, int] = field(default_factory=dict)
    unanswered: dict[int, int] = field(default_factory=dict)
    child_notices_overdue: int = 0
    reflections_ending: int = 0
    reflections_ended: int = 0
    binned: bool = False  # the times come from whole-hour bins (within half an hour)

    @property
    def service_share(self) -> float | None:
        total = sum(self.answered_by.values())
        return self.answered_by.get("service", 0) / total if total else None


def loop_panel(
    session: Session, reach: Reach, filters: Filters, settings: clocks.Settings, now: datetime
) -> LoopPanel:
    """Every number of the panel, from the maintained counts and clocks."""
    ending, ended = reflection_counts(session, reach, filters, settings, now)
    bins = aggregates.answer_bins(session, reach, filters)
    return LoopPanel(
        answer_times=_answer_times(bins),
        answered_by=_answered_by(bins),
        unanswered=unanswered(session, reach, filters, now),
        child_notices_overdue=overdue_child_notice_count(session, reach, filters, settings, now),
        reflections_ending=ending,
        reflections_ended=ended,
        binned=True,
    )


def loop_panel_recount(
    session: Session, reach: Reach, filters: Filters, settings: clocks.Settings, now: datetime
) -> LoopPanel:
    """The same panel read from every referral event and screening (the reference)."""
    ending, ended = reflection_counts_recount(session, reach, filters, settings, now)
    return LoopPanel(
        answer_times=answer_times_recount(session, reach, filters),
        answered_by=answered_by_recount(session, reach, filters),
        unanswered=unanswered(session, reach, filters, now),
        child_notices_overdue=overdue_child_notice_count_recount(
            session, reach, filters, settings, now
        ),
        reflections_ending=ending,
        reflections_ended=ended,
    )


def loop_case_ids(
    session: Session,
    reach: Reach,
    filters: Filters,
    settings: clocks.Settings,
    now: datetime,
    panel: str,
    key: str,
) -> Any:
    """The ids of the cases behind one number of the loop panel (a SELECT or a list)."""
    if panel == "answer_time":
        service, _, state = key.partition("|")
        rows = first_answers(session, reach, filters).subquery()
        return select(rows.c.case_id).where(rows.c.service == service, rows.c.state == state)
    if panel == "answered_by":
        rows = first_answers(session, reach, filters).subquery()
        return select(rows.c.case_id).where(rows.c.answered_by == key)
    if panel == "unanswered":
        days = int(key) if key.isdigit() and int(key) in UNANSWERED_DAYS else UNANSWERED_DAYS[0]
        return unanswered_query(session, reach, filters, days, now)
    if panel == "child_notice":
        return overdue_child_notices_query(reach, filters, settings, now)
    if panel == "reflection":
        return reflections_query(reach, filters, settings, now, key)
    raise ValueError(panel)


def cases_listing(
    session: Session, reach: Reach, ids: Any, *, page: int = 1, page_size: int = 50
) -> CaseList:
    """One page of the cases behind a number (``ids``: a SELECT of case ids, or a list), each
    in reach itself (its state may have changed since)."""
    condition = Case.id.in_(ids if isinstance(ids, list) else select(ids.subquery().c[0]))
    total_query = reach.filter(select(func.count()).select_from(Case).where(condition), Case.state)
    total = int(session.execute(total_query).scalar_one())
    query = reach.filter(select(Case).where(condition), Case.state)
    query = query.order_by(Case.first_screened_at.desc(), Case.id.desc())
    rows = session.execute(query.offset((page - 1) * page_size).limit(page_size)).scalars().all()
    return CaseList(list(rows), total)
