"""Differentially private releases and the privacy ledger (issue 15; docs/statistics.md).

- A release covers one year of data and either the whole country or one state. A release
  for several states is assembled from their per-state releases, so subtracting one scope
  from another gives nothing beyond those per-state releases.
- It is computed once and stored (``PrivacyRelease``): asking again returns it. Cases that
  arrive for the year after it go into a later edition, made only when asked for, which
  spends the budget again.
- Each (year, state) has a budget of privacy loss; a release spends its epsilon on every
  state it covers (a national one on every state). A release the budget does not allow is
  refused with :class:`BudgetSpent`, and nothing is spent.
- Counting happens in a read transaction; the ledger is checked again and written in the
  caller's write transaction (under an advisory lock on PostgreSQL; SQLite's write lock
  already serializes writers), so two requests cannot overspend.
"""

from __future__ import annotations

import importlib.metadata
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlmodel import Session, col

from referral.stats import privacy
from referral.stats.bounded import (
    MAX_FORMS,
    MAX_GAP_REASONS,
    MAX_GAPS,
    MAX_REFERRALS,
    bounded_counts,
    newer_cases,
    pair,
    public_codes,
    table_specs,
    watermark,
)
from referral.stats.models import PrivacyRelease
from referral.stats.operations import CATEGORIES, Progress

NATIONAL = "national"
SUMMARY = "summary"
DEFAULT_EPSILON = 2.0  # per release (docs/statistics.md: what it means for the numbers)
DEFAULT_BUDGET = 6.0  # per year of data and state: three releases at the default epsilon
EPSILON_CHOICES = (0.5, 1.0, 2.0, 4.0)
_PG_LEDGER_LOCK = 7_150_015  # pg_advisory_xact_lock key of the ledger (issue 15)


class BudgetSpent(Exception):
    """The privacy budget of these (year, state)s does not allow the release."""

    def __init__(self, year: int, remaining: dict[str, float], epsilon: float) -> None:
        super().__init__(f"budget spent for {year}: {sorted(remaining)}")
        self.year = year
        self.remaining = remaining
        self.epsilon = epsilon


def ledger_states(state_codes: Iterable[str]) -> tuple[str, ...]:
    """Every state of the ledger: the 32 states and "unknown" (a case whose state is not
    known is still a case of the country)."""
    return (*sorted(state_codes), "unknown")


def spent(session: Session, year: int) -> dict[str, float]:
    """Privacy loss spent on each state for ``year``, over every table and edition."""
    totals: dict[str, float] = {}
    query = select(PrivacyRelease).where(col(PrivacyRelease.year) == year)
    for release in session.execute(query).scalars():
        for state in release.states:
            totals[state] = totals.get(state, 0.0) + float(release.epsilon)
    return totals


def latest(
    session: Session, year: int, scope: str, table: str, epsilon: float
) -> PrivacyRelease | None:
    query = (
        select(PrivacyRelease)
        .where(
            col(PrivacyRelease.year) == year,
            col(PrivacyRelease.scope) == scope,
            col(PrivacyRelease.table_name) == table,
            col(PrivacyRelease.epsilon) == epsilon,
        )
        .order_by(col(PrivacyRelease.edition).desc())
        .limit(1)
    )
    return session.execute(query).scalars().first()


@dataclass
class Request:
    """What a reader asks for: a table of a year, for some units (``NATIONAL`` or states)."""

    year: int
    units: tuple[str, ...]
    table: str
    epsilon: float
    update: bool = False  # make a new edition where newer cases arrived


@dataclass
class Outcome:
    releases: list[PrivacyRelease]
    created: list[str] = field(default_factory=list)  # units given a new edition now
    newer: list[str] = field(default_factory=list)  # units with cases after their release


def units_of(states: Sequence[str] | None) -> tuple[str, ...]:
    """The release units of a scope: the country, or each of its states."""
    return (NATIONAL,) if states is None else tuple(sorted(set(states)))


def covered(unit: str, all_states: Sequence[str]) -> list[str]:
    return list(all_states) if unit == NATIONAL else [unit]


Compute = Callable[[Session, int, str | None, float], dict[str, Any]]


