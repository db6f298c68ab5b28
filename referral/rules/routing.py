"""route_case: one screening record against one catalogue -> the result of CONTRACT 2."""

from __future__ import annotations

from typing import Any

from .catalogue import Catalogue, ConstraintGroup
from .record import ScreeningRecord
from .screening import Screening
from .seeds import LANGS
from .services import Service

# CONTRACT 2.4: vulnerabilities that aggravate the offence (LGPSEDMTP Art. 42 VII and VIII).
AGGRAVATING_VULNERABILITIES = frozenset(
    {"pregnant", "disability", "indigenous", "afromexican", "over_60"}
)
# CONTRACT 2.4: encounters where a victim risks being punished or detained.
PUNITIVE_ENCOUNTERS = frozenset({"law_enforcement_operation", "arrest", "migration_detention"})


def auto_needs(record: ScreeningRecord, screening: Screening) -> set[str]:
    """The needs CONTRACT 2.2 adds by rule."""
    status = screening.status
    indicated = status in ("likely", "possible")
    needs: set[str] = set()
    if screening.minor:
        needs.add("child_protection")
    if record.foreign and indicated and record.migration_status != "regular":
        needs.add("immigration")
    if record.migration_status == "asylum_seeker":
        needs.add("asylum")
    if record.immediate_danger:
        needs.add("protection")
    if not record.speaks_spanish:
        needs.add("interpretation")
    if status == "likely":
        needs.add("victim_registration")
        if "forced_labor" in screening.forms:
            needs.add("labor_rights")
    return needs


def alert_codes(record: ScreeningRecord, screening: Screening, shelter_options: bool) -> set[str]:
    """The alerts of CONTRACT 2.4 that apply (unordered)."""
    status = screening.status
    indicated = status in ("likely", "possible")
    foreign = record.foreign
    punitive = record.encounter in PUNITIVE_ENCOUNTERS
    codes: set[str] = set()
    if record.immediate_danger:
        codes.add("immediate_danger")
    if record.age is None and not record.clearly_adult:
        codes.add("presumed_minor")
    if screening.minor:
        codes.add("child_protection_notice")
    if indicated and ("forced_criminality" in screening.forms or punitive):
        codes.add("non_punishment")
    if indicated and (foreign or punitive):
        codes.add("no_detention")
    if foreign and (indicated or screening.minor or record.migration_status == "asylum_seeker"):
        codes.add("humanitarian_visa")
    if foreign and indicated:
        codes.add("reflection_period")
    if record.migration_status in ("asylum_seeker", "refugee") or (foreign and indicated):
        codes.add("non_refoulement")
    if status == "likely" and (
        record.cross_border or record.organized_crime or record.official_involvement
    ):
        codes.add("federal_jurisdiction")
    if status == "likely" and (
        screening.minor or any(v in AGGRAVATING_VULNERABILITIES for v in record.vulnerabilities)
    ):
        codes.add("aggravating_vulnerability")
    if shelter_options:
        codes.add("voluntary_shelter")
    return codes


def eligibility_reasons(service: Service, record: ScreeningRecord) -> list[str]:
    """Every reason of CONTRACT 2.3 that excludes this service for this case, in table order."""
    reasons = list(ConstraintGroup.of(service).reasons(record, record.foreign))
    if "national" not in service.coverage and record.state not in service.coverage:
        reasons.insert(1 if reasons[:1] == ["inactive"] else 0, "coverage")
    return reasons


def _with_coverage(reasons: tuple[str, ...]) -> list[str]:
    if reasons[:1] == ("inactive",):
        return ["inactive", "coverage", *reasons[1:]]
    return ["coverage", *reasons]


def route_case(
    record: ScreeningRecord,
    catalogue: Catalogue,
    *,
    lang: str = "es",
    include_excluded: bool = True,
) -> dict[str, Any]:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    screening = catalogue.screening_rules.screen(record)
    asked = set(record.needs)
    added = auto_needs(record, screening) - asked
    wanted = asked | added
    needs = [n for n in catalogue.need_order if n in wanted]

    foreign = record.foreign
    state = record.state
    forms = screening.forms
    form_set = set(forms)
    options: dict[str, list[dict[str, Any]]] = {}
    excluded: dict[str, dict[str, list[str]]] = {}
    gaps: list[dict[str, Any]] = []
    for need in needs:
        table = catalogue.tables[need]
        group_reasons = [g.reasons(record, foreign) for g in table.groups]
        covered_by_group = table.covered.get(state, table.national_only)
        chosen: list[Service] = []
        for g, indices in covered_by_group.items():
            if not group_reasons[g]:
                chosen.extend(table.services[i] for i in indices)
        options[need] = _rank(chosen, record, catalogue, lang, form_set, forms)
        covered = table.covered_sets.get(state, table.national_set)
        if include_excluded:
            with_cov = [_with_coverage(r) for r in group_reasons]
            without_cov = [list(r) for r in group_reasons]
            excluded_need: dict[str, list[str]] = {}
            for i, service in enumerate(table.services):
                g = table.group_of[i]
                if i not in covered:
                    excluded_need[service.id] = with_cov[g]
                elif group_reasons[g]:
                    excluded_need[service.id] = without_cov[g]
            excluded[need] = excluded_need
        if not options[need]:
            if not table.services:
                reasons = ["none_listed"]
            else:
                union = {r for rs in group_reasons for r in rs}
                if len(covered) < len(table.services):
                    union.add("coverage")
                reasons = sorted(union)
            gaps.append({"need": need, "reasons": reasons})

    alert_set = alert_codes(record, screening, bool(options.get("shelter")))
    alerts = []
    for code in catalogue.alert_order:
        if code in alert_set:
            source, text = catalogue.alerts[code]
            alerts.append({"code": code, "source": source, "text": text[lang]})
    result: dict[str, Any] = {
        "screening": screening.to_dict(),
        "needs": [{"need": n, "auto": n in added} for n in needs],
        "options": options,
    }
    if include_excluded:
        result["excluded"] = excluded
    result["gaps"] = gaps
    result["alerts"] = alerts
    result["rules_version"] = catalogue.rules_version
    return result


def _rank(
    services: list[Service],
    record: ScreeningRecord,
    catalogue: Catalogue,
    lang: str,
    form_set: set[str],
    forms: tuple[str, ...],
) -> list[dict[str, Any]]:
    """Order eligible services as CONTRACT 2.3 says and explain why each fits."""
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
    why = catalogue.why
    foreign = record.foreign
    companions = bool(record.companions)
    out = []
    for rank, (_, s, local) in enumerate(keyed, start=1):
        texts = [why("serves_state", lang, state) if local else why("serves_nationally", lang)]
        texts.extend(why("specialized_in", lang, f) for f in forms if f in s.specializations)
        shared_language = next((x for x in languages if x in s.languages), None)
        if shared_language is not None:
            texts.append(why("speaks_language", lang, shared_language))
        if s.capacity_available:
            texts.append(why("free_places", lang, s.capacity_available))
        if foreign and s.accepts_foreign:
            texts.append(why("accepts_foreign", lang))
        if companions and s.need == "shelter":
            texts.append(why("accepts_companions", lang))
        if "trafficking_specialized" in s.tags:
            texts.append(why("trafficking_specialized", lang))
        out.append({"service": s.id, "rank": rank, "why": texts})
    return out
