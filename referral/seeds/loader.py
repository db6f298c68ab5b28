"""Read and validate every seed file; write states and services to the database.

Validation refuses the whole seed set and names the file, the entry and the field of
every problem it finds. Loading is idempotent: running it twice leaves the same rows.
A service an admin has edited in the app is never overwritten; it is reported instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from referral.rules import (
    RuleSeeds,
    SeedError,
    SeedErrors,
    Service,
    parse_rule_seeds,
    parse_services,
)
from referral.seeds.recommendations import load_recommendations
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
    load_recommendations(seeds_dir, report, rules)  # gap reason -> recommendation, checked
    return SeedSet(states=states, rules=rules, services=services, report=report)


def services_from_document(document: Any, rules: RuleSeeds, states: set[str]) -> list[Service]:
    if not isinstance(document, dict) or not isinstance(document.get("services"), list):
        raise SeedErrors(
            [SeedError("services.yaml", "", "services", "must be a list under 'services'")]
        )
    return parse_services(document["services"], rules, states, file="services.yaml")
