"""The gap dashboard's numbers, maintained as the data changes instead of counted per request.

Design (issue 17). Every change to a gap, its reasons, a referral, a screening or its forms
is turned, inside the flush that writes it, into *facts*: one small record per gap,
referral, screening and per case's first acceptances, holding exactly what the panels
count. The flush appends the old fact with sign -1 and the new one with sign +1 to
``aggregate_delta`` (an append: writers never contend for a counter row). A *fold* later
takes the deltas away with ``DELETE ... RETURNING`` (each delta is taken by one folder
only: no lock of ours, the database's row delete decides) and adds them to
``aggregate_count`` with an additive upsert in the same transaction. A read sums
``aggregate_count`` and the deltas not yet folded, in one snapshot, so it is exact at every
moment; it folds first when more than :data:`FOLD_AT` deltas wait.

``aggregate_count`` holds, per Mexico City month (grain "m") and day (grain "d", for the
unfiltered scopes only), state (each count also under "*", every state, so a national
read takes few rows), scope (the family of panels and the filter: "gap:",
"gap:need:X", "gap:kind:X", "gap:reason:X", "ref:", "ref:need:X", "scr:", and
"acc:<state or *>:<need>" for the acceptance bins) and dimension, one count per key; the
primary key (grain, scope, state, bucket, dim, key) makes each family's read one range. A
page sums month rows and at most two partial months of day rows. Filters the counts cannot
answer exactly (two of need, kind and reason at once; need, kind or reason with a period
that cuts a month; the median for a supervisor of several states without a state filter)
fall back to the full count in
:mod:`referral.supervision.queries`, which stays the reference implementation.

Medians of hours to acceptance come from whole-hour bins (the middle bin's centre: within
half an hour of the exact median), stated on the page.

Erasure: :func:`record_erasure` moves a case's contributions to ``aggregate_erased`` before
its rows are deleted; the counts keep them (they name no one) and :func:`rebuild` adds
them to its recount.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import bindparam, delete, event, func, insert, or_, select
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import attributes
from sqlmodel import Session

from referral.access import Reach
from referral.casework import lifecycle, screening
from referral.casework import models as casework_models
from referral.clocks import queries as clocks
from referral.clocks.models import ChildNotice as ChildNoticeModel
from referral.db import get_db, in_utc
from referral.rules.contract import DECLINED_STATUSES, Alert, ReferralStatus
from referral.supervision import queries
from referral.supervision.models import (
    AggregateCount,
    AggregateDelta,
    AggregateErased,
    AggregateStatus,
    AnswerCount,
    LoopClock,
)

Case: Any = casework_models.Case
Screening: Any = casework_models.Screening
ScreeningForm: Any = casework_models.ScreeningForm
Gap: Any = casework_models.Gap
GapReason: Any = casework_models.GapReason
Referral: Any = casework_models.Referral
ReferralEvent: Any = casework_models.ReferralEvent
ChildNotice: Any = ChildNoticeModel
Channel = casework_models.EventChannel

MONTH, DAY = "m", "d"
ALL_STATES = "*"  # the acceptance rows of every state at once (a case counts once)
FOLD_AT = 200  # deltas waiting before a read folds them first
CHUNK = 500  # ids per IN (...) list
COUNT_TABLE: Any = getattr(AggregateCount, "__table__")  # noqa: B009  (SQLModel types it not)
ERASED_TABLE: Any = getattr(AggregateErased, "__table__")  # noqa: B009
DELTA_TABLE: Any = getattr(AggregateDelta, "__table__")  # noqa: B009
KEY_COLUMNS = ("grain", "scope", "bucket", "state", "dim", "key")
ANSWER_TABLE: Any = getattr(AnswerCount, "__table__")  # noqa: B009
CLOCK_TABLE: Any = getattr(LoopClock, "__table__")  # noqa: B009
ANSWER_COLUMNS = ("grain", "bucket", "state", "service", "need", "answered_by", "hours")
YEAR, ALL_TIME = "y", "t"

# A referral's first answer (issue 14's loop panel): its first event that a service gives;
# cancelled and entered in error are the screener's own. The channel says who gave it.
_S = ReferralStatus
ANSWERS = (_S.accepted, _S.rejected, _S.in_progress, _S.on_hold, _S.completed, _S.failed)
SERVICE_CHANNELS = (Channel.provider, Channel.link, Channel.api)
OUTSIDE = "ad_hoc"  # the service key of referrals to a provider outside the directory

GAP_DIMS = ("total", "state", "need", "kind", "reason", "ending", *queries.PROFILE_PANELS)
REFERRAL_DIMS = ("referral_status", "rejection_reason", "referrals", "accepted")
SCREENING_DIMS = ("screenings", "likely", "possible")
ACCEPT_DIM = "accept_hours"

Key = tuple[str, str, str, str, str, str]  # grain, scope, bucket, state, dim, key
Fact = dict[str, Any]


# --- facts: what one row contributes -------------------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(
        current_app.config["BABEL_DEFAULT_TIMEZONE"] if has_app_context() else "America/Mexico_City"
    )


def local_day(moment: datetime, zone: ZoneInfo | None = None) -> str:
    return in_utc(moment).astimezone(zone or _zone()).date().isoformat()


def _chunks(ids: Sequence[int] | None) -> Iterator[Sequence[int] | None]:
    if ids is None:
        yield None
        return
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _age_band(age: int | None) -> str:
    if age is None:
        return "unknown"
    for limit, band in ((12, "0-11"), (18, "12-17"), (30, "18-29"), (60, "30-59")):
        if age < limit:
            return band
    return "60+"


def gap_facts(session: Session, ids: Sequence[int] | None = None) -> dict[int, Fact]:
    """Per gap: its day, state, need, kind, reasons and the profile of its screening."""
    zone = _zone()
    out: dict[int, Fact] = {}
    profile = func.coalesce(Gap.screening_id, Referral.screening_id)
    for chunk in _chunks(ids):
        query = (
            select(
                Gap.id,
                Gap.case_id,
                Gap.opened_at,
                Gap.state,
                Gap.need,
                Gap.kind,
                Gap.closed_reason,
                Screening.id,
                Screening.sex,
                Screening.age,
                Screening.minor,
                Screening.foreign,
            )
            .select_from(Gap)
            .outerjoin(Referral, Referral.id == Gap.referral_id)
            .outerjoin(Screening, Screening.id == profile)
        )
        reasons_query = select(GapReason.gap_id, GapReason.reason)
        if chunk is not None:
            query = query.where(Gap.id.in_(chunk))
            reasons_query = reasons_query.where(GapReason.gap_id.in_(chunk))
        rows = session.execute(query).all()
        reasons: dict[int, list[str]] = {}
        for gap_id, reason in session.execute(reasons_query):
            reasons.setdefault(gap_id, []).append(reason)
        screening_ids = sorted({row[7] for row in rows if row[7] is not None})
        forms: dict[int, list[str]] = {}
        form_query = select(ScreeningForm.screening_id, ScreeningForm.form)
        for part in _chunks(screening_ids) if chunk is not None else [None]:
            q = (
                form_query
                if part is None
                else form_query.where(ScreeningForm.screening_id.in_(part))
            )
            for screening_id, form in session.execute(q):
                forms.setdefault(screening_id, []).append(form)
        for gid, case_id, opened, state, need, kind, ending, sid, sex, age, minor, foreign in rows:
            none = sid is None
            out[gid] = {
                "k": "gap",
                "case": case_id,
                "day": local_day(opened, zone),
                "state": state,
                "need": need,
                "kind": kind,
                "reasons": sorted(reasons.get(gid, [])),
                "ending": ending or "open",  # how it ended: queries.GAP_ENDINGS
                "sex": queries.NONE if none else (sex or queries.NONE),
                "age_band": queries.NONE if none else _age_band(age),
                "minor": queries.NONE if none else ("minor" if minor else "adult"),
                "foreign": queries.NONE if none else ("foreign" if foreign else "national"),
                "forms": sorted(forms.get(sid, [])) if not none else [],
            }
    return out


def referral_facts(session: Session, ids: Sequence[int] | None = None) -> dict[int, Fact]:
    zone = _zone()
    out: dict[int, Fact] = {}
    for chunk in _chunks(ids):
        query = select(
            Referral.id,
            Referral.case_id,
            Referral.created_at,
            Referral.state,
            Referral.need,
            Referral.status,
            Referral.reason_code,
            Referral.accepted_at,
        )
        if chunk is not None:
            query = query.where(Referral.id.in_(chunk))
        for rid, case_id, created, state, need, status, reason, accepted in session.execute(query):
            out[rid] = {
                "k": "referral",
                "case": case_id,
                "day": local_day(created, zone),
                "state": state,
                "need": need,
                "status": status,
                "reason": reason,
                "accepted": accepted is not None,
            }
    return out


@functools.cache
def _screening_facts_query(*, every: bool) -> Any:
    """Built once: intake reads one screening's facts per submission."""
    query = select(
        Screening.id,
        Screening.case_id,
        Screening.screened_at,
        Screening.state,
        Screening.encounter,
        Screening.status,
    )
    return query if every else query.where(Screening.id.in_(bindparam("ids", expanding=True)))


