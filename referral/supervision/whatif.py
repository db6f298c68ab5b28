"""What-if: the routing gaps of stored screenings under today's directory and under a draft.

A draft is the live directory with changes applied in memory (a new service, a raised age
limit, more capacity, another language); it is checked by the rules core like any
directory and never written. Stored screening records are routed again through the rules
core (``route_case`` without the ``excluded`` listing) against each catalogue. Identical
records are routed once and counted with their multiplicity, and a record needing nothing
the draft changes is routed only once, so the cost grows with the number of distinct
records, not of screenings.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from referral.access import Reach
from referral.casework.models import Screening
from referral.rules import Catalogue, RuleSeeds, build_catalogue, parse_services, route_case
from referral.rules import validate_record as validate
from referral.supervision import queries

# A gap under one catalogue: (need, state, sex, age band, minor|adult, national|foreign).
GapKey = tuple[str, str, str, str, str, str]
DIMENSIONS = ("need", "state", "sex", "age_band", "minor", "foreign")


@dataclass(frozen=True)
class DraftChange:
    """One change to the directory, as a supervisor drafts it."""

    kind: str  # add | change
    service_id: str | None = None  # for change
    values: dict[str, Any] = field(default_factory=dict)  # replaced fields
    add_to_lists: dict[str, list[str]] = field(default_factory=dict)  # coverage, sexes, languages


def draft_entries(
    live: Iterable[dict[str, Any]], changes: Sequence[DraftChange]
) -> list[dict[str, Any]]:
    """The live entries with the changes applied (copies: the live directory is untouched)."""
    entries = {e["id"]: json.loads(json.dumps(e)) for e in live}
    for change in changes:
        if change.kind == "add":
            entry = dict(change.values)
            entries[entry["id"]] = entry
            continue
        current = entries.get(change.service_id or "")
        if current is None:
            raise KeyError(change.service_id)
        current.update(change.values)
        for name, extra in change.add_to_lists.items():
            current[name] = [*current[name], *(x for x in extra if x not in current[name])]
    return sorted(entries.values(), key=lambda e: e["id"])


def draft_catalogue(live: Catalogue, changes: Sequence[DraftChange], rules: RuleSeeds) -> Catalogue:
    """The catalogue of the draft; raises SeedErrors when the draft breaks the contract."""
    entries = draft_entries((s.to_contract_dict() for s in live.services), changes)
    services = parse_services(entries, rules, set(live.state_names), file="draft")
    return build_catalogue(
        rules,
        services,
        directory_version=f"{live.directory_version}+draft",
        state_names={code: dict(names) for code, names in live.state_names.items()},
        languages=live.language_table.to_639_3,
    )


def stored_records(
    session: Session, reach: Reach, since: date | None, until: date | None, state: str | None
) -> list[dict[str, Any]]:
    """The screening records of the period within reach (one SELECT of one column)."""
    filters = queries.Filters(since=since, until=until)
    query = select(Screening.record).where(  # type: ignore[call-overload]
        *queries._in_period(Screening.screened_at, filters, session)
    )
    if state:
        query = query.where(Screening.state == state)
    query = queries._scoped(query, reach, Screening.state)
    return list(session.execute(query).scalars().all())


@dataclass
class Comparison:
    screenings: int = 0
    distinct: int = 0
    today: Counter[GapKey] = field(default_factory=Counter)
    draft: Counter[GapKey] = field(default_factory=Counter)
    closed: Counter[str] = field(default_factory=Counter)  # need -> gaps the draft closes
    opened: Counter[str] = field(default_factory=Counter)  # need -> gaps the draft opens

    def by(self, dimension: str) -> list[tuple[str, int, int]]:
        """(value, gaps today, gaps with the draft), by one dimension, most gaps first."""
        index = DIMENSIONS.index(dimension)
        today: Counter[str] = Counter()
        draft: Counter[str] = Counter()
        for key, n in self.today.items():
            today[key[index]] += n
        for key, n in self.draft.items():
            draft[key[index]] += n
        values = set(today) | set(draft)
        return sorted(((v, today[v], draft[v]) for v in values), key=lambda r: (-r[1], -r[2], r[0]))

    @property
    def total_today(self) -> int:
        return sum(self.today.values())

    @property
    def total_draft(self) -> int:
        return sum(self.draft.values())


def age_band(age: int | None) -> str:
    if age is None:
        return "unknown"
    for limit, band in ((12, "0-11"), (18, "12-17"), (30, "18-29"), (60, "30-59")):
        if age < limit:
            return band
    return "60+"


def compare(records: Iterable[dict[str, Any]], today: Catalogue, draft: Catalogue) -> Comparison:
    """Route every record against both catalogues and count the gaps of each."""
    result = Comparison()
    multiplicity: Counter[str] = Counter()
    originals: dict[str, dict[str, Any]] = {}
    for raw in records:
        key = json.dumps(raw, sort_keys=True, separators=(",", ":"))
        if key not in multiplicity:
            originals[key] = raw
        multiplicity[key] += 1
        result.screenings += 1
    result.distinct = len(multiplicity)
    codes = today.codes
    # A need's gaps depend only on that need's services: a record needing none of the needs
    # whose services the draft changes has the same gaps under both, so it is routed once.
    changed = {
        need
        for need in today.need_order
        if today.tables[need].services != draft.tables[need].services
    }
    for key, n in multiplicity.items():
        record = validate(originals[key], codes)
        before = route_case(record, today, include_excluded=False)
        if changed.isdisjoint(line.need for line in before.needs):
            after = before
        else:
            after = route_case(record, draft, include_excluded=False)
        profile = (
            record.state,
            record.sex,
            age_band(record.age),
            "minor" if before.screening.minor else "adult",
            "foreign" if record.foreign else "national",
        )
        needs_before = before.gap_needs()
        needs_after = after.gap_needs()
        for need in needs_before:
            result.today[(need, *profile)] += n
        for need in needs_after:
            result.draft[(need, *profile)] += n
        for need in needs_before - needs_after:
            result.closed[need] += n
        for need in needs_after - needs_before:
            result.opened[need] += n
    return result
