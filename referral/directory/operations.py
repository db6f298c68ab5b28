"""The service directory as stored: export, and the admin's changes (they flush only).

Every change is checked by the rules core's ``parse_services`` (the same check as the
seeds), marks the row ``edited`` (so `flask seed` never overwrites it), adds a directory
version (so new routing uses it at once and stored results keep their ``rules_version``)
and is audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, select

from referral.audit.operations import record_audit
from referral.models import DirectoryVersion
from referral.models import Service as ServiceRow
from referral.rules import RuleSeeds, SeedError, SeedErrors, Service, parse_services
from referral.seeds.loader import service_row, update_service_row

RETIRED_STATUS = "defunct"
STALE_AFTER_DAYS = 180


class DuplicateService(Exception):
    """A new service was given an id that is already in the directory."""


def export_entries(session: Session) -> list[dict[str, Any]]:
    """Every directory entry, sorted by id (CONTRACT section 4)."""
    rows = session.exec(select(ServiceRow).order_by(ServiceRow.id)).all()
    return [row.entry for row in rows]


def check_entries(
    entries: list[dict[str, Any]], rules: RuleSeeds, states: Iterable[str], file: str = "directory"
) -> list[Service]:
    """The entries as services, or SeedErrors naming every bad entry and field."""
    return parse_services(entries, rules, set(states), file=file)


def audit_state(entry: dict[str, Any]) -> str | None:
    """The state an audit event about this service belongs to (one-state services only)."""
    coverage = entry.get("coverage") or []
    return coverage[0] if len(coverage) == 1 and coverage[0] != "national" else None


def new_version(session: Session, reason: str) -> DirectoryVersion:
    version = DirectoryVersion(reason=reason)
    session.add(version)
    session.flush()
    return version


def save_service(
    session: Session,
    entry: dict[str, Any],
    *,
    rules: RuleSeeds,
    states: Iterable[str],
    actor_id: int | None,
    create: bool,
) -> ServiceRow:
    """Create or replace one service (CONTRACT 4). Raises SeedErrors, DuplicateService."""
    service = check_entries([entry], rules, states)[0]
    canonical = service.to_contract_dict()
    row = session.get(ServiceRow, service.id)
    if create and row is not None:
        raise DuplicateService(service.id)
    if row is None:
        row = service_row(canonical, seed_digest=None)
    else:
        update_service_row(row, canonical, seed_digest=None)
    row.edited = True
    session.add(row)
    _changed(session, row, actor_id, reason="edit")
    return row


def _changed(session: Session, row: ServiceRow, actor_id: int | None, *, reason: str) -> None:
    session.flush()
    new_version(session, reason)
    record_audit(
        session,
        "directory_changed",
        actor_id=actor_id,
        object_kind="service",
        object_id=row.id,
        state=audit_state(row.entry),
    )


def _replace_entry(row: ServiceRow, changes: dict[str, Any]) -> None:
    entry = {**row.entry, **changes}
    update_service_row(row, entry, seed_digest=None)
    row.edited = True


def retire_service(session: Session, row: ServiceRow, *, actor_id: int | None) -> None:
    """Retire instead of delete: referrals and stored results keep pointing at the row."""
    _replace_entry(row, {"status": RETIRED_STATUS})
    session.add(row)
    _changed(session, row, actor_id, reason="edit")


def update_capacity(
    session: Session, row: ServiceRow, capacity: int | None, *, actor_id: int | None
) -> None:
    if capacity is not None and capacity < 0:
        raise SeedErrors(
            [
                SeedError(
                    "directory",
                    row.id,
                    "capacity_available",
                    "must be a whole number 0 or more, or null",
                )
            ]
        )
    _replace_entry(row, {"capacity_available": capacity})
    session.add(row)
    _changed(session, row, actor_id, reason="edit")