def screening_facts(session: Session, ids: Sequence[int] | None = None) -> dict[int, Fact]:
    zone = _zone()
    out: dict[int, Fact] = {}
    for chunk in _chunks(ids):
        query = _screening_facts_query(every=chunk is None)
        values = {} if chunk is None else {"ids": list(chunk)}
        for sid, case_id, screened, state, encounter, status in session.execute(query, values):
            out[sid] = {
                "k": "screening",
                "case": case_id,
                "day": local_day(screened, zone),
                "state": state,
                "encounter": encounter,
                "status": status,
            }
    return out


def acceptance_facts(session: Session, ids: Sequence[int] | None = None) -> dict[int, Fact]:
    """Per case with an accepted referral: the hour bin from its first screening to its
    first accepted referral, for every state and need filter that could select it."""
    zone = _zone()
    out: dict[int, Fact] = {}
    for chunk in _chunks(ids):
        query = (
            select(
                Case.id, Case.first_screened_at, Referral.state, Referral.need, Referral.accepted_at
            )
            .join(Referral, Referral.case_id == Case.id)
            .where(Referral.accepted_at.is_not(None))
        )
        if chunk is not None:
            query = query.where(Case.id.in_(chunk))
        firsts: dict[int, datetime] = {}
        accepted: dict[int, list[tuple[str, str, datetime]]] = {}
        for case_id, first, state, need, at in session.execute(query):
            firsts[case_id] = first
            accepted.setdefault(case_id, []).append((state, need, in_utc(at)))
        for case_id, rows in accepted.items():
            first = in_utc(firsts[case_id])
            best: dict[tuple[str, str], datetime] = {}
            for state, need, at in rows:
                for selector in ((ALL_STATES, ""), (state, ""), (ALL_STATES, need), (state, need)):
                    if selector not in best or at < best[selector]:
                        best[selector] = at
            out[case_id] = {
                "k": "acceptance",
                "case": case_id,
                "day": local_day(first, zone),
                "bins": sorted(
                    [s, n, math.floor((at - first).total_seconds() / 3600)]
                    for (s, n), at in best.items()
                ),
            }
    return out


def answer_facts(session: Session, ids: Sequence[int] | None = None) -> dict[int, Fact]:
    """Per answered referral: its creation day, state, need, service, who gave its first
    answer and the whole hours from the referral to that answer. A first answer never
    changes once given (events are only appended), but the referral's state can, and an
    erased case takes its referrals with it: the facts are read again whenever a referral
    or its events change."""
    out: dict[int, Fact] = {}
    for chunk in _chunks(ids):
        if chunk is None:
            for part in answer_fact_windows(session):
                out.update(part)
        else:
            out.update(_answer_facts(session, ReferralEvent.referral_id.in_(chunk)))
    return out


WINDOW = 50_000  # ids a window of a whole-table read (the memory of one window's facts)


def _id_windows(session: Any, column: Any) -> Iterator[tuple[int, int]]:
    low, high = session.execute(select(func.min(column), func.max(column))).one()
    if low is None:
        return
    for start in range(int(low), int(high) + 1, WINDOW):
        yield start, start + WINDOW - 1


def answer_fact_windows(session: Any) -> Iterator[dict[int, Fact]]:
    """Every answered referral's fact, a window of referral ids at a time."""
    for low, high in _id_windows(session, Referral.id):
        yield _answer_facts(session, ReferralEvent.referral_id.between(low, high))


def _answer_facts(session: Any, condition: Any) -> dict[int, Fact]:
    zone = _zone()
    out: dict[int, Fact] = {}
    first = select(
        ReferralEvent.referral_id.label("referral_id"),
        func.min(ReferralEvent.id).label("event_id"),
    ).where(ReferralEvent.status.in_(ANSWERS), condition)
    firsts = first.group_by(ReferralEvent.referral_id).subquery()
    query = (
        select(
            Referral.id,
            Referral.case_id,
            Referral.created_at,
            Referral.state,
            Referral.need,
            Referral.service_id,
            ReferralEvent.at,
            ReferralEvent.channel,
        )
        .select_from(firsts)
        .join(Referral, Referral.id == firsts.c.referral_id)
        .join(ReferralEvent, ReferralEvent.id == firsts.c.event_id)
    )
    for rid, case_id, created, state, need, service, at, channel in session.execute(query):
        seconds = (in_utc(at) - in_utc(created)).total_seconds()
        out[rid] = {
            "k": "answer",
            "case": case_id,
            "day": local_day(created, zone),
            "state": state,
            "need": need,
            "service": service or OUTSIDE,
            "by": "service" if channel in SERVICE_CHANNELS else "screener",
            "hours": math.floor(seconds / 3600),
        }
    return out


AnswerKey = tuple[str, str, str, str, str, str, int]  # ANSWER_COLUMNS


