"""Read and validate every seed file; write states and services to the database.

Validation refuses the whole seed set and names the file, the entry and the field of
every problem it finds. Loading is idempotent: running it twice leaves the same rows.
A service an admin has edited in the app is never overwritten; it is reported instead.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlmodel import Session, select

from referral.models import DirectoryVersion, State, utcnow
from referral.models import Service as ServiceRow
from referral.rules import (
    RuleSeeds,
    SeedError,
    SeedErrors,
    Service,
    parse_rule_seeds,
    parse_services,
)
from referral.seeds.report import Paragraph, load_report

SEED_FILES = ("states.yaml", "indicators.yaml", "thresholds.yaml", "codes.yaml", "services.yaml")
REPORT_FILE = "report.txt"


class BilingualName(BaseModel):
    model_config = ConfigDict(extra="forbid")
    es: str
    en: str

    @field_validator("es", "en")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


class StateSeed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    name: BilingualName

    @field_validator("code")
    @classmethod
    def _iso_code(cls, value: str) -> str:
        if len(value) != 6 or not value.startswith("MX-") or not value[3:].isalpha():
            raise ValueError("must be an ISO 3166-2:MX code such as MX-CHP")
        return value


@dataclass(frozen=True)
class SeedSet:
    """Everything in seeds/, validated."""

    states: list[StateSeed]
    rules: RuleSeeds
    services: list[Service]
    report: dict[str, Paragraph]

    @property
    def state_codes(self) -> set[str]:
        return {s.code for s in self.states}


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


def read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError:
        raise SeedErrors([SeedError(path.name, "", "", "file is missing")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        raise SeedErrors([SeedError(path.name, where, "", f"not valid YAML: {exc}")]) from None


def parse_states(document: Any, file: str = "states.yaml") -> list[StateSeed]:
    if not isinstance(document, dict) or not isinstance(document.get("states"), list):
        raise SeedErrors([SeedError(file, "", "states", "must be a list under the key 'states'")])
    errors: list[SeedError] = []
    states: list[StateSeed] = []
    seen: set[str] = set()
    for index, raw in enumerate(document["states"]):
        label = f"states[{index}]"
        if isinstance(raw, dict) and isinstance(raw.get("code"), str):
            label += f" ({raw['code']})"
        try:
            state = StateSeed.model_validate(raw)
        except ValidationError as exc:
            for problem in exc.errors():
                where = ".".join(str(p) for p in problem["loc"])
                errors.append(SeedError(file, label, where, problem["msg"]))
            continue
        if state.code in seen:
            errors.append(SeedError(file, label, "code", "is listed twice"))
        seen.add(state.code)
        states.append(state)
    if not errors and len(states) != 32:
        errors.append(SeedError(file, "", "states", f"lists {len(states)} states, not 32"))
    if errors:
        raise SeedErrors(errors)
    return states


def read_documents(seeds_dir: Path, names: tuple[str, ...]) -> dict[str, Any]:
    errors: list[SeedError] = []
    documents: dict[str, Any] = {}
    for name in names:
        try:
            documents[name] = read_yaml(seeds_dir / name)
        except SeedErrors as exc:
            errors.extend(exc.errors)
    if errors:
        raise SeedErrors(errors)
    return documents


def load_rules(seeds_dir: Path) -> tuple[list[StateSeed], RuleSeeds]:
    """The states and the rule seeds (indicators, thresholds, code lists), validated."""
    documents = read_documents(seeds_dir, SEED_FILES[:4])
    errors: list[SeedError] = []
    states: list[StateSeed] = []
    rules: RuleSeeds | None = None
    try:
        states = parse_states(documents["states.yaml"])
    except SeedErrors as exc:
        errors.extend(exc.errors)
    try:
        rules = parse_rule_seeds(
            documents["indicators.yaml"], documents["thresholds.yaml"], documents["codes.yaml"]
        )
    except SeedErrors as exc:
        errors.extend(exc.errors)
    if errors or rules is None:
        raise SeedErrors(errors)
    return states, rules


def load_seed_set(seeds_dir: Path) -> SeedSet:
    """Read every seed file; raise SeedErrors listing every problem in every file."""
    documents = read_documents(seeds_dir, SEED_FILES)  # every missing or broken file at once
    states, rules = load_rules(seeds_dir)
    services = services_from_document(documents["services.yaml"], rules, {s.code for s in states})
    report = load_report(seeds_dir / REPORT_FILE)
    from referral.supervision.recommendations import load_recommendations

    load_recommendations(seeds_dir, report, rules)  # gap reason -> recommendation, checked
    return SeedSet(states=states, rules=rules, services=services, report=report)


def services_from_document(document: Any, rules: RuleSeeds, states: set[str]) -> list[Service]:
    if not isinstance(document, dict) or not isinstance(document.get("services"), list):
        raise SeedErrors(
            [SeedError("services.yaml", "", "services", "must be a list under 'services'")]
        )
    return parse_services(document["services"], rules, states, file="services.yaml")


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