def find(database: Any, request: Request) -> Outcome:
    """The stored releases for ``request`` (no spending); units without one are left out."""
    outcome = Outcome([])
    with database.transaction(write=False) as session:
        for unit in request.units:
            release = latest(session, request.year, unit, request.table, request.epsilon)
            if release is None:
                continue
            outcome.releases.append(release)
            state = None if unit == NATIONAL else unit
            if newer_cases(session, request.year, state, release.watermark):
                outcome.newer.append(unit)
    return outcome


def obtain(
    database: Any,
    writer: Session,
    request: Request,
    all_states: Sequence[str],
    budget: float,
    compute: Compute,
    actor_id: int | None,
) -> Outcome:
    """The releases for ``request``: stored ones as they are, missing ones (and, when
    ``update``, those with newer cases) computed and stored. All or nothing: when the
    budget of any state does not allow what must be made, nothing is made."""
    existing: dict[str, PrivacyRelease | None] = {}
    to_make: list[str] = []
    newer: list[str] = []
    computed: dict[str, tuple[int, dict[str, Any]]] = {}
    with database.transaction(write=False, snapshot=True) as session:
        for unit in request.units:
            release = latest(session, request.year, unit, request.table, request.epsilon)
            existing[unit] = release
            state = None if unit == NATIONAL else unit
            if release is None:
                to_make.append(unit)
            elif newer_cases(session, request.year, state, release.watermark):
                newer.append(unit)
                if request.update:
                    to_make.append(unit)
        _check_budget(session, request, to_make, all_states, budget)
        mark = watermark(session)
        for unit in to_make:
            state = None if unit == NATIONAL else unit
            computed[unit] = (mark, compute(session, request.year, state, request.epsilon))

    if to_make and writer.get_bind().dialect.name == "postgresql":
        writer.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LEDGER_LOCK})
    outcome = Outcome([], newer=[u for u in newer if u not in to_make])
    fresh: list[str] = []
    for unit in to_make:
        now = latest(writer, request.year, unit, request.table, request.epsilon)
        before = existing[unit]
        if now is not None and (before is None or now.edition > before.edition):
            existing[unit] = now  # made meanwhile by someone else: theirs stands
        else:
            fresh.append(unit)
    _check_budget(writer, request, fresh, all_states, budget)
    for unit in request.units:
        if unit in fresh:
            mark, numbers = computed[unit]
            before = existing[unit]
            release = PrivacyRelease(
                year=request.year,
                scope=unit,
                table_name=request.table,
                epsilon=request.epsilon,
                edition=1 if before is None else before.edition + 1,
                states=covered(unit, all_states),
                watermark=mark,
                numbers=numbers,
                created_by=actor_id,
            )
            writer.add(release)
            writer.flush()
            outcome.created.append(unit)
            outcome.releases.append(release)
        else:
            kept = existing[unit]
            assert kept is not None
            outcome.releases.append(kept)
    return outcome


def _check_budget(
    session: Session,
    request: Request,
    units: Sequence[str],
    all_states: Sequence[str],
    budget: float,
) -> None:
    if not units:
        return
    used = spent(session, request.year)
    remaining: dict[str, float] = {}
    for unit in units:
        for state in covered(unit, all_states):
            left = budget - used.get(state, 0.0)
            if left + 1e-9 < request.epsilon:
                remaining[state] = max(left, 0.0)
    if remaining:
        raise BudgetSpent(request.year, remaining, request.epsilon)


def budget_rows(
    session: Session, year: int, all_states: Sequence[str], budget: float
) -> list[tuple[str, float, float]]:
    """(state, spent, remaining) for every state of the ledger, for the admin's page."""
    used = spent(session, year)
    return [(s, used.get(s, 0.0), max(budget - used.get(s, 0.0), 0.0)) for s in all_states]


def ledger_years(session: Session) -> list[int]:
    years = session.execute(
        select(col(PrivacyRelease.year)).distinct().order_by(col(PrivacyRelease.year).desc())
    )
    return [int(y) for y in years.scalars()]


def all_releases(session: Session, year: int) -> list[PrivacyRelease]:
    query = (
        select(PrivacyRelease)
        .where(col(PrivacyRelease.year) == year)
        .order_by(col(PrivacyRelease.created_at), col(PrivacyRelease.id))
    )
    return list(session.execute(query).scalars())