def answer_contributions(fact: Fact) -> Iterator[AnswerKey]:
    """The answer counts one first answer adds to: its day, month, year and all time."""
    day: str = fact["day"]
    rest = (fact["state"], fact["service"], fact["need"], fact["by"], int(fact["hours"]))
    for grain, bucket in ((DAY, day), (MONTH, day[:7]), (YEAR, day[:4]), (ALL_TIME, "*")):
        yield (grain, bucket, *rest)


def expand_answers(signed_facts: Iterable[tuple[int, Fact]]) -> Counter[AnswerKey]:
    totals: Counter[AnswerKey] = Counter()
    for sign, fact in signed_facts:
        if fact["k"] == "answer":
            for key in answer_contributions(fact):
                totals[key] += sign
    return totals


def contributions(fact: Fact) -> Iterator[Key]:
    """The counts one fact adds to (each by one)."""
    day: str = fact["day"]
    month = day[:7]
    state: str = fact["state"] if fact["k"] != "acceptance" else ""
    kind = fact["k"]
    if kind == "gap":
        keys = [("total", ""), ("need", fact["need"]), ("kind", fact["kind"])]
        keys.append(("ending", fact.get("ending", "open")))
        keys += [("reason", r) for r in fact["reasons"]]
        keys += [(p, fact[p]) for p in ("sex", "age_band", "minor", "foreign")]
        keys += [("form", f) for f in fact["forms"] or [queries.NONE]]
        scopes = ["gap:", f"gap:need:{fact['need']}", f"gap:kind:{fact['kind']}"]
        scopes += [f"gap:reason:{r}" for r in fact["reasons"]]
        # Every count twice: in the gap's state, and in every state at once ("*", with
        # the state as a key too, for the state panel).
        for at, extra in ((state, []), (ALL_STATES, [("state", state)])):
            for dim, key in keys + extra:
                yield (DAY, "gap:", day, at, dim, key)
                for scope in scopes:
                    yield (MONTH, scope, month, at, dim, key)
    elif kind == "referral":
        status = fact["status"]
        keys = [("referral_status", status)]
        if status in DECLINED_STATUSES and fact["reason"] is not None:
            keys.append(("rejection_reason", fact["reason"]))
        if status != ReferralStatus.entered_in_error:
            keys.append(("referrals", ""))
            if fact["accepted"]:
                keys.append(("accepted", ""))
        for at in (state, ALL_STATES):
            for dim, key in keys:
                yield (DAY, "ref:", day, at, dim, key)
                yield (MONTH, "ref:", month, at, dim, key)
                yield (MONTH, f"ref:need:{fact['need']}", month, at, dim, key)
    elif kind == "screening":
        encounter = fact["encounter"]
        keys = [("screenings", encounter)]
        if fact["status"] in ("likely", "possible"):
            keys.append((fact["status"], encounter))
        for at in (state, ALL_STATES):
            for dim, key in keys:
                yield (DAY, "scr:", day, at, dim, key)
                yield (MONTH, "scr:", month, at, dim, key)
    elif kind == "answer":
        return  # counted in ``answer_count``: see answer_contributions
    elif kind == "acceptance":
        # The state selector is in the scope too: a national read takes only its own rows.
        for state_sel, need_sel, hours in fact["bins"]:
            scope = f"acc:{state_sel}:{need_sel}"
            if not need_sel:
                yield (DAY, scope, day, state_sel, ACCEPT_DIM, str(hours))
            yield (MONTH, scope, month, state_sel, ACCEPT_DIM, str(hours))
    else:
        raise ValueError(kind)


def expand(signed_facts: Iterable[tuple[int, Fact]]) -> Counter[Key]:
    totals: Counter[Key] = Counter()
    for sign, fact in signed_facts:
        for key in contributions(fact):
            totals[key] += sign
    return totals


# --- catching every change: session events ---------------------------------------------------

ERASED_INFO = "aggregates_erased_cases"
PENDING_INFO = "aggregates_before_flush"
TRACKED = (Case, Screening, ScreeningForm, Gap, GapReason, Referral, ReferralEvent, ChildNotice)


@dataclass
class Touched:
    gaps: set[int]
    referrals: set[int]
    screenings: set[int]
    cases: set[int]
    forms_of: set[int]  # screenings whose forms changed: their gaps' profiles change
    clocks: set[int]  # cases whose legal clocks (loop_clock) may have changed

    @classmethod
    def empty(cls) -> Touched:
        return cls(set(), set(), set(), set(), set(), set())

    def merge(self, other: Touched) -> None:
        self.gaps |= other.gaps
        self.referrals |= other.referrals
        self.screenings |= other.screenings
        self.cases |= other.cases
        self.forms_of |= other.forms_of
        self.clocks |= other.clocks


def _changed(obj: Any, name: str) -> bool:
    return bool(attributes.get_history(obj, name).has_changes())


def _touched(session: OrmSession) -> Touched:
    out = Touched.empty()
    for group, is_dirty in ((session.new, False), (session.dirty, True), (session.deleted, False)):
        for obj in group:
            if isinstance(obj, Gap):
                if obj.id is not None:
                    out.gaps.add(obj.id)
            elif isinstance(obj, GapReason):
                if obj.gap_id is not None:
                    out.gaps.add(obj.gap_id)
            elif isinstance(obj, Referral):
                if obj.id is not None:
                    out.referrals.add(obj.id)
                    if is_dirty and _changed(obj, "screening_id"):
                        out.forms_of.add(-obj.id)  # negative: the referral's own gaps
                if obj.case_id is not None:
                    out.cases.add(obj.case_id)
            elif isinstance(obj, ReferralEvent):
                if obj.referral_id is not None:  # a first answer may have been given
                    out.referrals.add(obj.referral_id)
            elif isinstance(obj, Screening):
                if obj.id is not None:
                    out.screenings.add(obj.id)
                    if is_dirty:
                        out.forms_of.add(obj.id)
                if obj.case_id is not None:
                    out.clocks.add(obj.case_id)
            elif isinstance(obj, ScreeningForm):
                if obj.screening_id is not None:
                    out.forms_of.add(obj.screening_id)
            elif isinstance(obj, ChildNotice):
                if obj.case_id is not None:
                    out.clocks.add(obj.case_id)
            elif isinstance(obj, Case) and obj.id is not None:
                if not is_dirty or _changed(obj, "first_screened_at"):
                    out.cases.add(obj.id)
                if not is_dirty or _changed(obj, "state"):
                    out.clocks.add(obj.id)
    return out


def _gaps_of(session: OrmSession, touched: Touched) -> set[int]:
    """Gaps whose profile comes from a screening (or a referral) that changed."""
    screenings = sorted(s for s in touched.forms_of if s > 0)
    referrals = sorted(-s for s in touched.forms_of if s < 0)
    found: set[int] = set()
    for chunk in _chunks(screenings):
        assert chunk is not None
        via = select(Referral.id).where(Referral.screening_id.in_(chunk))
        found |= set(
            session.execute(
                select(Gap.id).where(or_(Gap.screening_id.in_(chunk), Gap.referral_id.in_(via)))
            ).scalars()
        )
    for chunk in _chunks(referrals):
        assert chunk is not None
        found |= set(session.execute(select(Gap.id).where(Gap.referral_id.in_(chunk))).scalars())
    return found


