"""The annual summary: every count a GROUP BY in the database, never rows counted in Python.

Definitions (docs/statistics.md):
- a **victim** of year Y is a case whose latest screening is ``likely`` and whose first
  screening fell in Y, Mexico City time; the victim's facts (sex, age, forms, nationality)
  are those of the latest screening;
- men, women, boys, girls: sex male or female (CONTRACT 7); an adult is 18 or over, or of
  unknown age and clearly adult; a child is under 18; ``unknown`` is sex unknown or intersex
  (joined in published tables), or age unknown and not clearly adult (the presumption of
  minority protects the person, it does not make a statistic; the dashboard keeps it);
- referrals, services received and gaps are those of the year's victims, whenever made;
- screenings are every screening made in Y (first and re-screenings), of every status.

Aggregate counts include every case, with or without consent to statistical use, except the
cases whose consent was withdrawn (``statistics_withdrawn_at``); the microdata leaves out
every case without consent. The output says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, select, true
from sqlmodel import Session, col

from referral.casework.lifecycle import counted_in_statistics
from referral.casework.models import Case, Gap, GapReason, Referral, Screening, ScreeningForm
from referral.i18n import local_timezone
from referral.rules.contract import RECEIVED_STATUSES, ReferralStatus

CATEGORIES = ("men", "women", "boys", "girls", "unknown")
# Referral statuses that mean the person got the service (docs/statistics.md).
RECEIVED = RECEIVED_STATUSES
NOT_MADE = (ReferralStatus.entered_in_error,)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Scope:
    """Which states an export covers: ``None`` is the whole country."""

    states: tuple[str, ...] | None = None

    @property
    def national(self) -> bool:
        return self.states is None

    def code(self) -> str:
        """A short code of the scope for the audit log (codes only, no free text)."""
        return "national" if self.states is None else f"states{len(self.states)}"


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The first instant of ``year`` and of the next one in Mexico City, as UTC instants."""
    zone = local_timezone()
    start = datetime(year, 1, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=zone).astimezone(UTC)
    return start, end


def category_column() -> Any:
    """men | women | boys | girls | unknown of a screening, as a SQL CASE (CONTRACT 7).

    ``minor`` is stored with the presumption (age unknown and not clearly adult); in
    published counts that person is "unknown", and a clearly adult one a man or a woman.
    """
    sex, minor, age = col(Screening.sex), col(Screening.minor), col(Screening.age)
    return case(
        (sex.notin_(("female", "male")), "unknown"),
        (and_(minor == true(), age.is_(None)), "unknown"),
        (and_(minor == true(), sex == "male"), "boys"),
        (minor == true(), "girls"),
        (sex == "male", "men"),
        else_="women",
    )


def _victims(query: Select, year: int, scope: Scope) -> Select:
    """``query`` over Case joined to its latest Screening, restricted to the year's victims."""
    start, end = year_bounds(year)
    query = (
        query.select_from(Case)
        .join(Screening, col(Screening.id) == col(Case.latest_screening_id))
        .where(
            col(Case.latest_status) == "likely",
            col(Case.first_screened_at) >= start,
            col(Case.first_screened_at) < end,
            counted_in_statistics(),
        )
    )
    if scope.states is not None:
        query = query.where(col(Case.state).in_(scope.states))
    return query


def _pairs(session: Session, query: Select) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in session.execute(query).all()]


def _by(rows: Iterable[tuple[Any, ...]], codes: Iterable[str] = ()) -> dict[str, int]:
    """{code: count} with every listed code (zero when absent), then any other code seen."""
    counts = dict.fromkeys(codes, 0)
    for code, count in rows:
        counts[str(code)] = counts.get(str(code), 0) + int(count)
    return counts