# --- the public annual summary ------------------------------------------------------------


def summary_compute(codes: dict[str, tuple[str, ...]], progress: Progress | None = None) -> Compute:
    """Count one unit's bounded tables and release them: the numbers a release stores."""

    def compute(session: Session, year: int, state: str | None, epsilon: float) -> dict[str, Any]:
        counts = bounded_counts(session, year, state, codes)
        if progress:
            progress("counted")
        return release_summary_tables(counts, codes, epsilon)

    return compute


def release_summary_tables(
    counts: dict[str, dict[str, int]], codes: dict[str, tuple[str, ...]], epsilon: float
) -> dict[str, Any]:
    """Noise every table (its share of epsilon), then post-process: non-negative whole
    numbers that add up; referrals by status and by need share one total, and so do people
    screened by status and by encounter (each pair's two noisy totals, averaged)."""
    noisy = {
        spec.name: privacy.noisy_table(
            counts.get(spec.name, {}), spec.keys, spec.bound, epsilon * spec.share
        )
        for spec in table_specs(codes)
    }
    totals: dict[str, int] = {}
    for first, second in (
        ("referrals_by_status", "referrals_by_need"),
        ("screened_by_status", "screened_by_encounter"),
    ):
        totals[first] = totals[second] = privacy.pooled_total(noisy[first], noisy[second])
    tables = {}
    for name, table in noisy.items():
        released = privacy.finish(table, totals.get(name))
        tables[name] = {"cells": released.cells, "scale": released.scale}
    return {"tables": tables}


def opendp_version() -> str:
    try:
        return importlib.metadata.version("opendp")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a broken install
        return "unknown"