def _facts(session: Any, touched: Touched) -> dict[tuple[str, int], Fact]:
    out: dict[tuple[str, int], Fact] = {}
    gaps = touched.gaps | _gaps_of(session, touched)
    for name, ids, reader in (
        ("gap", gaps, gap_facts),
        ("referral", touched.referrals, referral_facts),
        ("screening", touched.screenings, screening_facts),
        ("acceptance", touched.cases, acceptance_facts),
        ("answer", touched.referrals, answer_facts),
    ):
        if ids:
            for key, fact in reader(session, sorted(ids)).items():
                out[(name, key)] = fact
    return out


def _tracked(session: OrmSession) -> bool:
    return any(
        isinstance(obj, TRACKED) for group in (session.new, session.dirty, session.deleted)
        for obj in group
    )  # fmt: skip


@event.listens_for(OrmSession, "before_flush")
def _before_flush(session: OrmSession, _context: Any, _instances: Any) -> None:
    if not _tracked(session):
        return
    with session.no_autoflush:
        touched = _touched(session)
        session.info[PENDING_INFO] = (touched, _facts(session, touched))
        # A case deleted through the ORM: its clock row first (it points at the case).
        gone = [obj.id for obj in session.deleted if isinstance(obj, Case) and obj.id]
        if gone:
            session.connection().execute(delete(CLOCK_TABLE).where(CLOCK_TABLE.c.case_id.in_(gone)))


@event.listens_for(OrmSession, "after_flush")
def _after_flush(session: OrmSession, _context: Any) -> None:
    pending = session.info.pop(PENDING_INFO, None)
    if pending is None:
        return
    touched, before = pending
    touched.merge(_touched(session))
    after = _facts(session, touched)
    erased: set[int] = session.info.get(ERASED_INFO, set())
    rows: list[dict[str, Any]] = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        for sign, fact in ((-1, old), (1, new)):
            if fact is not None and fact["case"] not in erased:
                rows.append({"sign": sign, "fact": fact})
    if rows:
        session.connection().execute(insert(DELTA_TABLE), rows)
    gone = {obj.id for obj in session.deleted if isinstance(obj, Case)} | erased
    clock_cases = sorted(touched.clocks - gone)
    if clock_cases:
        refresh_clocks(session, clock_cases)


def add_facts(session: Session, totals: Counter[Key]) -> None:
    """Add counts straight to the summary (bulk loads that bypass the ORM's flush)."""
    _upsert(session, COUNT_TABLE, totals)


def count_new_rows(
    session: Session,
    *,
    gap_ids: Sequence[int],
    referral_ids: Sequence[int],
    screening_ids: Sequence[int],
    case_ids: Sequence[int],
    as_deltas: bool = False,
) -> None:
    """The counts of rows just inserted with Core statements, which no flush sees: straight
    into the counts (a bulk load, one writer), or ``as_deltas`` (a request among many, such
    as a Core-insert intake: no contention on count rows)."""
    facts = [
        *gap_facts(session, gap_ids).values(),
        *referral_facts(session, referral_ids).values(),
        *screening_facts(session, screening_ids).values(),
        # A case just inserted has an accepted referral only if one was inserted with it
        # (the demo generator); intake inserts none.
        *(acceptance_facts(session, case_ids).values() if referral_ids else ()),
        *answer_facts(session, referral_ids).values(),
    ]
    if case_ids:
        refresh_clocks(session, case_ids, new=True)
    if as_deltas:
        if facts:
            session.execute(insert(DELTA_TABLE), [{"sign": 1, "fact": f} for f in facts])
        return
    add_facts(session, expand((1, f) for f in facts))
    _upsert_answers(session, expand_answers((1, f) for f in facts))


# --- the legal clocks of each case (loop_clock) ------------------------------------------------


def clock_rows(session: Any, ids: Sequence[int] | None = None) -> dict[int, dict[str, Any]]:
    """Per case with a clock: its state, when its child-protection notice fell due (None
    once a notice is recorded) and when its reflection period started: the same notions as
    ``clocks.open_child_notices`` and ``clocks.reflection_periods``."""
    out: dict[int, dict[str, Any]] = {}
    if ids is None:
        for part in clock_row_windows(session):
            out.update(part)
        return out
    for chunk in _chunks(ids):
        assert chunk is not None
        out.update(_clock_rows(session, lambda column, c=chunk: column.in_(c)))
    return out


def clock_row_windows(session: Any) -> Iterator[dict[int, dict[str, Any]]]:
    """Every case's clock row, a window of case ids at a time."""
    for low, high in _id_windows(session, Case.id):
        yield _clock_rows(session, lambda column, lo=low, hi=high: column.between(lo, hi))


def _clock_rows(session: Any, cases: Any) -> dict[int, dict[str, Any]]:
    """``cases(column)``: the condition on a case id column choosing the cases."""
    starts = select(Screening.case_id, func.min(Screening.screened_at)).where(
        Screening.minor.is_(True), cases(Screening.case_id)
    )
    noticed = select(ChildNotice.case_id).where(cases(ChildNotice.case_id))
    indicated = select(Screening.case_id, Screening.screened_at, Screening.result).where(
        Screening.status.in_(clocks.INDICATED),
        or_(Screening.foreign.is_(True), Screening.nationality == "ZZ"),
        cases(Screening.case_id),
    )
    due = dict(session.execute(starts.group_by(Screening.case_id)).all())
    for (case_id,) in session.execute(noticed):
        due.pop(case_id, None)
    reflection: dict[int, datetime] = {}
    order = (Screening.case_id, Screening.screened_at)
    for case_id, screened_at, result in session.execute(indicated.order_by(*order)):
        if case_id in reflection:
            continue
        if any(a.get("code") == Alert.reflection_period for a in _alerts(result)):
            reflection[case_id] = screened_at
    out: dict[int, dict[str, Any]] = {}
    wanted = sorted(set(due) | set(reflection))
    for part in _chunks(wanted):
        assert part is not None
        for case_id, state in session.execute(select(Case.id, Case.state).where(Case.id.in_(part))):
            out[case_id] = {
                "case_id": case_id,
                "state": state,
                "notice_due_at": due.get(case_id),
                "reflection_starts_at": reflection.get(case_id),
            }
    return out


@functools.cache
def _new_clock_query() -> Any:
    """Built once: intake reads one new case's clocks per submission."""
    return (
        select(
            Screening.case_id,
            Screening.screened_at,
            Screening.minor,
            Screening.status,
            Screening.foreign,
            Screening.nationality,
            Screening.result,
            Case.state,
        )
        .join(Case, Case.id == Screening.case_id)
        .where(Screening.case_id.in_(bindparam("ids", expanding=True)))
        .order_by(Screening.case_id, Screening.screened_at)
    )


