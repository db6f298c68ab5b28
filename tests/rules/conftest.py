"""Fixtures of the rules core: the real seeds from seeds/, and small hand-made directories."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from rules_helpers import record_data

from referral.rules import (
    Catalogue,
    CodeLists,
    RuleSeeds,
    ScreeningRecord,
    Service,
    build_catalogue,
    parse_rule_seeds,
    parse_services,
    validate_record,
)
from referral.seeds.languages import iso639_table

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def load_yaml(name: str) -> Any:
    with (SEEDS / name).open(encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="session")
def rule_docs() -> dict[str, Any]:
    return {name: load_yaml(f"{name}.yaml") for name in ("indicators", "thresholds", "codes")}


@pytest.fixture(scope="session")
def seeds(rule_docs: dict[str, Any]) -> RuleSeeds:
    return parse_rule_seeds(rule_docs["indicators"], rule_docs["thresholds"], rule_docs["codes"])


@pytest.fixture(scope="session")
def state_names() -> dict[str, dict[str, str]]:
    return {s["code"]: s["name"] for s in load_yaml("states.yaml")["states"]}


@pytest.fixture(scope="session")
def codes(seeds: RuleSeeds, state_names: dict[str, dict[str, str]]) -> CodeLists:
    return seeds.code_lists(set(state_names))


@pytest.fixture(scope="session")
def seeded_services(seeds: RuleSeeds, state_names: dict[str, dict[str, str]]) -> list[Service]:
    return parse_services(load_yaml("services.yaml"), seeds, set(state_names))


@pytest.fixture(scope="session")
def seeded_catalogue(
    seeds: RuleSeeds, seeded_services: list[Service], state_names: dict[str, dict[str, str]]
) -> Catalogue:
    return build_catalogue(
        seeds,
        seeded_services,
        directory_version="seeds",
        state_names=state_names,
        languages=iso639_table(),
    )


@pytest.fixture(scope="session")
def make_record(codes: CodeLists) -> Callable[..., ScreeningRecord]:
    def make(**overrides: Any) -> ScreeningRecord:
        return validate_record(record_data(**overrides), codes)

    return make


@pytest.fixture(scope="session")
def make_catalogue(
    seeds: RuleSeeds, state_names: dict[str, dict[str, str]]
) -> Callable[..., Catalogue]:
    def make(*entries: dict[str, Any], version: str = "test") -> Catalogue:
        services = parse_services(list(entries), seeds, set(state_names))
        return build_catalogue(
            seeds,
            services,
            directory_version=version,
            state_names=state_names,
            languages=iso639_table(),
        )

    return make
