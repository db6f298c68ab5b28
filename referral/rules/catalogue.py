"""The loaded catalogue: rule seeds plus one directory version, precomputed for routing.

Services of one need that share every eligibility constraint but coverage form one
constraint group; routing evaluates each group once per case and looks coverage up by
state, so its cost grows with the number of distinct groups, not of services.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .contract import (
    CONTRACT_VERSION,
    SERVICE_SEXES,
    Confirm,
    ExclusionReason,
    MigrationStatus,
    Need,
    ServiceStatus,
    ServiceTag,
    Sex,
    Why,
)
from .record import ScreeningRecord
from .schema import LANGS, Texts
from .screening import ScreeningRules
from .seeds import CodeLists, Indicator, RuleSeeds, seeds_digest
from .services import NATIONAL, Service

ALL_SEXES = frozenset(SERVICE_SEXES)
UNKNOWN_NATIONALITY = "ZZ"
PROTECTED_STATUSES = frozenset({MigrationStatus.asylum_seeker, MigrationStatus.refugee})


SPANISH = "spa"  # ISO 639-3


@dataclass(frozen=True)
class LanguageTable:
    """ISO 639 codes mapped to their ISO 639-3 code (CONTRACT 1, "same language").

    Built outside the rules core from a maintained ISO 639 library and passed in as data; a
    code not in the table equals only itself, and macrolanguages are not expanded.
    """

    to_639_3: Mapping[str, str]

    def canonical(self, code: str) -> str:
        return self.to_639_3.get(code, code)

    def of(self, codes: Iterable[str]) -> frozenset[str]:
        return frozenset(self.to_639_3.get(c, c) for c in codes)


# Without a table, only the two spellings of Spanish the record itself knows are joined.
BARE_LANGUAGES = LanguageTable(MappingProxyType({"es": SPANISH}))


@dataclass(frozen=True)
class CaseFacts:
    """What eligibility and ranking read of one record, derived once per case."""

    record: ScreeningRecord
    foreign: bool
    possibly_foreign: bool
    languages: frozenset[str]  # ISO 639-3 where known
    other_languages: frozenset[str]  # the person's languages other than Spanish

    @classmethod
    def of(cls, r: ScreeningRecord, table: LanguageTable) -> CaseFacts:
        languages = table.of(r.languages)
        return cls(
            record=r,
            foreign=r.foreign,
            possibly_foreign=r.possibly_foreign,
            languages=languages,
            other_languages=languages - {SPANISH},
        )


# Enum members as plain constants: a class lookup of a member costs ten times a global
# lookup on Python 3.11, and these are read for every constraint group of every record.
_CONFIRM_AGE = Confirm.age
_CONFIRM_COMPANIONS = Confirm.companions
_CONFIRM_NATIONALITY = Confirm.nationality
_CONFIRM_SEX = Confirm.sex
_EXCLUDED_AGE = ExclusionReason.age
_EXCLUDED_CAPACITY = ExclusionReason.capacity
_EXCLUDED_COMPANIONS = ExclusionReason.companions
_EXCLUDED_COMPLAINT_REQUIRED = ExclusionReason.complaint_required
_EXCLUDED_INACTIVE = ExclusionReason.inactive
_EXCLUDED_LANGUAGE = ExclusionReason.language
_EXCLUDED_NATIONALITY = ExclusionReason.nationality
_EXCLUDED_SEX = ExclusionReason.sex
_EXCLUDED_VICTIM_STATUS_REQUIRED = ExclusionReason.victim_status_required
_SEX_MALE = Sex.male
_SEX_UNKNOWN = Sex.unknown


@dataclass(frozen=True)
class ConstraintGroup:
    """Every eligibility constraint of a service except coverage (CONTRACT 2.3)."""

    active: bool
    min_age: int | None
    max_age: int | None
    sexes: frozenset[str]
    male_max_age: int | None
    accepts_foreign: bool
    nationalities: frozenset[str] | None
    country_of_origin: bool
    languages: frozenset[str] | None  # ISO 639-3, only for the interpretation need
    no_capacity: bool
    requires_complaint: bool
    requires_victim_status: bool
    companions: tuple[bool, int | None] | None  # only for the shelter need

    @classmethod
    def of(cls, s: Service, table: LanguageTable = BARE_LANGUAGES) -> ConstraintGroup:
        return cls(
            active=s.status == ServiceStatus.active,
            min_age=s.min_age,
            max_age=s.max_age,
            sexes=frozenset(s.sexes),
            male_max_age=s.male_max_age,
            accepts_foreign=s.accepts_foreign,
            nationalities=frozenset(s.nationalities) if s.nationalities is not None else None,
            country_of_origin=ServiceTag.country_of_origin in s.tags,
            languages=table.of(s.languages) if s.need == Need.interpretation else None,
            no_capacity=s.capacity_available == 0,
            requires_complaint=s.requires_complaint,
            requires_victim_status=s.requires_victim_status,
            companions=(
                (s.accepts_companions, s.companion_max_age_male) if s.need == Need.shelter else None
            ),
        )

    def reasons(self, case: CaseFacts) -> tuple[str, ...]:
        """The reasons of 2.3 other than coverage and state_unknown, in the order of the table."""
        r = case.record
        out: list[str] = []
        if not self.active:
            out.append(_EXCLUDED_INACTIVE)
        age = r.age
        if age is not None:
            if (self.min_age is not None and age < self.min_age) or (
                self.max_age is not None and age > self.max_age
            ):
                out.append(_EXCLUDED_AGE)
        elif not r.clearly_adult:
            if self.min_age is not None and self.min_age >= 18:
                out.append(_EXCLUDED_AGE)
        elif self.max_age is not None and self.max_age < 18:
            out.append(_EXCLUDED_AGE)
        # An unknown sex is confirmed with the service, never a reason to exclude (v4).
        if r.sex != _SEX_UNKNOWN and (
            r.sex not in self.sexes
            or (
                r.sex == _SEX_MALE
                and self.male_max_age is not None
                and (
                    (age is not None and age > self.male_max_age)
                    or (age is None and r.clearly_adult)
                )
            )
        ):
            out.append(_EXCLUDED_SEX)
        if self._refuses_nationality(case):
            out.append(_EXCLUDED_NATIONALITY)
        if (
            self.languages is not None
            and case.other_languages
            and self.languages.isdisjoint(case.other_languages)
        ):
            out.append(_EXCLUDED_LANGUAGE)
        if self.no_capacity:
            out.append(_EXCLUDED_CAPACITY)
        if self.requires_complaint and not r.complaint_filed:
            out.append(_EXCLUDED_COMPLAINT_REQUIRED)
        if self.requires_victim_status and not r.victim_status:
            out.append(_EXCLUDED_VICTIM_STATUS_REQUIRED)
        if self.companions is not None and r.companions:
            accepts, max_male = self.companions
            if not accepts or (
                max_male is not None
                and any(c.sex == _SEX_MALE and c.age > max_male for c in r.companions)
            ):
                out.append(_EXCLUDED_COMPANIONS)
        return tuple(out)

    def _refuses_nationality(self, case: CaseFacts) -> bool:
        r = case.record
        if self.nationalities is None:
            refused = case.foreign and not self.accepts_foreign
        else:
            refused = (
                r.nationality != UNKNOWN_NATIONALITY and r.nationality not in self.nationalities
            )
        # A consulate is never for a national, an asylum seeker or a refugee (Ley de Migración
        # Art. 112 V); a possibly foreign person is routed as not foreign.
        return refused or (
            self.country_of_origin
            and (not case.foreign or r.migration_status in PROTECTED_STATUSES)
        )

    def confirm(self, case: CaseFacts) -> tuple[str, ...]:
        """What the record leaves open about this service (CONTRACT 2.3 ``confirm``), in order."""
        r = case.record
        out: list[str] = []
        if r.age is None:
            low, high = (18, 120) if r.clearly_adult else (0, 17)
            if (
                (self.min_age is not None and low < self.min_age)
                or (self.max_age is not None and high > self.max_age)
                or (
                    r.sex == _SEX_MALE
                    and self.male_max_age is not None
                    and high > self.male_max_age
                )
            ):
                out.append(_CONFIRM_AGE)
        if r.sex == _SEX_UNKNOWN and not (self.sexes >= ALL_SEXES and self.male_max_age is None):
            out.append(_CONFIRM_SEX)
        if self.companions is not None:
            max_male = self.companions[1]
            if max_male is not None and any(
                c.sex == _SEX_UNKNOWN and c.age > max_male for c in r.companions
            ):
                out.append(_CONFIRM_COMPANIONS)
        if (self.nationalities is not None and r.nationality == UNKNOWN_NATIONALITY) or (
            self.nationalities is None and case.possibly_foreign and not self.accepts_foreign
        ):
            out.append(_CONFIRM_NATIONALITY)
        return tuple(out)


@dataclass(frozen=True)
class NeedTable:
    need: str
    services: tuple[Service, ...]  # sorted by id, defunct ones left out
    languages: tuple[frozenset[str], ...]  # per service, as ISO 639-3 where known
    group_of: tuple[int, ...]  # per service
    groups: tuple[ConstraintGroup, ...]
    # state -> group -> services (indices) whose coverage holds the state or "national"
    covered: Mapping[str, Mapping[int, tuple[int, ...]]]
    covered_sets: Mapping[str, frozenset[int]]
    national_only: Mapping[int, tuple[int, ...]]  # for states outside the catalogue
    national_set: frozenset[int]
    # (state, every group's reasons) -> the need's `excluded` listing: many cases share one
    # combination, so the listing is built once per combination, not service by service.
    listings: dict[tuple[Any, ...], Mapping[str, tuple[str, ...]]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )
    # (service index, foreign, companions) -> the end of that option's "why" (at most four
    # per service): what it says of free places, foreign people, companions, specialization.
    whys: dict[tuple[int, bool, bool], tuple[Any, ...]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )


class Catalogue:
    """Rule seeds and one directory version, immutable once built."""

    def __init__(
        self,
        seeds: RuleSeeds,
        services: list[Service],
        *,
        directory_version: str,
        state_names: dict[str, dict[str, str]],
        languages: LanguageTable = BARE_LANGUAGES,
    ) -> None:
        self.seeds = seeds
        self.seeds_digest = seeds_digest(seeds)
        self.directory_version = directory_version
        self.language_table = languages
        # Contract / rule seeds / directory: free places are not versioned (CONTRACT 2).
        self.rules_version = f"{CONTRACT_VERSION}/{self.seeds_digest}/{directory_version}"
        self.state_names: Mapping[str, Texts] = MappingProxyType(
            {code: dict(names) for code, names in state_names.items()}
        )
        self.services: tuple[Service, ...] = tuple(sorted(services, key=lambda s: s.id))
        self.services_by_id: Mapping[str, Service] = MappingProxyType(
            {s.id: s for s in self.services}
        )
        self.indicators: tuple[Indicator, ...] = seeds.indicators
        self.codes: CodeLists = seeds.code_lists(set(state_names))
        self.screening_rules = ScreeningRules(seeds)
        self.need_order: tuple[str, ...] = seeds.codes("needs")
        self.alert_order: tuple[str, ...] = seeds.codes("alerts")
        self._labels: dict[str, dict[str, Texts]] = {
            name: {e.code: e.label for e in entries} for name, entries in seeds.lists.items()
        }
        self._labels["indicators"] = {i.code: i.label for i in seeds.indicators}
        self._labels["states"] = {
            **self._labels.get("state_values", {}),
            **self.state_names,
        }
        self._extras: dict[str, dict[str, Mapping[str, Any]]] = {
            name: {e.code: e.extra for e in entries} for name, entries in seeds.lists.items()
        }
        # code -> (source, text, text when it holds only if the person is foreign)
        self.alerts: Mapping[str, tuple[Texts, Texts, Texts | None]] = MappingProxyType(
            {
                e.code: (e.extra["source"], e.extra["text"], e.extra.get("if_foreign_text"))
                for e in seeds.lists["alerts"]
            }
        )
        self.why_templates = seeds.why
        self._why_cache: dict[tuple[str, str, object], str] = {}
        # The JSON text of `excluded` listings and alerts already written (RoutingResult.dumps).
        self.json_texts: dict[tuple[Any, ...], tuple[Any, str]] = {}
        self._code_lists: dict[str, dict[str, list[dict[str, str]]]] = {}
        self.tables: Mapping[str, NeedTable] = MappingProxyType(self._build_tables())

    def _build_tables(self) -> dict[str, NeedTable]:
        states = [*self.state_names, "unknown"]
        tables: dict[str, NeedTable] = {}
        for need in self.need_order:
            # A defunct service takes no part in routing (CONTRACT 2.3).
            services = tuple(
                s for s in self.services if s.need == need and s.status != ServiceStatus.defunct
            )
            group_index: dict[ConstraintGroup, int] = {}
            group_of = tuple(
                group_index.setdefault(ConstraintGroup.of(s, self.language_table), len(group_index))
                for s in services
            )
            national = [i for i, s in enumerate(services) if NATIONAL in s.coverage]
            by_state: dict[str, list[int]] = {}
            for i, s in enumerate(services):
                for state in s.coverage:
                    if state != NATIONAL:
                        by_state.setdefault(state, []).append(i)

            def grouped(indices: list[int], group_of: tuple[int, ...] = group_of) -> dict:
                out: dict[int, list[int]] = {}
                for i in sorted(set(indices)):
                    out.setdefault(group_of[i], []).append(i)
                return {g: tuple(v) for g, v in out.items()}

            covered = {st: grouped(national + by_state.get(st, [])) for st in states}
            tables[need] = NeedTable(
                need=need,
                services=services,
                languages=tuple(self.language_table.of(s.languages) for s in services),
                group_of=group_of,
                groups=tuple(group_index),
                covered=covered,
                covered_sets={st: frozenset(national + by_state.get(st, [])) for st in states},
                national_only=grouped(national),
                national_set=frozenset(national),
            )
        return tables

    # --- labels and texts -------------------------------------------------------------

    def label(self, list_name: str, code: str, lang: str) -> str:
        """The label of a code in lang; the code itself when the list has no label for it."""
        texts = self._labels.get(list_name, {}).get(code)
        return texts.get(lang) or texts["es"] if texts else code

    def code_lists(self, lang: str) -> dict[str, list[dict[str, str]]]:
        """Every code list with labels in ``lang`` (built once per language: read-only)."""
        cached = self._code_lists.get(lang)
        if cached is None:
            cached = self._code_lists[lang] = self._build_code_lists(lang)
        return cached

    def _build_code_lists(self, lang: str) -> dict[str, list[dict[str, str]]]:
        result: dict[str, list[dict[str, str]]] = {}
        for name, entries in self.seeds.lists.items():
            if name == "state_values":
                continue
            rows = []
            for e in entries:
                row = {"code": e.code, "label": e.label.get(lang) or e.label["es"]}
                for key, value in e.extra.items():
                    row[key] = value if isinstance(value, str) else value.get(lang, value["es"])
                rows.append(row)
            result[name] = rows
        result["indicators"] = [
            {
                "code": i.code,
                "label": i.text("label", lang),
                "dimension": i.dimension,
                "strength": i.strength,
                "question": i.text("question", lang),
                "marked_by": i.marked_by,
                "help": i.text("help", lang),
                "source": i.text("source", lang),
            }
            for i in self.indicators
        ]
        result["states"] = [
            {"code": code, "label": self.label("states", code, lang)}
            for code in [*self.state_names, *self._labels.get("state_values", {})]
        ]
        return result

    def gap_sentences(self, need: str, reasons: list[str], lang: str, state: str) -> list[str]:
        """Plain-language sentences for a gap's reasons ("Nothing fits because: ...")."""
        params = {
            "need": self.label("needs", need, lang),
            "state": self.label("states", state, lang),
        }
        out = []
        for reason in reasons:
            extra = self._extras.get("exclusion_reasons", {}).get(reason) or self._extras.get(
                "gap_reasons", {}
            ).get(reason, {})
            texts = extra.get("gap")
            out.append(texts[lang].format(**params) if texts else reason)
        return out

    def why(self, key: str, lang: str, value: object = None) -> str:
        cache_key = (key, lang, value)
        text = self._why_cache.get(cache_key)
        if text is None:
            template = self.why_templates[key][lang]
            if key == Why.serves_state:
                text = template.format(state=self.label("states", str(value), lang))
            elif key == Why.specialized_in:
                text = template.format(form=self.label("forms", str(value), lang))
            elif key == Why.speaks_language:
                text = template.format(language=self.label("languages", str(value), lang))
            elif key == Why.free_places:
                text = template.format(count=value)
            else:
                text = template
            if len(self._why_cache) < 100_000:
                self._why_cache[cache_key] = text
        return text


def build_catalogue(
    seeds: RuleSeeds,
    services: list[Service],
    *,
    directory_version: str,
    state_names: dict[str, dict[str, str]],
    languages: Mapping[str, str] | None = None,
) -> Catalogue:
    """``languages``: ISO 639-1 and 639-2/B codes -> ISO 639-3 (from a maintained table)."""
    for code, names in state_names.items():
        if any(not names.get(lang) for lang in LANGS):
            raise ValueError(f"state {code} needs a name in {LANGS}")
    table = BARE_LANGUAGES
    if languages is not None:
        table = LanguageTable(MappingProxyType({**languages, "es": SPANISH}))
    return Catalogue(
        seeds,
        services,
        directory_version=directory_version,
        state_names=state_names,
        languages=table,
    )
