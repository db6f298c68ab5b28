"""Every seed file, read once from inside the package and validated: one SeedStore.

The seed files live in ``referral/seeds/data/`` (the top-level ``seeds/`` is a link to it)
and are read with importlib.resources, so an installed wheel has them; ``SEEDS_DIR`` points
the app at another directory (tests use broken copies). Each file is parsed once per seeds
directory, with libyaml where it is installed; every reader in the app asks the store.

Validation refuses the whole seed set and names the file, the entry and the field of
every problem it finds. The directory writes the rows (``directory.operations.apply_seeds``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

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
from referral.seeds.demo import DEMO_FILE, parse_demo
from referral.seeds.recommendations import FILE as RECOMMENDATIONS_FILE
from referral.seeds.recommendations import Recommendation, parse_recommendations
from referral.seeds.regions import REGIONS_FILE, Regions, parse_regions
from referral.seeds.report import Paragraph, split_report

SEED_FILES = ("states.yaml", "indicators.yaml", "thresholds.yaml", "codes.yaml", "services.yaml")
YAML_FILES = (*SEED_FILES, RECOMMENDATIONS_FILE, REGIONS_FILE, DEMO_FILE)
REPORT_FILE = "report.txt"

# libyaml parses the seeds about ten times faster than the pure-Python loader, same result.
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

T = TypeVar("T")


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


def read_text(root: Traversable, name: str) -> str:
    try:
        return root.joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SeedErrors([SeedError(name, "", "", "file is missing")]) from None


def read_yaml(root: Traversable, name: str) -> Any:
    text = read_text(root, name)
    try:
        return yaml.load(text, Loader=SafeLoader)  # noqa: S506  (a safe loader, C or Python)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        raise SeedErrors([SeedError(name, where, "", f"not valid YAML: {exc}")]) from None


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


def services_from_document(document: Any, rules: RuleSeeds, states: set[str]) -> list[Service]:
    if not isinstance(document, dict) or not isinstance(document.get("services"), list):
        raise SeedErrors(
            [SeedError("services.yaml", "", "services", "must be a list under 'services'")]
        )
    return parse_services(document["services"], rules, states, file="services.yaml")


class SeedStore:
    """The seed files of one directory, each read and validated once, on first use.

    A part that fails validation raises SeedErrors and is read again next time; a part
    that loads is kept for the life of the process (seed files do not change under a
    running app: `flask seed` and a restart pick up an edit).
    """

    def __init__(self, root: Traversable) -> None:
        self.root = root
        self._lock = threading.RLock()
        self._loaded: dict[str, Any] = {}

    def _once(self, key: str, load: Callable[[], T]) -> T:
        try:
            return self._loaded[key]
        except KeyError:
            pass
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = load()
            return self._loaded[key]

    def document(self, name: str) -> Any:
        """One YAML file, parsed."""
        return self._once(name, lambda: read_yaml(self.root, name))

    def documents(self, names: tuple[str, ...]) -> dict[str, Any]:
        """Several files at once: SeedErrors names every missing or broken one."""
        errors: list[SeedError] = []
        documents: dict[str, Any] = {}
        for name in names:
            try:
                documents[name] = self.document(name)
            except SeedErrors as exc:
                errors.extend(exc.errors)
        if errors:
            raise SeedErrors(errors)
        return documents

    def _states_and_rules(self) -> tuple[list[StateSeed], RuleSeeds]:
        documents = self.documents(SEED_FILES[:4])
        errors: list[SeedError] = []
        states: list[StateSeed] = []
        rules: RuleSeeds | None = None
        try:
            states = self._once("states", lambda: parse_states(documents["states.yaml"]))
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

    @property
    def states(self) -> list[StateSeed]:
        """The 32 states (states.yaml)."""
        return self._once("states", lambda: parse_states(self.document("states.yaml")))

    @property
    def rules(self) -> RuleSeeds:
        """Indicators, thresholds and code lists, checked together with the states."""
        return self._once("rules", self._states_and_rules)[1]

    @property
    def services(self) -> list[Service]:
        """The seed directory (services.yaml), checked against the rules and the states."""
        return self._once(
            "services",
            lambda: services_from_document(
                self.document("services.yaml"), self.rules, {s.code for s in self.states}
            ),
        )

    @property
    def report(self) -> dict[str, Paragraph]:
        """The source report by paragraph id (report.txt)."""
        return self._once(
            "report", lambda: {p.id: p for p in split_report(read_text(self.root, REPORT_FILE))}
        )

    @property
    def recommendations(self) -> dict[str, Recommendation]:
        """Gap reason -> the report's recommendation it bears on."""
        return self._once(
            "recommendations",
            lambda: parse_recommendations(
                self.document(RECOMMENDATIONS_FILE), self.report, self.rules
            ),
        )

    @property
    def regions(self) -> Regions:
        """States and nationalities grouped into regions for the statistics microdata."""

        def load() -> Regions:
            # Only the nationality codes are needed, not the whole rule seeds.
            codes = self.document("codes.yaml")
            listed = codes.get("nationalities") if isinstance(codes, dict) else None
            nationalities = {
                str(entry["code"])
                for entry in listed or ()
                if isinstance(entry, dict) and "code" in entry
            }
            states = {s.code for s in self.states}
            return parse_regions(self.document(REGIONS_FILE), states, nationalities)

        return self._once("regions", load)

    @property
    def demo(self) -> dict[str, Any]:
        """The proportions of generated demo data (demo.yaml)."""
        return self._once("demo", lambda: parse_demo(self.document(DEMO_FILE)))

    def seed_set(self) -> SeedSet:
        """Every seed file, validated; SeedErrors lists every problem in every file."""
        # Every missing or broken file at once, then every part that needs the rules.
        _all_problems(lambda: self.documents(YAML_FILES), lambda: self.report)
        states, rules = self._once("rules", self._states_and_rules)
        _all_problems(
            lambda: self.services,
            lambda: self.recommendations,
            lambda: self.regions,
            lambda: self.demo,
        )
        return SeedSet(states=states, rules=rules, services=self.services, report=self.report)


def _all_problems(*loads: Callable[[], object]) -> None:
    """Run every load; raise one SeedErrors with the problems of all of them."""
    errors: list[SeedError] = []
    for load in loads:
        try:
            load()
        except SeedErrors as exc:
            errors.extend(exc.errors)
    if errors:
        raise SeedErrors(errors)


def packaged_seeds() -> Traversable:
    """The seed files shipped inside the package."""
    return resources.files("referral.seeds").joinpath("data")


_stores: dict[str, SeedStore] = {}
_stores_lock = threading.Lock()


def seed_store(seeds_dir: str | os.PathLike[str] | None = None) -> SeedStore:
    """The shared store of a seeds directory (None or "": the seeds inside the package)."""
    root = Path(seeds_dir) if seeds_dir else packaged_seeds()
    key = os.path.realpath(root) if isinstance(root, Path) else str(root)
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = SeedStore(root)
        return store


def load_seed_set(seeds_dir: Path) -> SeedSet:
    """Read a seeds directory afresh, bypassing the shared stores (tools, tests of broken files)."""
    return SeedStore(seeds_dir).seed_set()