def annual_summary(
    session: Session,
    year: int,
    scope: Scope,
    codes: dict[str, tuple[str, ...]],
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The year's summary, unsuppressed. ``codes`` holds the code lists: forms, needs,
    referral_statuses, gap_kinds, statuses, encounters (their order is the output's)."""
    step = progress or (lambda _name: None)
    forms, needs = codes["forms"], codes["needs"]

    victims_total = session.execute(_victims(select(func.count(col(Case.id))), year, scope))
    total = int(victims_total.scalar_one())
    step("victims")

    # One row per (victim, form): the category comes from the latest screening.
    per_form = _victims(
        select(col(ScreeningForm.form).label("form"), category_column().label("category")),
        year,
        scope,
    ).join(ScreeningForm, col(ScreeningForm.screening_id) == col(Screening.id))
    inner = per_form.subquery()
    grid = _pairs(
        session,
        select(inner.c.form, inner.c.category, func.count()).group_by(
            inner.c.form, inner.c.category
        ),
    )
    by_form: dict[str, dict[str, int]] = {
        form: {"total": 0, **dict.fromkeys(CATEGORIES, 0)} for form in forms
    }
    for form, category, count in grid:
        row = by_form.setdefault(str(form), {"total": 0, **dict.fromkeys(CATEGORIES, 0)})
        row[str(category)] += int(count)
        row["total"] += int(count)
    step("forms")

    foreign = _pairs(
        session,
        _victims(select(col(Screening.nationality), func.count()), year, scope)
        .where(col(Screening.foreign) == true())
        .group_by(col(Screening.nationality))
        .order_by(col(Screening.nationality)),
    )
    by_nationality = _by(foreign)
    step("foreign")

    referrals = _victims(select(), year, scope).join(
        Referral, col(Referral.case_id) == col(Case.id)
    )
    referrals = referrals.where(col(Referral.status).notin_(NOT_MADE))
    by_status = _by(
        _pairs(
            session,
            referrals.add_columns(col(Referral.status), func.count()).group_by(
                col(Referral.status)
            ),
        ),
        [s for s in codes["referral_statuses"] if s not in NOT_MADE],
    )
    by_need = _by(
        _pairs(
            session,
            referrals.add_columns(col(Referral.need), func.count()).group_by(col(Referral.need)),
        ),
        needs,
    )
    step("referrals")

    received = _pairs(
        session,
        referrals.join(ScreeningForm, col(ScreeningForm.screening_id) == col(Screening.id))
        .where(col(Referral.status).in_(RECEIVED))
        .add_columns(col(ScreeningForm.form), col(Referral.need), func.count())
        .group_by(col(ScreeningForm.form), col(Referral.need)),
    )
    services: dict[str, dict[str, Any]] = {
        form: {"total": 0, "by_need": dict.fromkeys(needs, 0)} for form in forms
    }
    for form, need, count in received:
        entry = services.setdefault(str(form), {"total": 0, "by_need": dict.fromkeys(needs, 0)})
        entry["by_need"][str(need)] = entry["by_need"].get(str(need), 0) + int(count)
        entry["total"] += int(count)
    step("services")

    gaps = _victims(select(), year, scope).join(Gap, col(Gap.case_id) == col(Case.id))
    by_kind = _by(
        _pairs(session, gaps.add_columns(col(Gap.kind), func.count()).group_by(col(Gap.kind))),
        codes["gap_kinds"],
    )
    reasons = _pairs(
        session,
        gaps.join(GapReason, col(GapReason.gap_id) == col(Gap.id))
        .add_columns(col(Gap.need), col(GapReason.reason), func.count())
        .group_by(col(Gap.need), col(GapReason.reason))
        .order_by(col(Gap.need), col(GapReason.reason)),
    )
    gap_needs: dict[str, dict[str, int]] = {need: {} for need in needs}
    for need, reason, count in reasons:
        gap_needs.setdefault(str(need), {})[str(reason)] = int(count)
    step("gaps")

    start, end = year_bounds(year)
    screenings = (
        select()
        .select_from(Screening)
        .where(col(Screening.screened_at) >= start, col(Screening.screened_at) < end)
    )
    if scope.states is not None:
        screenings = screenings.where(col(Screening.state).in_(scope.states))
    screening_status = _by(
        _pairs(
            session,
            screenings.add_columns(col(Screening.status), func.count()).group_by(
                col(Screening.status)
            ),
        ),
        codes["statuses"],
    )
    screening_encounter = _by(
        _pairs(
            session,
            screenings.add_columns(col(Screening.encounter), func.count()).group_by(
                col(Screening.encounter)
            ),
        ),
        codes["encounters"],
    )
    step("screenings")

    return {
        "year": year,
        "scope": "national" if scope.states is None else sorted(scope.states),
        "victims": {"total": total, "by_form": by_form},
        "foreign_victims": {
            "total": sum(by_nationality.values()),
            "by_nationality": by_nationality,
        },
        "referrals": {"total": sum(by_status.values()), "by_status": by_status, "by_need": by_need},
        "services_received_by_form": services,
        "gaps": {"total": sum(by_kind.values()), "by_kind": by_kind, "by_need": gap_needs},
        "screenings": {
            "total": sum(screening_status.values()),
            "by_status": screening_status,
            "by_encounter": screening_encounter,
        },
    }


SUMMARY_STEPS = ("victims", "forms", "foreign", "referrals", "services", "gaps", "screenings")


def summary_codes(catalogue: Any) -> dict[str, tuple[str, ...]]:
    """The code lists the summary lists in full, in the seeds' order."""
    return {
        name: tuple(catalogue.seeds.codes(name))
        for name in ("forms", "needs", "referral_statuses", "gap_kinds", "statuses", "encounters")
    }


def years_with_cases(session: Session) -> list[int]:
    """The Mexico City years between the first and the last first screening (newest first)."""
    low, high = session.execute(
        select(func.min(col(Case.first_screened_at)), func.max(col(Case.first_screened_at)))
    ).one()
    if low is None or high is None:
        return []
    zone = local_timezone()
    first = low.astimezone(zone).year
    last = high.astimezone(zone).year
    return list(range(last, first - 1, -1))
