"""The service directory as stored: export, and the admin's changes (they flush only).

Every change is checked by the rules core's ``parse_services`` (the same check as the
seeds), marks the row ``edited`` (so `flask seed` never overwrites it), adds a directory
version (so new routing uses it at once and stored results keep their ``rules_version``)
and is audited.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from referral.audit.operations import field_changes, record_audit
from referral.db import utcnow
from referral.directory.models import (
    CAPACITY_CHANGE,
    CONFIRMED_REASON,
    DEMONSTRATION_REASON,
    DirectoryVersion,
    State,
)
from referral.directory.models import Service as ServiceRow
from referral.rules import (
    RuleSeeds,
    SeedError,
    SeedErrors,
    Service,
    parse_services,
)
from referral.seeds.loader import SeedSet

RETIRED_STATUS = "defunct"
STALE_AFTER_DAYS = 180


class DuplicateService(Exception):
    """A new service was given an id that is already in the directory."""


def export_entries(session: Session) -> list[dict[str, Any]]:
    """Every directory entry, sorted by id (CONTRACT section 4)."""
    rows = session.exec(select(ServiceRow).order_by(ServiceRow.id)).all()
    return [row.entry for row in rows]


def service_capacities(session: Session) -> dict[str, dict[str, Any]]:
    """HSDS 3.1 service_capacity facts of the services whose places were set: id -> facts."""
    rows = session.exec(select(ServiceRow).where(col(ServiceRow.capacity_updated).is_not(None)))
    return {
        row.id: {
            "available": row.entry.get("capacity_available"),
            "maximum": row.capacity_maximum,
            "updated": row.capacity_updated,
        }
        for row in rows
    }


def check_entries(
    entries: list[dict[str, Any]], rules: RuleSeeds, states: Iterable[str], file: str = "directory"
) -> list[Service]:
    """The entries as services, or SeedErrors naming every bad entry and field."""
    return parse_services(entries, rules, set(states), file=file)


def audit_state(entry: dict[str, Any]) -> str | None:
    """The state an audit event about this service belongs to (one-state services only)."""
    coverage = entry.get("coverage") or []
    return coverage[0] if len(coverage) == 1 and coverage[0] != "national" else None


def referenced_services(session: Session, ids: Iterable[str]) -> set[str]:
    """The services among ``ids`` that a row of any table points at (a referral, say).

    Found through the foreign keys on the metadata, so the directory need not import the
    features that refer to it.
    """
    wanted = list(ids)
    found: set[str] = set()
    if not wanted:
        return found
    for table in SQLModel.metadata.tables.values():
        for key in table.foreign_keys:
            if key.column.table.name == ServiceRow.__tablename__:
                found.update(
                    session.exec(select(key.parent).where(key.parent.in_(wanted)).distinct()).all()
                )
    return found


def new_version(session: Session, reason: str) -> DirectoryVersion:
    """A new directory version; ``reason`` in UNVERSIONED_REASONS changes no rules_version."""
    version = DirectoryVersion(reason=reason)
    session.add(version)
    session.flush()
    return version


# The directory is a demonstration (the seeds) until an admin confirms it or imports one;
# the latest of these versions says which (an admin may also mark it a demonstration again).
IMPORT_REASON = "import"
_STANDING = (CONFIRMED_REASON, DEMONSTRATION_REASON, IMPORT_REASON)


def directory_confirmed(session: Session) -> bool:
    """Whether an admin has confirmed or imported a real directory (and not withdrawn it)."""
    reason = session.exec(
        select(DirectoryVersion.reason)
        .where(col(DirectoryVersion.reason).in_(_STANDING))
        .order_by(col(DirectoryVersion.id).desc())
        .limit(1)
    ).first()
    return reason in (CONFIRMED_REASON, IMPORT_REASON)


def set_directory_confirmed(session: Session, confirmed: bool, *, actor_id: int | None) -> None:
    """Store (and audit) that the directory is a real one, or a demonstration again."""
    version = new_version(session, CONFIRMED_REASON if confirmed else DEMONSTRATION_REASON)
    record_audit(
        session,
        "directory_changed",
        actor_id=actor_id,
        object_kind="directory",
        object_id=version.id,
    )


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
    before: dict[str, Any] = {} if row is None else dict(row.entry)
    if row is None:
        row = service_row(canonical, seed_digest=None)
    else:
        update_service_row(row, canonical, seed_digest=None)
    row.edited = True
    session.add(row)
    _changed(session, row, actor_id, reason="edit", before=before)
    return row


# Texts a service's entry holds (names, contacts, hours...): the log says they changed, and
# keeps their before and after out of the append-only table.
SERVICE_FREE_TEXT = ("name", "how_to_refer", "contact", "hours", "required_documents", "source")


def _changed(
    session: Session,
    row: ServiceRow,
    actor_id: int | None,
    *,
    reason: str,
    before: dict[str, Any] | None = None,
) -> None:
    session.flush()
    new_version(session, reason)
    record_audit(
        session,
        "directory_changed",
        actor_id=actor_id,
        object_kind="service",
        object_id=row.id,
        state=audit_state(row.entry),
        changes=None
        if before is None
        else field_changes(before, row.entry, names_only=SERVICE_FREE_TEXT) or None,
    )


def _replace_entry(row: ServiceRow, changes: dict[str, Any]) -> None:
    entry = {**row.entry, **changes}
    update_service_row(row, entry, seed_digest=None)
    row.edited = True


def retire_service(session: Session, row: ServiceRow, *, actor_id: int | None) -> None:
    """Retire instead of delete: referrals and stored results keep pointing at the row."""
    before = dict(row.entry)
    _replace_entry(row, {"status": RETIRED_STATUS})
    session.add(row)
    _changed(session, row, actor_id, reason="edit", before=before)


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
    before = dict(row.entry)
    _replace_entry(row, {"capacity_available": capacity})
    session.add(row)
    _changed(session, row, actor_id, reason=CAPACITY_CHANGE, before=before)


def set_capacity(
    session: Session,
    row: ServiceRow,
    available: int | None,
    maximum: int | None,
    *,
    actor_id: int | None,
) -> None:
    """Free places now and in all (HSDS 3.1 service_capacity), stamped with when they were set."""
    update_capacity(session, row, available, actor_id=actor_id)
    row.capacity_maximum = maximum
    row.capacity_updated = utcnow()
    session.add(row)
    session.flush()


@dataclass
class SeedReport:
    """What `flask seed` did; ``differs``: admin-edited services the seeds disagree with."""

    states_added: int = 0
    states_updated: int = 0
    services_added: int = 0
    services_updated: int = 0
    differs: list[str] = field(default_factory=list)
    directory_version: int | None = None

    @property
    def changed(self) -> bool:
        return bool(
            self.states_added + self.states_updated + self.services_added + self.services_updated
        )


def entry_digest(entry: dict[str, Any]) -> str:
    canonical = json.dumps(entry, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def apply_seeds(session: Session, seeds: SeedSet) -> SeedReport:
    """Write states and services; flush only (the caller commits)."""
    report = SeedReport()
    existing_states = {s.code: s for s in session.exec(select(State)).all()}
    for seed in seeds.states:
        row = existing_states.get(seed.code)
        if row is None:
            session.add(State(code=seed.code, name_es=seed.name.es, name_en=seed.name.en))
            report.states_added += 1
        elif (row.name_es, row.name_en) != (seed.name.es, seed.name.en):
            row.name_es, row.name_en = seed.name.es, seed.name.en
            report.states_updated += 1

    existing = {s.id: s for s in session.exec(select(ServiceRow)).all()}
    for service in seeds.services:
        entry = service.to_contract_dict()
        digest = entry_digest(entry)
        stored = existing.get(service.id)
        if stored is None:
            session.add(service_row(entry, seed_digest=digest))
            report.services_added += 1
        elif stored.edited:
            if entry_digest(stored.entry) != digest:
                report.differs.append(service.id)
        elif stored.seed_digest != digest:
            update_service_row(stored, entry, seed_digest=digest)
            report.services_updated += 1
    if report.services_added or report.services_updated:
        version = DirectoryVersion(reason="seed")
        session.add(version)
        session.flush()
        report.directory_version = version.id
    session.flush()
    return report


def service_row(entry: dict[str, Any], *, seed_digest: str | None) -> ServiceRow:
    row = ServiceRow(
        id=entry["id"],
        need=entry["need"],
        status=entry["status"],
        name_es=entry["name"]["es"],
        name_en=entry["name"]["en"],
        entry=entry,
        seed_digest=seed_digest,
    )
    return row


def update_service_row(row: ServiceRow, entry: dict[str, Any], *, seed_digest: str | None) -> None:
    row.need = entry["need"]
    row.status = entry["status"]
    row.name_es = entry["name"]["es"]
    row.name_en = entry["name"]["en"]
    row.entry = entry
    row.seed_digest = seed_digest
    row.updated_at = utcnow()
