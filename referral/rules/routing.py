"""route_case: one screening record against one catalogue -> the result of CONTRACT 2."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .catalogue import (
    BARE_LANGUAGES,
    CaseFacts,
    Catalogue,
    ConstraintGroup,
    LanguageTable,
    NeedTable,
)
from .contract import (
    AGGRAVATING_VULNERABILITIES,
    INDICATED_STATUSES,
    PUNITIVE_ENCOUNTERS,
    Alert,
    AlertCondition,
    ExclusionReason,
    Form,
    GapReasonCode,
    MigrationStatus,
    Need,
    ScreeningStatus,
    ServiceTag,
    Vulnerability,
    Why,
)
from .record import ScreeningRecord
from .result import NeedLine, Option, RaisedAlert, RoutingGap, RoutingResult, WhyItFits
from .screening import Screening
from .services import NATIONAL, Service

UNKNOWN_STATE = "unknown"


def auto_needs(record: ScreeningRecord, screening: Screening) -> set[str]:
    """The needs CONTRACT 2.2 adds by rule."""
    status = screening.status
    indicated = status in INDICATED_STATUSES
    needs: set[str] = set()
    if screening.minor:
        needs.add(Need.child_protection)
    if record.foreign and indicated and record.migration_status != MigrationStatus.regular:
        needs.add(Need.immigration)
    if record.migration_status == MigrationStatus.asylum_seeker:
        needs.add(Need.asylum)
    if record.immediate_danger:
        needs.add(Need.protection)
    # LGPSEDMTP Art. 90 I: an Indigenous person who lists another language has an interpreter.
    if not record.speaks_spanish or (
        Vulnerability.indigenous in record.vulnerabilities and record.other_languages
    ):
        needs.add(Need.interpretation)
    if status == ScreeningStatus.likely:
        needs.add(Need.victim_registration)
    if indicated and Form.forced_labor in screening.forms:
        needs.add(Need.labor_rights)
    return needs


def alert_codes(
    record: ScreeningRecord, screening: Screening, shelter_options: bool
) -> dict[str, str | None]:
    """The alerts of CONTRACT 2.4 that apply (unordered), each with its condition or None."""
    status = screening.status
    indicated = status in INDICATED_STATUSES
    likely = status == ScreeningStatus.likely
    foreign = record.foreign
    maybe_foreign = record.possibly_foreign
    punitive = record.encounter in PUNITIVE_ENCOUNTERS
    migration = record.migration_status
    codes: dict[str, str | None] = {}
    if record.immediate_danger:
        codes[Alert.immediate_danger] = None
    if record.age is None and not record.clearly_adult:
        codes[Alert.presumed_minor] = None
    if screening.minor:
        codes[Alert.child_protection_notice] = None
    if indicated and (Form.forced_criminality in screening.forms or punitive):
        codes[Alert.non_punishment] = None
    if indicated and (foreign or punitive):
        codes[Alert.no_detention] = None
    # The foreign victims' protections: unconditional for a foreign person, conditional
    # ("if the person is not Mexican") for a possibly foreign one.
    if_foreign = None if foreign else AlertCondition.if_foreign
    if (foreign or maybe_foreign) and (
        indicated or screening.minor or migration == MigrationStatus.asylum_seeker
    ):
        codes[Alert.humanitarian_visa] = if_foreign
    if (foreign or maybe_foreign) and indicated:
        codes[Alert.reflection_period] = if_foreign
    if migration in (MigrationStatus.asylum_seeker, MigrationStatus.refugee):
        codes[Alert.non_refoulement] = None
    elif (foreign or maybe_foreign) and indicated:
        codes[Alert.non_refoulement] = if_foreign
    if indicated and (record.cross_border or record.organized_crime or record.official_involvement):
        codes[Alert.federal_jurisdiction] = None
    if likely and (
        screening.minor or any(v in AGGRAVATING_VULNERABILITIES for v in record.vulnerabilities)
    ):
        codes[Alert.aggravating_vulnerability] = None
    if shelter_options:
        codes[Alert.voluntary_shelter] = None
    return codes


def eligibility_reasons(
    service: Service, record: ScreeningRecord, languages: LanguageTable = BARE_LANGUAGES
) -> list[str]:
    """Every reason of CONTRACT 2.3 that excludes this service for this case, in table order."""
    case = CaseFacts.of(record, languages)
    reasons = ConstraintGroup.of(service, languages).reasons(case)
    if NATIONAL not in service.coverage and record.state not in service.coverage:
        reasons = _with_coverage(reasons, record.state == UNKNOWN_STATE)
    return list(reasons)


def confirm_items(
    service: Service, record: ScreeningRecord, languages: LanguageTable = BARE_LANGUAGES
) -> list[str]:
    """What the screener must confirm with this service before sending the person (2.3)."""
    case = CaseFacts.of(record, languages)
    return list(ConstraintGroup.of(service, languages).confirm(case))


def _with_coverage(reasons: tuple[str, ...], state_unknown: bool) -> tuple[str, ...]:
    where = ExclusionReason.state_unknown if state_unknown else ExclusionReason.coverage
    if reasons[:1] == (ExclusionReason.inactive,):
        return (ExclusionReason.inactive, where, *reasons[1:])
    return (where, *reasons)


def route_case(
    record: ScreeningRecord, catalogue: Catalogue, *, include_excluded: bool = True
) -> RoutingResult:
    """Route one record; ``include_excluded=False`` is the fast decision path (no listing)."""
    screening = catalogue.screening_rules.screen(record)
    asked = set(record.needs)
    added = auto_needs(record, screening) - asked
    wanted = asked | added
    needs = [n for n in catalogue.need_order if n in wanted]

    case = CaseFacts.of(record, catalogue.language_table)
    state = record.state
    state_unknown = state == UNKNOWN_STATE
    ranking = _Ranking(record, case, screening, catalogue.language_table)
    options: dict[str, tuple[Option, ...]] = {}
    excluded: dict[str, Mapping[str, tuple[str, ...]]] = {}
    gaps: list[RoutingGap] = []
    for need in needs:
        table = catalogue.tables[need]
        in_reach = table.covered.get(state, table.national_only)
        # The decision needs only the groups in reach; the listing needs every group.
        groups = range(len(table.groups)) if include_excluded else in_reach
        group_reasons = {g: table.groups[g].reasons(case) for g in groups}
        chosen: list[tuple[int, tuple[str, ...]]] = []
        for g, indices in in_reach.items():
            if not group_reasons[g]:
                confirm = table.groups[g].confirm(case)
                chosen.extend((i, confirm) for i in indices)
        options[need] = ranking.rank(table, chosen) if chosen else ()
        if include_excluded:
            excluded[need] = _listing(table, state, state_unknown, group_reasons)
        if not options[need]:
            gaps.append(
                RoutingGap(
                    need, _gap_reasons(table.services, in_reach, group_reasons, state_unknown)
                )
            )

    alert_map = alert_codes(record, screening, bool(options.get(Need.shelter)))
    return RoutingResult(
        screening=screening,
        needs=tuple(NeedLine(n, n in added) for n in needs),
        options=MappingProxyType(options),
        excluded=MappingProxyType(excluded) if include_excluded else None,
        gaps=tuple(gaps),
        alerts=tuple(
            RaisedAlert(code, alert_map[code])
            for code in catalogue.alert_order
            if code in alert_map
        ),
        rules_version=catalogue.rules_version,
        catalogue=catalogue,
    )


LISTINGS_KEPT = 4096  # combinations remembered per need (a bound on the memory they take)


def _listing(
    table: NeedTable,
    state: str,
    state_unknown: bool,
    group_reasons: Mapping[int, tuple[str, ...]],
) -> Mapping[str, tuple[str, ...]]:
    """Every excluded service of the need and its reasons, in the order of the services."""
    key = (state, tuple(group_reasons.values()))
    listing = table.listings.get(key)
    if listing is not None:
        return listing
    covered = table.covered_sets.get(state, table.national_set)
    # Many groups share one list of reasons: add the coverage reason once per list.
    seen: dict[tuple[str, ...], tuple[str, ...]] = {}
    with_cov = {
        g: seen.get(r) or seen.setdefault(r, _with_coverage(r, state_unknown))
        for g, r in group_reasons.items()
    }
    excluded_need: dict[str, tuple[str, ...]] = {}
    for i, service in enumerate(table.services):
        g = table.group_of[i]
        if i not in covered:
            excluded_need[service.id] = with_cov[g]
        elif group_reasons[g]:
            excluded_need[service.id] = group_reasons[g]
    listing = MappingProxyType(excluded_need)
    if len(table.listings) >= LISTINGS_KEPT:
        table.listings.clear()
    table.listings[key] = listing
    return listing


def _gap_reasons(
    services: tuple[Service, ...],
    in_reach: Mapping[int, tuple[int, ...]],
    group_reasons: Mapping[int, tuple[str, ...]],
    state_unknown: bool,
) -> tuple[str, ...]:
    """What is decisive where the person is (CONTRACT 2.3): never coverage when a service
    of the need is in reach (national, or covering the case's state)."""
    if not services:
        return (GapReasonCode.none_listed,)
    if in_reach:
        return tuple(sorted({r for g in in_reach for r in group_reasons[g]}))
    return (ExclusionReason.state_unknown if state_unknown else ExclusionReason.coverage,)


class _Ranking:
    """The order of CONTRACT 2.3 for one case, and why each option fits."""

    def __init__(
        self,
        record: ScreeningRecord,
        case: CaseFacts,
        screening: Screening,
        languages: LanguageTable,
    ) -> None:
        self.record = record
        self.case = case
        self.indicated = screening.status in INDICATED_STATUSES
        self.forms = screening.forms
        self.form_set = frozenset(screening.forms)
        self.language_table = languages
        # What an option's "why" takes from the case, made once per case, not per option.
        self.serves_state = WhyItFits(_SERVES_STATE, record.state)
        self.form_whys = tuple((f, WhyItFits(_SPECIALIZED_IN, f)) for f in screening.forms)
        self.language_whys = tuple(
            (languages.canonical(x), WhyItFits(_SPEAKS_LANGUAGE, x)) for x in record.languages
        )
        self.tail_key = (case.foreign, bool(record.companions))

    def key(
        self, s: Service, confirm: tuple[str, ...], languages: frozenset[str]
    ) -> tuple[bool, bool, bool, bool, bool, bool, int, str]:
        """The sort key: smaller is better; the id last makes it a total order."""
        capacity = s.capacity_available
        return (
            self.indicated and _TRAFFICKING_SPECIALIZED not in s.tags,
            self.form_set.isdisjoint(s.specializations),
            self.record.state not in s.coverage,
            bool(confirm),
            self.case.languages.isdisjoint(languages),
            capacity is None,
            -(capacity or 0),
            s.id,
        )

    def rank(
        self, table: NeedTable, chosen: list[tuple[int, tuple[str, ...]]]
    ) -> tuple[Option, ...]:
        """The options (services of ``table``, by index, with what to confirm) in order."""
        services, languages = table.services, table.languages
        keyed = [
            (self.key(services[i], confirm, languages[i]), i, confirm) for i, confirm in chosen
        ]
        keyed.sort(key=lambda item: item[0])
        return tuple(
            Option(services[i].id, rank, self._why(table, i), confirm)
            for rank, (_, i, confirm) in enumerate(keyed, start=1)
        )

    def _why(self, table: NeedTable, i: int) -> tuple[WhyItFits, ...]:
        s = table.services[i]
        why = [self.serves_state if self.record.state in s.coverage else _NATIONALLY]
        if self.form_whys:
            specializations = s.specializations
            why.extend(w for f, w in self.form_whys if f in specializations)
        languages = table.languages[i]
        for canonical, speaks in self.language_whys:
            if canonical in languages:
                why.append(speaks)
                break
        # The rest depends on the service and two facts of the case: kept on the need's table.
        key = (i, *self.tail_key)
        tail = table.whys.get(key)
        if tail is None:
            tail = table.whys[key] = _why_tail(s, *self.tail_key)
        return (*why, *tail)


def _why_tail(s: Service, foreign: bool, companions: bool) -> tuple[WhyItFits, ...]:
    """The end of an option's "why": free places, foreign people, companions, specialization."""
    tail = []
    if s.capacity_available:
        tail.append(WhyItFits(_FREE_PLACES, s.capacity_available))
    if foreign and s.accepts_foreign:
        tail.append(_ACCEPTS_FOREIGN)
    if companions and s.need == _SHELTER:
        tail.append(_ACCEPTS_COMPANIONS)
    if _TRAFFICKING_SPECIALIZED in s.tags:
        tail.append(_SPECIALIZED)
    return tuple(tail)


# Enum members as plain constants: looking a member up on its class costs ten times a global
# lookup on Python 3.11, and these are read for every option of every record.
_TRAFFICKING_SPECIALIZED = ServiceTag.trafficking_specialized
_SERVES_STATE = Why.serves_state
_SPECIALIZED_IN = Why.specialized_in
_SPEAKS_LANGUAGE = Why.speaks_language
_FREE_PLACES = Why.free_places
_SHELTER = Need.shelter
_NATIONALLY = WhyItFits(Why.serves_nationally)
_ACCEPTS_FOREIGN = WhyItFits(Why.accepts_foreign)
_ACCEPTS_COMPANIONS = WhyItFits(Why.accepts_companions)
_SPECIALIZED = WhyItFits(Why.trafficking_specialized)
