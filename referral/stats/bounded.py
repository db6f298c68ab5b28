"""Counts for public (differentially private) releases: each case's contribution bounded.

The unit protected is a case. Every count here is of the cases of one year of data (first
screening in that year, Mexico City time) and of one state (the case's current state) or
of the whole country, so each case belongs to exactly one (year, state) of the privacy
ledger. Within a table a case adds at most ``bound`` to the cells (docs/statistics.md):

| table | cells | a case adds at most |
|---|---|---|
| victims by category | men, women, boys, girls, unknown | 1 |
| victims by form | form x category | MAX_FORMS (its first forms, in the contract's order) |
| foreign victims | nationality | 1 |
| referrals by status, by need | status; need | MAX_REFERRALS (its earliest referrals) |
| services received | form x need | MAX_FORMS x MAX_REFERRALS |
| gaps by kind | kind | MAX_GAPS (its earliest gap records) |
| gaps by need and reason | need x reason | MAX_GAP_REASONS (earliest gaps' reasons) |
| people screened | latest status; where screened | 1 |

Every count is a GROUP BY in the database (a window function numbers a case's forms,
referrals and gap reasons to keep the first ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, select, true
from sqlmodel import Session, col

from referral.casework.lifecycle import counted_in_statistics
from referral.casework.models import Case, Gap, GapReason, Referral, Screening, ScreeningForm
from referral.seeds.recommendations import gap_reason_codes
from referral.stats.operations import (
    CATEGORIES,
    NOT_MADE,
    RECEIVED,
    category_column,
    year_bounds,
)

MAX_FORMS = 2
MAX_REFERRALS = 3
MAX_GAPS = 3
MAX_GAP_REASONS = 3
# CONTRACT 2.3 names this gap reason; listed so the table's domain holds it once it is used.
STATE_UNKNOWN = "state_unknown"


@dataclass(frozen=True)
class TableSpec:
    """A public table: its cells (fixed from the code lists, never from the data), how much
    one case may add to them, and its share of the release's privacy-loss parameter."""

    name: str
    keys: tuple[str, ...]
    bound: int
    share: float


def pair(first: str, second: str) -> str:
    return f"{first}|{second}"


def table_specs(codes: dict[str, tuple[str, ...]]) -> tuple[TableSpec, ...]:
    """The tables of a public annual summary; their shares add up to 1. The victims' tables
    (the report's table and the foreign victims) get two thirds of the budget."""
    forms, needs = codes["forms"], codes["needs"]
    statuses = tuple(s for s in codes["referral_statuses"] if s not in NOT_MADE)
    return (
        TableSpec("victims_by_category", CATEGORIES, 1, 0.15),
        TableSpec(
            "victims_by_form", tuple(pair(f, c) for f in forms for c in CATEGORIES), MAX_FORMS, 0.35
        ),
        TableSpec("foreign_by_nationality", codes["nationalities"], 1, 0.15),
        TableSpec("referrals_by_status", statuses, MAX_REFERRALS, 0.06),
        TableSpec("referrals_by_need", needs, MAX_REFERRALS, 0.06),
        TableSpec(
            "services_by_form",
            tuple(pair(f, n) for f in forms for n in needs),
            MAX_FORMS * MAX_REFERRALS,
            0.06,
        ),
        TableSpec("gaps_by_kind", codes["gap_kinds"], MAX_GAPS, 0.05),
        TableSpec(
            "gaps_by_need_reason",
            tuple(pair(n, r) for n in needs for r in codes["gap_reasons"]),
            MAX_GAP_REASONS,
            0.05,
        ),
        TableSpec("screened_by_status", codes["statuses"], 1, 0.035),
        TableSpec("screened_by_encounter", codes["encounters"], 1, 0.035),
    )


def public_codes(catalogue: Any) -> dict[str, tuple[str, ...]]:
    """Every code list the public tables are laid over, in the seeds' order."""
    seeds = catalogue.seeds
    names = ("forms", "needs", "referral_statuses", "gap_kinds", "statuses", "encounters")
    codes = {name: tuple(seeds.codes(name)) for name in names}
    codes["nationalities"] = tuple(seeds.codes("nationalities"))
    reasons = list(gap_reason_codes(seeds))
    if STATE_UNKNOWN not in reasons:
        reasons.append(STATE_UNKNOWN)
    codes["gap_reasons"] = tuple(reasons)
    return codes


def _cases(query: Select, year: int, state: str | None) -> Select:
    start, end = year_bounds(year)
    query = query.where(
        col(Case.first_screened_at) >= start,
        col(Case.first_screened_at) < end,
        counted_in_statistics(),  # a withdrawn consent leaves every later release
    )
    if state is not None:
        query = query.where(col(Case.state) == state)
    return query


def _victims(query: Select, year: int, state: str | None) -> Select:
    """``query`` over the year's victims (latest screening likely) joined to that screening."""
    query = (
        query.select_from(Case)
        .join(Screening, col(Screening.id) == col(Case.latest_screening_id))
        .where(col(Case.latest_status) == "likely")
    )
    return _cases(query, year, state)


def _rows(session: Session, query: Select) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in session.execute(query).all()]


def _form_rank(forms: Sequence[str]) -> Any:
    return case(*((col(ScreeningForm.form) == f, i) for i, f in enumerate(forms)), else_=len(forms))