def _new_clock_rows(session: Any, case_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """:func:`clock_rows` of cases just inserted, in one read: no notice can be recorded for
    them yet, so their screenings alone say when the notice fell due and when the reflection
    period started (the same notions as :func:`_clock_rows`)."""
    out: dict[int, dict[str, Any]] = {}
    indicated = tuple(clocks.INDICATED)
    for chunk in _chunks(case_ids):
        assert chunk is not None
        rows = session.execute(_new_clock_query(), {"ids": list(chunk)})
        for case_id, at, minor, status, foreign, nationality, result, state in rows:
            row = out.get(case_id)
            due = row["notice_due_at"] if row else None
            starts = row["reflection_starts_at"] if row else None
            if minor and due is None:
                due = at
            if (
                starts is None
                and status in indicated
                and (foreign or nationality == "ZZ")
                and any(a.get("code") == Alert.reflection_period for a in _alerts(result))
            ):
                starts = at
            if due is not None or starts is not None:
                out[case_id] = {
                    "case_id": case_id,
                    "state": state,
                    "notice_due_at": due,
                    "reflection_starts_at": starts,
                }
    return out


def _alerts(result: Any) -> list[dict[str, Any]]:
    return list((result or {}).get("alerts", []))


@functools.cache
def _clock_upsert(dialect: str) -> Any:
    """``INSERT ... ON CONFLICT (case_id) DO UPDATE`` of a clock row, built once a dialect."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    statement = upsert(CLOCK_TABLE)
    return statement.on_conflict_do_update(
        index_elements=["case_id"],
        set_={
            name: statement.excluded[name]
            for name in ("state", "notice_due_at", "reflection_starts_at")
        },
    )


def refresh_clocks(session: Any, case_ids: Sequence[int], *, new: bool = False) -> None:
    """Write the clock rows of these cases again from their rows (an upsert each, so two
    writers of one case never collide; a case without a clock loses its row). ``new``:
    cases just inserted, which have no row to lose."""
    rows = _new_clock_rows(session, case_ids) if new else clock_rows(session, case_ids)
    connection = session.connection()
    empty = [] if new else sorted(set(case_ids) - set(rows))
    for chunk in _chunks(empty):
        assert chunk is not None
        connection.execute(delete(CLOCK_TABLE).where(CLOCK_TABLE.c.case_id.in_(chunk)))
    if rows:
        statement = _clock_upsert(session.get_bind().dialect.name)
        ordered = [rows[k] for k in sorted(rows)]
        for start in range(0, len(ordered), 2000):
            connection.execute(statement, ordered[start : start + 2000])


# --- folding and reading ----------------------------------------------------------------------


def _dialect_insert(session: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    return upsert


def _upsert(
    session: Session,
    table: Any,
    totals: Counter[Any],
    columns: tuple[str, ...] = KEY_COLUMNS,
) -> None:
    rows = [dict(zip(columns, key, strict=True), n=n) for key, n in sorted(totals.items()) if n]
    if not rows:
        return
    upsert = _dialect_insert(session)
    for start in range(0, len(rows), 2000):
        statement = upsert(table)
        statement = statement.on_conflict_do_update(
            index_elements=list(columns), set_={"n": table.c.n + statement.excluded.n}
        )
        session.execute(statement, rows[start : start + 2000])


def _upsert_answers(session: Session, totals: Counter[AnswerKey]) -> None:
    _upsert(session, ANSWER_TABLE, totals, ANSWER_COLUMNS)


def fold(session: Session) -> int:
    """Move the waiting deltas into the counts; how many were folded. Safe to run from many
    places at once: each delta is deleted (and so folded) by one transaction only."""
    taken = session.execute(delete(DELTA_TABLE).returning(DELTA_TABLE.c.sign, DELTA_TABLE.c.fact))
    signed = [(int(sign), fact) for sign, fact in taken]
    _upsert(session, COUNT_TABLE, expand(signed))
    _upsert_answers(session, expand_answers(signed))
    return len(signed)


def pending(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(DELTA_TABLE)).scalar_one())


def is_built(session: Session) -> bool:
    """No status row: built (an empty database's counts are trivially right)."""
    row = session.get(AggregateStatus, 1)
    return row is None or bool(row.built)


def _month_after(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_ranges(filters: queries.Filters) -> list[tuple[str, str | None, str | None]] | None:
    """The (grain, first bucket, last bucket) ranges covering the filters' period, whole
    months as month rows and the rest as day rows; [] when the period is empty."""
    since, until = filters.since, filters.until
    if since and until and since > until:
        return []
    ranges: list[tuple[str, str | None, str | None]] = []
    first_month: str | None = None
    last_month: str | None = None
    whole_month = (
        since is not None
        and since.day == 1
        and until is not None
        and (_month_after(until) == until + timedelta(days=1))
    )
    if (
        since
        and until
        and (since.year, since.month) == (until.year, until.month)
        and not whole_month
    ):
        return [(DAY, since.isoformat(), until.isoformat())]
    if since:
        if since.day == 1:
            first_month = since.isoformat()[:7]
        else:
            month_end = _month_after(since) - timedelta(days=1)
            ranges.append((DAY, since.isoformat(), month_end.isoformat()))
            first_month = _month_after(since).isoformat()[:7]
    if until:
        if _month_after(until) == until + timedelta(days=1):
            last_month = until.isoformat()[:7]
        else:
            ranges.append((DAY, until.replace(day=1).isoformat(), until.isoformat()))
            last_month = (until.replace(day=1) - timedelta(days=1)).isoformat()[:7]
    if first_month is None or last_month is None or first_month <= last_month:
        ranges.append((MONTH, first_month, last_month))
    return ranges


@dataclass(frozen=True)
class Selection:
    """Which count rows one family of panels sums (the SQL and the same in Python)."""

    scope: str
    dims: tuple[str, ...]
    ranges: list[tuple[str, str | None, str | None]]
    states: tuple[str, ...]  # the state column's values to sum: ("*",) for every state

    def where(self, table: Any, span: tuple[str, str | None, str | None]) -> list[Any]:
        """One range of the primary key (grain, scope, state, bucket ...), then the rest."""
        grain, lo, hi = span
        out = [table.c.grain == grain, table.c.scope == self.scope]
        out.append(
            table.c.state == self.states[0]
            if len(self.states) == 1
            else table.c.state.in_(self.states)
        )
        if lo:
            out.append(table.c.bucket >= lo)
        if hi:
            out.append(table.c.bucket <= hi)
        out.append(table.c.dim.in_(self.dims))
        return out

    def matches(self, key: Key) -> bool:
        grain, scope, bucket, state, dim, _k = key
        if scope != self.scope or dim not in self.dims or state not in self.states:
            return False
        for g, lo, hi in self.ranges:
            if g == grain and (not lo or bucket >= lo) and (not hi or bucket <= hi):
                return True
        return False


def _states_read(reach: Reach, wanted: str | None) -> tuple[str, ...]:
    """The state rows to sum: the state filter's (if in reach), every state's ("*"), or
    the states of a supervisor's reach."""
    allowed = _reach_states(reach)
    if wanted:
        return (wanted,) if allowed is None or wanted in allowed else ()
    if allowed is None:
        return (ALL_STATES,)
    return tuple(sorted(allowed))


def _reach_states(reach: Reach) -> frozenset[str] | None:
    if reach.is_admin or reach.sees_every_state:
        return None
    if reach.is_supervisor:
        return reach.states
    return frozenset()


@dataclass
class Sums:
    """Counts per (dim, key), and the total per state and per month."""

    by_key: Counter[tuple[str, str]]
    by_state: Counter[str]
    by_month: Counter[str]


def _sums(session: Session, selection: Selection, waiting: Counter[Key]) -> Sums:
    table = COUNT_TABLE
    total = func.sum(table.c.n)
    month = func.substr(table.c.bucket, 1, 7)
    sums = Sums(Counter(), Counter(), Counter())
    if not selection.states:
        return sums
    every_state = selection.states == (ALL_STATES,)
    for span in selection.ranges:  # one index range each (an OR of them would scan)
        where = selection.where(table, span)
        by = (table.c.dim, table.c.key, table.c.state)
        for dim, key, state, n in session.execute(select(*by, total).where(*where).group_by(*by)):
            sums.by_key[(dim, key)] += int(n)
            if dim == "total" and not every_state:
                sums.by_state[state] += int(n)
        if "total" in selection.dims:
            totals = select(month, total).where(*where, table.c.dim == "total").group_by(month)
            for bucket, n in session.execute(totals):
                sums.by_month[bucket] += int(n)
    for key, n in waiting.items():
        if selection.matches(key):
            _grain, _scope, bucket, state, dim, k = key
            sums.by_key[(dim, k)] += n
            if dim == "total":
                sums.by_month[bucket[:7]] += n
                if not every_state:
                    sums.by_state[state] += n
    if every_state:
        sums.by_state = Counter({k: n for (d, k), n in sums.by_key.items() if d == "state"})
    return sums


def _pairs(counter: Counter[Any], panel: str) -> list[tuple[str, int]]:
    return queries._ordered([(k, n) for k, n in counter.items() if n], panel)


@dataclass(frozen=True)
class DashboardNumbers:
    total: int
    gap_panels: dict[str, list[tuple[str, int]]]  # GAP_PANELS and PROFILE_PANELS
    referral_panels: dict[str, list[tuple[str, int]]]
    outcomes: queries.Outcomes
    encounters: list[queries.EncounterRow]
    gap_endings: list[tuple[str, int]]  # every key of queries.GAP_ENDINGS, in that order

    @property
    def closed_gaps(self) -> int:
        return sum(n for key, n in self.gap_endings if key != "open")


def recount(session: Session, reach: Reach, filters: queries.Filters) -> DashboardNumbers:
    """Every panel counted from the rows (the reference; slow at scale)."""
    panels = (*queries.GAP_PANELS, *queries.PROFILE_PANELS)
    return DashboardNumbers(
        total=queries.gap_total(session, reach, filters),
        gap_panels={p: queries.gap_counts(session, reach, filters, p) for p in panels},
        referral_panels={
            p: queries.referral_counts(session, reach, filters, p) for p in queries.REFERRAL_PANELS
        },
        outcomes=queries.outcomes(session, reach, filters),
        encounters=queries.screenings_by_encounter(session, reach, filters),
        gap_endings=queries.gap_endings(session, reach, filters),
    )


def _waiting(session: Session) -> Counter[Key]:
    rows = session.execute(select(DELTA_TABLE.c.sign, DELTA_TABLE.c.fact))
    return expand((int(sign), fact) for sign, fact in rows)


def _gap_filter(filters: queries.Filters) -> str | None:
    chosen = [
        f"{name}:{value}"
        for name, value in (
            ("need", filters.need),
            ("kind", filters.kind),
            ("reason", filters.reason),
        )
        if value
    ]
    if len(chosen) > 1:
        return None
    return chosen[0] if chosen else ""


def _usable(scope: str | None, ranges: list[tuple[str, str | None, str | None]]) -> bool:
    """Day rows exist for the scopes without a need, kind or reason filter only."""
    return scope is not None and (scope == "" or all(g == MONTH for g, _lo, _hi in ranges))


def _median(bins: Counter[str]) -> tuple[int, float | None]:
    """The count and the median (centre of the middle bins) of whole-hour bins."""
    ordered = sorted((int(k), n) for k, n in bins.items() if n)
    count = sum(n for _k, n in ordered)
    if not count:
        return 0, None
    wanted = [(count - 1) // 2] if count % 2 else [count // 2 - 1, count // 2]
    values: list[float] = []
    seen = 0
    for hours, n in ordered:
        while wanted and wanted[0] < seen + n:
            values.append(hours + 0.5)
            wanted.pop(0)
        seen += n
    return count, sum(values) / len(values)


def dashboard(session: Session, reach: Reach, filters: queries.Filters) -> DashboardNumbers:
    """Every panel of the gap dashboard, from the maintained counts (one snapshot)."""
    if not is_built(session):
        return recount(session, reach, filters)
    ranges = period_ranges(filters)
    assert ranges is not None
    rows = _states_read(reach, filters.state)
    waiting = _waiting(session)
    gap_filter = _gap_filter(filters)
    if _usable(gap_filter, ranges):
        gap_scope = f"gap:{gap_filter}"
        gaps = _sums(session, Selection(gap_scope, GAP_DIMS, ranges, rows), waiting)
        gap_panels = {
            "need": _pairs(_only(gaps, "need"), "need"),
            "reason": _pairs(_only(gaps, "reason"), "reason"),
            "state": _pairs(gaps.by_state, "state"),
            "month": _pairs(gaps.by_month, "month"),
            "kind": _pairs(_only(gaps, "kind"), "kind"),
            **{p: _pairs(_only(gaps, p), p) for p in queries.PROFILE_PANELS},
        }
        total = sum(gaps.by_state.values())
        endings = _only(gaps, "ending")
        gap_endings = [(key, endings[key]) for key in queries.GAP_ENDINGS]
    else:
        panels = (*queries.GAP_PANELS, *queries.PROFILE_PANELS)
        gap_panels = {p: queries.gap_counts(session, reach, filters, p) for p in panels}
        total = queries.gap_total(session, reach, filters)
        gap_endings = queries.gap_endings(session, reach, filters)
    need_filter = f"need:{filters.need}" if filters.need else ""
    if _usable(need_filter, ranges):
        refs = _sums(
            session,
            Selection(f"ref:{need_filter}", REFERRAL_DIMS, ranges, rows),
            waiting,
        )
        referral_panels = {p: _pairs(_only(refs, p), p) for p in queries.REFERRAL_PANELS}
        referrals = refs.by_key[("referrals", "")]
        accepted = refs.by_key[("accepted", "")]
    else:
        referral_panels = {
            p: queries.referral_counts(session, reach, filters, p) for p in queries.REFERRAL_PANELS
        }
        base = queries.outcomes(session, reach, filters)
        referrals, accepted = base.referrals, base.accepted
    accept_state = _acceptance_state(reach, filters)
    if accept_state is not None and _usable(need_filter, ranges):
        accept_scope = f"acc:{accept_state}:{filters.need or ''}"
        accept_rows = _states_read(reach, None if accept_state == ALL_STATES else accept_state)
        bins = _sums(session, Selection(accept_scope, (ACCEPT_DIM,), ranges, accept_rows), waiting)
        count, median = _median(_only(bins, ACCEPT_DIM))
        binned = True
    else:
        binned = False
        count, median = queries._median_hours_to_acceptance(session, reach, filters)
    screenings = _sums(session, Selection("scr:", SCREENING_DIMS, ranges, rows), waiting)
    encounters = [
        queries.EncounterRow(
            encounter,
            n,
            screenings.by_key[("likely", encounter)],
            screenings.by_key[("possible", encounter)],
        )
        for (dim, encounter), n in screenings.by_key.items()
        if dim == "screenings" and n
    ]
    return DashboardNumbers(
        total=total,
        gap_panels=gap_panels,
        referral_panels=referral_panels,
        outcomes=queries.Outcomes(referrals, accepted, count, median, binned),
        encounters=sorted(encounters, key=lambda r: (-r.screenings, r.encounter)),
        gap_endings=gap_endings,
    )


def read_dashboard(reach: Reach, filters: queries.Filters) -> DashboardNumbers:
    """The dashboard's numbers in one consistent snapshot; folds first when many changes
    wait (its own short transaction: a fold is atomic, so a reader sees a change either
    waiting or folded, never both)."""
    database = get_db()
    with database.session(write=False) as session:
        waiting = pending(session)
    if waiting > FOLD_AT:
        with database.transaction() as session:
            fold(session)
    with database.session(write=False, snapshot=True) as session:
        return dashboard(session, reach, filters)


def _only(sums: Sums, dim: str) -> Counter[str]:
    return Counter({k: n for (d, k), n in sums.by_key.items() if d == dim})


def _acceptance_state(reach: Reach, filters: queries.Filters) -> str | None:
    """Which acceptance rows answer this reach and filter; None: only a recount can (a
    supervisor of several states: a case accepted in two of them counts once)."""
    if filters.state:
        return filters.state
    if reach.is_admin or reach.sees_every_state:
        return ALL_STATES
    if reach.is_supervisor and len(reach.states) == 1:
        return next(iter(reach.states))
    if not reach.is_supervisor:
        return ALL_STATES  # _reach_states gives no state: nothing is counted
    return None


# --- erasure and rebuild ----------------------------------------------------------------------


def case_facts(session: Session, case_id: int) -> list[Fact]:
    """Every fact one case contributes now (its gaps, referrals, screenings, acceptance)."""
    ids = {
        "gap": list(session.execute(select(Gap.id).where(Gap.case_id == case_id)).scalars()),
        "referral": list(
            session.execute(select(Referral.id).where(Referral.case_id == case_id)).scalars()
        ),
        "screening": list(
            session.execute(select(Screening.id).where(Screening.case_id == case_id)).scalars()
        ),
    }
    return [
        *gap_facts(session, ids["gap"]).values(),
        *referral_facts(session, ids["referral"]).values(),
        *screening_facts(session, ids["screening"]).values(),
        *acceptance_facts(session, [case_id]).values(),
    ]


def record_erasure(session: Session, case_id: int) -> None:
    """Call before a case's rows are deleted: its anonymous contributions stay counted, kept
    in ``aggregate_erased`` so a rebuild still adds them, and deleting its rows in this
    session changes no count."""
    session.flush()
    _upsert(session, ERASED_TABLE, expand((1, f) for f in case_facts(session, case_id)))
    # The loop panel counts the cases that exist (as the lists behind its numbers do): an
    # erased case's first answers leave it.
    referral_ids = session.execute(select(Referral.id).where(Referral.case_id == case_id))
    answers = answer_facts(session, list(referral_ids.scalars()))
    if answers:
        rows = [{"sign": -1, "fact": f} for _id, f in sorted(answers.items())]
        session.execute(insert(DELTA_TABLE), rows)
    session.info.setdefault(ERASED_INFO, set()).add(case_id)


@screening.rows_inserted.connect
def _count_a_new_case(
    session: Session,
    *,
    case_ids: Sequence[int],
    screening_ids: Sequence[int],
    gap_ids: Sequence[int],
) -> None:
    # As deltas: intake is many writers at once, and deltas never contend for a count row.
    count_new_rows(
        session,
        gap_ids=gap_ids,
        referral_ids=(),
        screening_ids=screening_ids,
        case_ids=case_ids,
        as_deltas=True,
    )


@lifecycle.case_erasing.connect
def _keep_the_counts_of_an_erased_case(session: Session, *, case_id: int) -> None:
    record_erasure(session, case_id)


FAMILIES = (
    ("gap:", gap_facts),
    ("ref:", referral_facts),
    ("scr:", screening_facts),
    ("acc:", acceptance_facts),
)


def _stored(session: Session, table: Any, prefix: str) -> Counter[Key]:
    columns = [table.c[c] for c in KEY_COLUMNS]
    rows = session.execute(select(*columns, table.c.n).where(table.c.scope.startswith(prefix)))
    out: Counter[Key] = Counter()
    for *key, n in rows:
        out[tuple(key)] += int(n)
    return out


def recounted(session: Session, prefix: str, reader: Any) -> Counter[Key]:
    """One family's counts from the rows, plus what erased cases contributed to it."""
    totals = expand((1, f) for f in reader(session).values())
    totals.update(_stored(session, ERASED_TABLE, prefix))
    return Counter({k: n for k, n in totals.items() if n})


@dataclass(frozen=True)
class RebuildResult:
    differed: int  # count rows that were wrong, missing or extra
    rows: int  # count rows after the rebuild
    was_built: bool


def rebuild(session: Session) -> RebuildResult:
    """Recount everything, compare with the maintained counts, and replace them (one family
    of panels at a time, so memory holds one family's counts)."""
    was_built = is_built(session)
    fold(session)
    differed = rows = 0
    for prefix, reader in FAMILIES:
        current = Counter({k: n for k, n in _stored(session, COUNT_TABLE, prefix).items() if n})
        expected = recounted(session, prefix, reader)
        wrong = sum(1 for k in set(current) | set(expected) if current[k] != expected[k])
        if wrong or not was_built:
            session.execute(delete(COUNT_TABLE).where(COUNT_TABLE.c.scope.startswith(prefix)))
            _upsert(session, COUNT_TABLE, expected)
        differed += wrong
        rows += len(expected)
    wrong, count = _rebuild_answers(session, was_built)
    differed += wrong
    rows += count
    differed += _rebuild_clocks(session)
    status = session.get(AggregateStatus, 1)
    if status is None:
        session.add(AggregateStatus(id=1, built=True))
    else:
        status.built = True
        session.add(status)
    session.flush()
    return RebuildResult(differed, rows, was_built)


def _stored_answers(session: Session) -> Counter[AnswerKey]:
    columns = [ANSWER_TABLE.c[c] for c in ANSWER_COLUMNS]
    out: Counter[AnswerKey] = Counter()
    for *key, n in session.execute(select(*columns, ANSWER_TABLE.c.n)):
        if n:
            out[(*key[:-1], int(key[-1]))] += int(n)
    return out


def recounted_answers(session: Session) -> Counter[AnswerKey]:
    """The answer counts from the rows (erased cases' answers are not kept: see
    :func:`record_erasure`)."""
    totals: Counter[AnswerKey] = Counter()
    for part in answer_fact_windows(session):
        totals.update(expand_answers((1, f) for f in part.values()))
    return Counter({k: n for k, n in totals.items() if n})


def _rebuild_answers(session: Session, was_built: bool) -> tuple[int, int]:
    current = _stored_answers(session)
    expected = recounted_answers(session)
    wrong = sum(1 for k in set(current) | set(expected) if current[k] != expected[k])
    if wrong or not was_built:
        session.execute(delete(ANSWER_TABLE))
        _upsert_answers(session, expected)
    return wrong, len(expected)


def _rebuild_clocks(session: Session) -> int:
    """The clock rows written again from the cases, a window at a time; how many differed."""
    columns = ("case_id", "state", "notice_due_at", "reflection_starts_at")
    stored = {
        row[0]: tuple(map(_comparable, row))
        for row in session.execute(select(*(CLOCK_TABLE.c[c] for c in columns)))
    }
    wrong: list[int] = []
    for part in clock_row_windows(session):
        for case_id, row in part.items():
            if stored.pop(case_id, None) != tuple(_comparable(row[c]) for c in columns):
                wrong.append(case_id)
    wrong += stored  # rows of cases that have no clock (or no longer exist)
    if wrong:
        refresh_clocks(session, sorted(wrong))
    return len(wrong)


def _comparable(value: Any) -> Any:
    return in_utc(value) if isinstance(value, datetime) else value


# --- reading the answer counts (the loop panel) -----------------------------------------------

Span = tuple[str, str | None, str | None]  # grain, first bucket, last bucket (None: open)


def _year_end(day: date) -> date:
    return date(day.year, 12, 31)


def answer_ranges(since: date | None, until: date | None) -> list[Span]:
    """The period as whole years, whole months and days (each a range of one grain of
    ``answer_count``): at most two partial years of months and two partial months of days
    around whole years; all time is the one "t" row set."""
    if since is None and until is None:
        return [(ALL_TIME, None, None)]
    if since is not None and until is not None and since > until:
        return []
    out: list[Span] = []
    lo, hi = since, until

    def empty() -> bool:
        return lo is not None and hi is not None and lo > hi

    if lo is not None and lo.day != 1:  # the first, partial month: days
        end = _month_after(lo) - timedelta(days=1)
        end = end if hi is None else min(end, hi)
        out.append((DAY, lo.isoformat(), end.isoformat()))
        lo = end + timedelta(days=1)
    if empty():
        return out
    if hi is not None and _month_after(hi) != hi + timedelta(days=1):  # the last month
        first = hi.replace(day=1) if lo is None else max(lo, hi.replace(day=1))
        out.append((DAY, first.isoformat(), hi.isoformat()))
        hi = first - timedelta(days=1)
    if empty():
        return out
    if lo is not None and lo.month != 1:  # the first, partial year: months
        end = _year_end(lo) if hi is None else min(_year_end(lo), hi)
        out.append((MONTH, lo.isoformat()[:7], end.isoformat()[:7]))
        lo = end + timedelta(days=1)
    if empty():
        return out
    if hi is not None and hi.month != 12:  # the last, partial year
        first = date(hi.year, 1, 1) if lo is None else max(lo, date(hi.year, 1, 1))
        out.append((MONTH, first.isoformat()[:7], hi.isoformat()[:7]))
        hi = first - timedelta(days=1)
    if empty():
        return out
    out.append((YEAR, None if lo is None else str(lo.year), None if hi is None else str(hi.year)))
    return out


AnswerBin = tuple[str, str, str, str, int]  # state, service, need, answered by, hours


def answer_bins(session: Session, reach: Reach, filters: queries.Filters) -> Counter[AnswerBin]:
    """First answers of the referrals made in the period, in the chosen state and need and
    in reach, by state, service, need, who answered and whole hours: the folded counts plus
    the changes still waiting (one snapshot). Reads at most keys x (years + 22 months + 62
    days) rows, whatever the number of cases."""
    allowed = _reach_states(reach)
    if filters.state:
        states: frozenset[str] | None = (
            frozenset({filters.state})
            if allowed is None or filters.state in allowed
            else frozenset()
        )
    else:
        states = allowed
    out: Counter[AnswerBin] = Counter()
    if states is not None and not states:
        return out
    table = ANSWER_TABLE
    spans = answer_ranges(filters.since, filters.until)
    by = (table.c.state, table.c.service, table.c.need, table.c.answered_by, table.c.hours)
    for grain, lo, hi in spans:
        where = [table.c.grain == grain]
        if lo:
            where.append(table.c.bucket >= lo)
        if hi:
            where.append(table.c.bucket <= hi)
        if states is not None:
            where.append(table.c.state.in_(sorted(states)))
        if filters.need:
            where.append(table.c.need == filters.need)
        if grain == ALL_TIME:  # all time holds one row per key already
            grouped = select(*by, table.c.n).where(*where)
        else:
            grouped = select(*by, func.sum(table.c.n)).where(*where).group_by(*by)
        for state, service, need, answered, hours, n in session.execute(grouped):
            out[(state, service, need, answered, int(hours))] += int(n)
    waiting = select(DELTA_TABLE.c.sign, DELTA_TABLE.c.fact)
    for sign, fact in session.execute(waiting):
        if fact.get("k") != "answer":
            continue
        if states is not None and fact["state"] not in states:
            continue
        if filters.need and fact["need"] != filters.need:
            continue
        day = fact["day"]
        if (filters.since and day < filters.since.isoformat()) or (
            filters.until and day > filters.until.isoformat()
        ):
            continue
        out[(fact["state"], fact["service"], fact["need"], fact["by"], int(fact["hours"]))] += int(
            sign
        )
    return Counter({k: n for k, n in out.items() if n})


def binned_percentile(bins: Counter[int], q: float) -> float | None:
    """PostgreSQL's percentile_cont over whole-hour bins, each value taken at its bin's
    centre (within half an hour of the exact percentile)."""
    ordered = sorted((hours, n) for hours, n in bins.items() if n > 0)
    count = sum(n for _h, n in ordered)
    if not count:
        return None
    position = q * (count - 1)
    low, high = math.floor(position), math.ceil(position)

    def value_at(rank: int) -> float:
        seen = 0
        for hours, n in ordered:
            seen += n
            if rank < seen:
                return hours + 0.5
        return ordered[-1][0] + 0.5

    a, b = value_at(low), value_at(high)
    return a + (b - a) * (position - low)
