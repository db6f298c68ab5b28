"""route_case: one screening record against one catalogue -> the result of CONTRACT 2."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .catalogue import Catalogue, ConstraintGroup
from .contract import (
    AGGRAVATING_VULNERABILITIES,
    INDICATED_STATUSES,
    PUNITIVE_ENCOUNTERS,
    Alert,
    ExclusionReason,
    Form,
    GapReasonCode,
    MigrationStatus,
    Need,
    ScreeningStatus,
    ServiceTag,
    Why,
)
from .record import ScreeningRecord
from .result import NeedLine, Option, RaisedAlert, RoutingGap, RoutingResult, WhyItFits
from .screening import Screening
from .services import NATIONAL, Service


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
    if not record.speaks_spanish:
        needs.add(Need.interpretation)
    if status == ScreeningStatus.likely:
        needs.add(Need.victim_registration)
        if Form.forced_labor in screening.forms:
            needs.add(Need.labor_rights)
    return needs


def alert_codes(record: ScreeningRecord, screening: Screening, shelter_options: bool) -> set[str]:
    """The alerts of CONTRACT 2.4 that apply (unordered)."""
    status = screening.status
    indicated = status in INDICATED_STATUSES
    likely = status == ScreeningStatus.likely
    foreign = record.foreign
    punitive = record.encounter in PUNITIVE_ENCOUNTERS
    migration = record.migration_status
    codes: set[str] = set()
    if record.immediate_danger:
        codes.add(Alert.immediate_danger)
    if record.age is None and not record.clearly_adult:
        codes.add(Alert.presumed_minor)
    if screening.minor:
        codes.add(Alert.child_protection_notice)
    if indicated and (Form.forced_criminality in screening.forms or punitive):
        codes.add(Alert.non_punishment)
    if indicated and (foreign or punitive):
        codes.add(Alert.no_detention)
    if foreign and (indicated or screening.minor or migration == MigrationStatus.asylum_seeker):
        codes.add(Alert.humanitarian_visa)
    if foreign and indicated:
        codes.add(Alert.reflection_period)
    if migration in (MigrationStatus.asylum_seeker, MigrationStatus.refugee) or (
        foreign and indicated
    ):
        codes.add(Alert.non_refoulement)
    if likely and (record.cross_border or record.organized_crime or record.official_involvement):
        codes.add(Alert.federal_jurisdiction)
    if likely and (
        screening.minor or any(v in AGGRAVATING_VULNERABILITIES for v in record.vulnerabilities)
    ):
        codes.add(Alert.aggravating_vulnerability)
    if shelter_options:
        codes.add(Alert.voluntary_shelter)
    return codes


def eligibility_reasons(service: Service, record: ScreeningRecord) -> list[str]:
    """Every reason of CONTRACT 2.3 that excludes this service for this case, in table order."""
    reasons = ConstraintGroup.of(service).reasons(record, record.foreign)
    if NATIONAL not in service.coverage and record.state not in service.coverage:
        reasons = _with_coverage(reasons)
    return list(reasons)


def _with_coverage(reasons: tuple[str, ...]) -> tuple[str, ...]:
    if reasons[:1] == (ExclusionReason.inactive,):
        return (ExclusionReason.inactive, ExclusionReason.coverage, *reasons[1:])
    return (ExclusionReason.coverage, *reasons)


def route_case(
    record: ScreeningRecord, catalogue: Catalogue, *, include_excluded: bool = True
) -> RoutingResult:
    """Route one record; ``include_excluded=False`` is the fast decision path (no listing)."""
    screening = catalogue.screening_rules.screen(record)
    asked = set(record.needs)
    added = auto_needs(record, screening) - asked
    wanted = asked | added
    needs = [n for n in catalogue.need_order if n in wanted]

    foreign = record.foreign
    state = record.state
    form_set = set(screening.forms)
    options: dict[str, tuple[Option, ...]] = {}
    excluded: dict[str, Mapping[str, tuple[str, ...]]] = {}
    gaps: list[RoutingGap] = []
    for need in needs:
        table = catalogue.tables[need]
        group_reasons = [g.reasons(record, foreign) for g in table.groups]
        covered_by_group = table.covered.get(state, table.national_only)
        chosen: list[Service] = []
        for g, indices in covered_by_group.items():
            if not group_reasons[g]:
                chosen.extend(table.services[i] for i in indices)
        options[need] = _rank(chosen, record, form_set, screening.forms)
        covered = table.covered_sets.get(state, table.national_set)
        if include_excluded:
            with_cov = [_with_coverage(r) for r in group_reasons]
            excluded_need: dict[str, tuple[str, ...]] = {}
            for i, service in enumerate(table.services):
                g = table.group_of[i]
                if i not in covered:
                    excluded_need[service.id] = with_cov[g]
                elif group_reasons[g]:
                    excluded_need[service.id] = group_reasons[g]
            excluded[need] = MappingProxyType(excluded_need)
        if not options[need]:
            if not table.services:
                reasons: tuple[str, ...] = (GapReasonCode.none_listed,)
            else:
                union = {r for rs in group_reasons for r in rs}
                if len(covered) < len(table.services):
                    union.add(ExclusionReason.coverage)
                reasons = tuple(sorted(union))
            gaps.append(RoutingGap(need, reasons))

    alert_set = alert_codes(record, screening, bool(options.get(Need.shelter)))
    return RoutingResult(
        screening=screening,
        needs=tuple(NeedLine(n, n in added) for n in needs),
        options=MappingProxyType(options),
        excluded=MappingProxyType(excluded) if include_excluded else None,
        gaps=tuple(gaps),
        alerts=tuple(RaisedAlert(code) for code in catalogue.alert_order if code in alert_set),
        rules_version=catalogue.rules_version,
        catalogue=catalogue,
    )


def _rank(
    services: list[Service], record: ScreeningRecord, form_set: set[str], forms: tuple[str, ...]
) -> tuple[Option, ...]:
    """Order eligible services as CONTRACT 2.3 says and keep why each fits."""
    state = record.state
    languages = record.languages
    keyed = []
    for s in services:
        local = state in s.coverage
        specialized = not form_set.isdisjoint(s.specializations)
        shared = any(x in s.languages for x in languages)
        capacity = s.capacity_available
        keyed.append(
            (
                (
                    not local,
                    not specialized,
                    not shared,
                    capacity is None,
                    -(capacity or 0),
                    s.id,
                ),
                s,
                local,
            )
        )
    keyed.sort(key=lambda item: item[0])
    foreign = record.foreign
    companions = bool(record.companions)
    out = []
    for rank, (_, s, local) in enumerate(keyed, start=1):
        why = [WhyItFits(Why.serves_state, state) if local else _NATIONALLY]
        why.extend(WhyItFits(Why.specialized_in, f) for f in forms if f in s.specializations)
        shared_language = next((x for x in languages if x in s.languages), None)
        if shared_language is not None:
            why.append(WhyItFits(Why.speaks_language, shared_language))
        if s.capacity_available:
            why.append(WhyItFits(Why.free_places, s.capacity_available))
        if foreign and s.accepts_foreign:
            why.append(_ACCEPTS_FOREIGN)
        if companions and s.need == Need.shelter:
            why.append(_ACCEPTS_COMPANIONS)
        if ServiceTag.trafficking_specialized in s.tags:
            why.append(_SPECIALIZED)
        out.append(Option(s.id, rank, tuple(why)))
    return tuple(out)


_NATIONALLY = WhyItFits(Why.serves_nationally)
_ACCEPTS_FOREIGN = WhyItFits(Why.accepts_foreign)
_ACCEPTS_COMPANIONS = WhyItFits(Why.accepts_companions)
_SPECIALIZED = WhyItFits(Why.trafficking_specialized)