def bounded_counts(
    session: Session, year: int, state: str | None, codes: dict[str, tuple[str, ...]]
) -> dict[str, dict[str, int]]:
    """The true counts of every public table for one state (or the country), each case's
    contribution bounded. Codes outside a table's lists are not counted."""
    counts: dict[str, dict[str, int]] = {}

    def keep(name: str, rows: list[tuple[Any, ...]], keys: Sequence[str]) -> None:
        allowed = set(keys)
        table: dict[str, int] = {}
        for *parts, count in rows:
            key = "|".join(str(p) for p in parts)
            if key in allowed:
                table[key] = table.get(key, 0) + int(count)
        counts[name] = table

    specs = {spec.name: spec for spec in table_specs(codes)}
    category = category_column().label("category")
    keep(
        "victims_by_category",
        _rows(session, _victims(select(category, func.count()), year, state).group_by(category)),
        specs["victims_by_category"].keys,
    )

    forms = (
        _victims(
            select(
                col(Case.id).label("case_id"),
                col(ScreeningForm.form).label("form"),
                category_column().label("category"),
                func.row_number()
                .over(partition_by=col(Case.id), order_by=_form_rank(codes["forms"]))
                .label("rank"),
            ),
            year,
            state,
        )
        .join(ScreeningForm, col(ScreeningForm.screening_id) == col(Screening.id))
        .subquery("bounded_forms")
    )
    first_forms = select(forms.c.case_id, forms.c.form, forms.c.category).where(
        forms.c.rank <= MAX_FORMS
    )
    kept_forms = first_forms.subquery("kept_forms")
    keep(
        "victims_by_form",
        _rows(
            session,
            select(kept_forms.c.form, kept_forms.c.category, func.count()).group_by(
                kept_forms.c.form, kept_forms.c.category
            ),
        ),
        specs["victims_by_form"].keys,
    )

    keep(
        "foreign_by_nationality",
        _rows(
            session,
            _victims(select(col(Screening.nationality), func.count()), year, state)
            .where(col(Screening.foreign) == true())
            .group_by(col(Screening.nationality)),
        ),
        specs["foreign_by_nationality"].keys,
    )

    referrals = (
        _victims(
            select(
                col(Case.id).label("case_id"),
                col(Referral.status).label("status"),
                col(Referral.need).label("need"),
                func.row_number()
                .over(partition_by=col(Case.id), order_by=col(Referral.id))
                .label("rank"),
            ),
            year,
            state,
        )
        .join(Referral, col(Referral.case_id) == col(Case.id))
        .where(col(Referral.status).notin_(NOT_MADE))
        .subquery("bounded_referrals")
    )
    first = referrals.c.rank <= MAX_REFERRALS
    for name, column in (
        ("referrals_by_status", referrals.c.status),
        ("referrals_by_need", referrals.c.need),
    ):
        keep(
            name,
            _rows(session, select(column, func.count()).where(first).group_by(column)),
            specs[name].keys,
        )
    keep(
        "services_by_form",
        _rows(
            session,
            select(kept_forms.c.form, referrals.c.need, func.count())
            .select_from(referrals)
            .join(kept_forms, kept_forms.c.case_id == referrals.c.case_id)
            .where(first, referrals.c.status.in_(RECEIVED))
            .group_by(kept_forms.c.form, referrals.c.need),
        ),
        specs["services_by_form"].keys,
    )

    gaps = (
        _victims(
            select(
                col(Gap.kind).label("kind"),
                func.row_number()
                .over(partition_by=col(Case.id), order_by=col(Gap.id))
                .label("rank"),
            ),
            year,
            state,
        )
        .join(Gap, col(Gap.case_id) == col(Case.id))
        .subquery("bounded_gaps")
    )
    keep(
        "gaps_by_kind",
        _rows(
            session,
            select(gaps.c.kind, func.count()).where(gaps.c.rank <= MAX_GAPS).group_by(gaps.c.kind),
        ),
        specs["gaps_by_kind"].keys,
    )
    reasons = (
        _victims(
            select(
                col(Gap.need).label("need"),
                col(GapReason.reason).label("reason"),
                func.row_number()
                .over(partition_by=col(Case.id), order_by=(col(Gap.id), col(GapReason.reason)))
                .label("rank"),
            ),
            year,
            state,
        )
        .join(Gap, col(Gap.case_id) == col(Case.id))
        .join(GapReason, col(GapReason.gap_id) == col(Gap.id))
        .subquery("bounded_reasons")
    )
    keep(
        "gaps_by_need_reason",
        _rows(
            session,
            select(reasons.c.need, reasons.c.reason, func.count())
            .where(reasons.c.rank <= MAX_GAP_REASONS)
            .group_by(reasons.c.need, reasons.c.reason),
        ),
        specs["gaps_by_need_reason"].keys,
    )

    screened = _cases(
        select()
        .select_from(Case)
        .join(Screening, col(Screening.id) == col(Case.latest_screening_id)),
        year,
        state,
    )
    by_column: tuple[tuple[str, Any], ...] = (
        ("screened_by_status", col(Screening.status)),
        ("screened_by_encounter", col(Screening.encounter)),
    )
    for name, column in by_column:
        keep(
            name,
            _rows(session, screened.add_columns(column, func.count()).group_by(column)),
            specs[name].keys,
        )
    return counts


def watermark(session: Session) -> int:
    """The newest screening's id: a later release knows whether anything came after it."""
    return int(session.execute(select(func.coalesce(func.max(col(Screening.id)), 0))).scalar_one())


def newer_cases(session: Session, year: int, state: str | None, mark: int) -> bool:
    """Whether a case of the year in scope was screened (first or again) after ``mark``."""
    query = _cases(
        select(col(Screening.id))
        .select_from(Screening)
        .join(Case, col(Case.id) == col(Screening.case_id))
        .where(col(Screening.id) > mark),
        year,
        state,
    ).limit(1)
    return session.execute(query).first() is not None