def assemble_summary(
    releases: Sequence[PrivacyRelease],
    codes: dict[str, tuple[str, ...]],
    year: int,
    scope: str | list[str],
) -> dict[str, Any]:
    """The public summary of a scope from its units' releases (summed), with the ``privacy``
    block: mechanism, epsilon, and each number's 95 % margin (``margins``, mirroring the
    counts) and interval (``intervals``)."""
    parts = len(releases)
    tables = [release.numbers["tables"] for release in releases]

    def summed(name: str) -> dict[str, int]:
        out: dict[str, int] = {}
        for numbers in tables:
            for key, value in numbers[name]["cells"].items():
                out[key] = out.get(key, 0) + int(value)
        return out

    def scale(name: str) -> float:
        return float(tables[0][name]["scale"]) if tables else 1.0

    def m(name: str, terms: int = 1) -> int:
        return privacy.margin(scale(name), terms * parts) if parts else 0

    def pooled(name: str) -> int:
        """Each unit's total is the average of two noisy totals."""
        return math.ceil(privacy.margin(scale(name), 2 * parts) / 2) if parts else 0

    forms, needs = codes["forms"], codes["needs"]
    statuses = [s for s in codes["referral_statuses"] if s != "entered_in_error"]
    by_category = summed("victims_by_category")
    grid = summed("victims_by_form")
    nationality = summed("foreign_by_nationality")
    referral_status = summed("referrals_by_status")
    referral_need = summed("referrals_by_need")
    services = summed("services_by_form")
    kinds = summed("gaps_by_kind")
    reasons = summed("gaps_by_need_reason")
    screened_status = summed("screened_by_status")
    screened_encounter = summed("screened_by_encounter")

    def row(cells: dict[str, int], prefix: str, columns: Sequence[str]) -> dict[str, int]:
        values = {c: cells.get(pair(prefix, c), 0) for c in columns}
        return {"total": sum(values.values()), **values}

    summary: dict[str, Any] = {
        "year": year,
        "scope": scope,
        "victims": {
            "total": sum(by_category.values()),
            "by_category": {c: by_category.get(c, 0) for c in CATEGORIES},
            "by_form": {form: row(grid, form, CATEGORIES) for form in forms},
        },
        "foreign_victims": {
            "total": sum(nationality.values()),
            "by_nationality": {n: nationality.get(n, 0) for n in codes["nationalities"]},
        },
        "referrals": {
            "total": sum(referral_status.values()),
            "by_status": {s: referral_status.get(s, 0) for s in statuses},
            "by_need": {n: referral_need.get(n, 0) for n in needs},
        },
        "services_received_by_form": {
            form: {
                "total": sum(services.get(pair(form, n), 0) for n in needs),
                "by_need": {n: services.get(pair(form, n), 0) for n in needs},
            }
            for form in forms
        },
        "gaps": {
            "total": sum(kinds.values()),
            "by_kind": {k: kinds.get(k, 0) for k in codes["gap_kinds"]},
            "by_need": {
                need: {r: reasons.get(pair(need, r), 0) for r in codes["gap_reasons"]}
                for need in needs
            },
        },
        "screenings": {
            "total": sum(screened_status.values()),
            "by_status": {s: screened_status.get(s, 0) for s in codes["statuses"]},
            "by_encounter": {e: screened_encounter.get(e, 0) for e in codes["encounters"]},
        },
    }
    cell = m("victims_by_form")
    form_total = m("victims_by_form", len(CATEGORIES))
    service_total = m("services_by_form", len(needs))
    margins: dict[str, Any] = {
        "victims": {
            "total": m("victims_by_category"),
            "by_category": dict.fromkeys(CATEGORIES, m("victims_by_category")),
            "by_form": {
                form: {"total": form_total, **dict.fromkeys(CATEGORIES, cell)} for form in forms
            },
        },
        "foreign_victims": {
            "total": m("foreign_by_nationality"),
            "by_nationality": dict.fromkeys(codes["nationalities"], m("foreign_by_nationality")),
        },
        "referrals": {
            "total": pooled("referrals_by_status"),
            "by_status": dict.fromkeys(statuses, m("referrals_by_status")),
            "by_need": dict.fromkeys(needs, m("referrals_by_need")),
        },
        "services_received_by_form": {
            form: {"total": service_total, "by_need": dict.fromkeys(needs, m("services_by_form"))}
            for form in forms
        },
        "gaps": {
            "total": m("gaps_by_kind"),
            "by_kind": dict.fromkeys(codes["gap_kinds"], m("gaps_by_kind")),
            "by_need": {
                need: dict.fromkeys(codes["gap_reasons"], m("gaps_by_need_reason"))
                for need in needs
            },
        },
        "screenings": {
            "total": pooled("screened_by_status"),
            "by_status": dict.fromkeys(codes["statuses"], m("screened_by_status")),
            "by_encounter": dict.fromkeys(codes["encounters"], m("screened_by_encounter")),
        },
    }
    epsilon = float(releases[0].epsilon) if releases else DEFAULT_EPSILON
    summary["privacy"] = {
        "mechanism": privacy.MECHANISM,
        "library": f"{privacy.LIBRARY} {opendp_version()}",
        "epsilon": epsilon,
        "delta": 0,
        "unit": "case",
        "confidence": privacy.CONFIDENCE,
        "contribution_bounds": {
            "forms_per_victim": MAX_FORMS,
            "referrals_per_victim": MAX_REFERRALS,
            "gaps_per_victim": MAX_GAPS,
            "gap_reasons_per_victim": MAX_GAP_REASONS,
        },
        "epsilon_shares": {spec.name: spec.share for spec in table_specs(codes)},
        "releases": [
            {
                "scope": r.scope,
                "edition": r.edition,
                "made": r.created_at.isoformat()[:10] if r.created_at else None,
            }
            for r in releases
        ],
        "margins": margins,
        "intervals": _intervals(summary, margins),
    }
    return summary


def _intervals(values: Any, margins: Any) -> Any:
    """[low, high] for each number: the value plus or minus its margin, never below 0."""
    if isinstance(values, dict):
        return {key: _intervals(values[key], margins[key]) for key in margins}
    return [max(0, int(values) - int(margins)), int(values) + int(margins)]


def summary_for(
    releases: Sequence[PrivacyRelease], catalogue: Any, year: int, units: Sequence[str]
) -> dict[str, Any]:
    scope: str | list[str] = NATIONAL if tuple(units) == (NATIONAL,) else sorted(units)
    return assemble_summary(releases, public_codes(catalogue), year, scope)
