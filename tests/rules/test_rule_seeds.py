"""Seed validation: the real seeds load, and broken seeds are refused naming file, entry, field."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from rules_helpers import service_data

from referral.rules import RuleSeeds, SeedErrors, parse_rule_seeds, parse_services, seeds_digest
from referral.rules.contract import INDICATORS

PARAGRAPH = re.compile(
    r"^(SUMMARY|RECOMMENDATIONS|PROSECUTION|PROTECTION|PREVENTION|PROFILE) ¶\d+$"
)
ILO = {
    "es": "OIT/CE, Indicadores operativos de la trata de seres humanos (2009)",
    "en": "ILO/EC Operational indicators of trafficking in human beings (2009)",
}


def broken(docs: dict[str, Any], change: Any) -> list[tuple[str, str, str]]:
    docs = copy.deepcopy(docs)
    change(docs)
    with pytest.raises(SeedErrors) as caught:
        parse_rule_seeds(docs["indicators"], docs["thresholds"], docs["codes"])
    return [(e.file, e.entry, e.field) for e in caught.value.errors]


def test_real_seeds_match_the_contract(seeds: RuleSeeds) -> None:
    assert {i.code: (i.dimension, i.strength) for i in seeds.indicators} == INDICATORS
    for indicator in seeds.indicators:
        for lang in ("es", "en"):
            assert indicator.question[lang].strip() and indicator.help[lang].strip()
            source = indicator.source[lang]
            assert PARAGRAPH.match(source) or source == ILO[lang], (indicator.code, lang)


def test_report_paragraph_sources_exist(seeds: RuleSeeds) -> None:
    from rules_helpers import SEEDS

    from referral.seeds.report import load_report

    paragraphs = load_report(SEEDS / "report.txt")
    for indicator in seeds.indicators:
        if indicator.source["en"] != ILO["en"]:
            assert indicator.source["en"] == indicator.source["es"], indicator.code
            assert indicator.source["en"] in paragraphs, indicator.code


def test_digest_is_stable_and_changes_with_the_seeds(
    rule_docs: dict[str, Any], seeds: RuleSeeds
) -> None:
    again = parse_rule_seeds(rule_docs["indicators"], rule_docs["thresholds"], rule_docs["codes"])
    assert seeds_digest(again) == seeds_digest(seeds)
    docs = copy.deepcopy(rule_docs)
    docs["codes"]["sexes"][0]["label"]["en"] = "Woman"
    changed = parse_rule_seeds(docs["indicators"], docs["thresholds"], docs["codes"])
    assert seeds_digest(changed) != seeds_digest(seeds)


def test_unknown_indicator_code(rule_docs: dict[str, Any]) -> None:
    def change(d: dict) -> None:
        d["indicators"]["indicators"][0]["code"] = "deceived_job"

    errors = broken(rule_docs, change)
    assert ("indicators.yaml", "indicators[0] (deceived_job)", "code") in errors
    assert any(
        e[2] == "code" and e[1] == "indicators" for e in errors
    )  # the contract one is missing


def test_indicator_dimension_strength_and_texts(rule_docs: dict[str, Any]) -> None:
    def change(d: dict) -> None:
        first = d["indicators"]["indicators"][0]
        first["strength"] = "weak"
        first["dimension"] = "exploitation"
        del first["question"]["en"]
        first["help"] = "texto"
        first["source"] = ""
        first["activity"] = True

    errors = broken(rule_docs, change)
    entry = "indicators[0] (deceived_job_nature)"
    for field in ("strength", "dimension", "question.en", "help", "source", "activity"):
        assert ("indicators.yaml", entry, field) in errors


@pytest.mark.parametrize("value", ["not_asked", "prefers_not_to_say", "si", True, None])
def test_marked_by_must_be_yes_or_no(rule_docs: dict[str, Any], value: Any) -> None:
    def change(d: dict) -> None:
        d["indicators"]["indicators"][0]["marked_by"] = value

    with pytest.raises(SeedErrors) as caught:
        docs = copy.deepcopy(rule_docs)
        change(docs)
        parse_rule_seeds(docs["indicators"], docs["thresholds"], docs["codes"])
    (error,) = [e for e in caught.value.errors if e.field == "marked_by"]
    assert error.entry == "indicators[0] (deceived_job_nature)"
    assert "yes or no" in str(error)


def test_marked_by_is_required_and_observation_a_boolean(rule_docs: dict[str, Any]) -> None:
    def change(d: dict) -> None:
        del d["indicators"]["indicators"][0]["marked_by"]
        d["indicators"]["indicators"][1]["observation"] = "yes"

    errors = broken(rule_docs, change)
    assert ("indicators.yaml", "indicators[0] (deceived_job_nature)", "marked_by") in errors
    assert ("indicators.yaml", "indicators[1] (deceived_conditions)", "observation") in errors


def test_questions_asked_the_other_way_round_are_marked_by_no(seeds: RuleSeeds) -> None:
    """ "Do you have your documents?" answered "yes" must never record documents withheld."""
    marked_by = {i.code: i.marked_by for i in seeds.indicators}
    for code in ("documents_withheld", "movement_restricted", "deceived_conditions"):
        assert marked_by[code] == "no"
    assert marked_by["commercial_sex"] == "yes"
    observations = [i.code for i in seeds.indicators if i.observation]
    assert observations == ["exploitation_undisclosed"]
    by_code = {i.code: i for i in seeds.indicators}
    assert by_code["exploitation_undisclosed"].answers == ("yes", "no", "not_asked")
    assert by_code["documents_withheld"].answers == ("yes", "no", "not_asked", "prefers_not_to_say")


def test_indicators_from_answers_follow_the_marking_answer(seeds: RuleSeeds) -> None:
    from referral.rules import indicators_from_answers

    answers = {
        "documents_withheld": "yes",  # she has her documents
        "movement_restricted": "no",  # she could not go out
        "commercial_sex": "yes",
        "threats": "prefers_not_to_say",
        "violence": "not_asked",
    }
    assert indicators_from_answers(answers, seeds.indicators) == [
        "commercial_sex",
        "movement_restricted",
    ]
    assert indicators_from_answers({}, seeds.indicators) == []


def test_duplicate_indicator(rule_docs: dict[str, Any]) -> None:
    def change(d: dict) -> None:
        d["indicators"]["indicators"].append(copy.deepcopy(d["indicators"]["indicators"][0]))

    assert ("indicators.yaml", "indicators[35] (deceived_job_nature)", "code") in broken(
        rule_docs, change
    )


def test_threshold_errors(rule_docs: dict[str, Any]) -> None:
    def change(d: dict) -> None:
        d["thresholds"]["positive_when"][0][0]["strengths"] = ["strongest"]
        d["thresholds"]["likely"]["adult"] = ["recruitment", "nowhere"]
        d["thresholds"]["forms"][0]["indicators"] = ["sex"]

    errors = broken(rule_docs, change)
    assert ("thresholds.yaml", "positive_when[0]", "[0].strengths") in errors
    assert ("thresholds.yaml", "likely.adult", "") in errors
    assert ("thresholds.yaml", "forms[0] (sexual_exploitation)", "indicators") in errors


def test_code_list_errors(rule_docs: dict[str, Any]) -> None:
    def change(d: dict) -> None:
        d["codes"]["sexes"].append({"code": "other", "label": {"es": "Otro", "en": "Other"}})
        d["codes"]["needs"][0]["label"] = {"es": "Albergue"}
        del d["codes"]["needs"][1]["description"]
        d["codes"]["alerts"][3]["source"] = "LGPSEDMTP Art. 36"
        d["codes"]["why"]["serves_state"]["en"] = "Serves {estado}"

    errors = broken(rule_docs, change)
    assert ("codes.yaml", "sexes", "code") in errors
    assert ("codes.yaml", "needs[0] (shelter)", "label.en") in errors
    assert ("codes.yaml", "needs[1] (protection)", "description") in errors
    assert ("codes.yaml", "alerts[3] (non_punishment)", "source") in errors
    assert ("codes.yaml", "why.serves_state", "text.en") in errors


def test_seed_error_message_names_file_entry_and_field(rule_docs: dict[str, Any]) -> None:
    docs = copy.deepcopy(rule_docs)
    docs["indicators"]["indicators"][2]["source"] = None
    with pytest.raises(SeedErrors) as caught:
        parse_rule_seeds(docs["indicators"], docs["thresholds"], docs["codes"])
    assert "indicators.yaml: indicators[2] (false_romance): source:" in str(caught.value)


def service_errors(seeds: RuleSeeds, *entries: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(SeedErrors) as caught:
        parse_services(list(entries), seeds, {"MX-TLA", "MX-GRO"})
    assert all(e.file == "services.yaml" for e in caught.value.errors)
    return [(e.entry, e.field) for e in caught.value.errors]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"need": "housing"}, "need"),
        ({"status": "temporarily closed"}, "status"),
        ({"operator": "church"}, "operator"),
        ({"sexes": ["woman"]}, "sexes"),
        ({"sexes": []}, "sexes"),
        ({"tags": ["nope"]}, "tags"),
        ({"specializations": ["trafficking"]}, "specializations"),
        ({"coverage": ["MX-XXX"]}, "coverage"),
        ({"coverage": ["MX-CHP"]}, "coverage"),
        ({"languages": ["ES"]}, "languages"),
        ({"operator": "government", "accepts_foreign": False}, "accepts_foreign"),
        ({"source": ""}, "source"),
        ({"source": None}, "source"),
        ({"name": {"es": "Refugio"}}, "name.en"),
        ({"min_age": 18, "max_age": 17}, "max_age"),
        ({"min_age": 1.5}, "min_age"),
        ({"capacity_available": -1}, "capacity_available"),
        ({"accepts_foreign": "yes"}, "accepts_foreign"),
        ({"contact": {"es": "x"}}, "contact.en"),
        ({"last_verified": "yesterday"}, "last_verified"),
        ({"address": "Calle 1"}, "address"),
    ],
)
def test_service_errors_name_id_and_field(seeds: RuleSeeds, overrides: dict, field: str) -> None:
    assert ("svc-a", field) in service_errors(seeds, service_data("svc-a", **overrides))


def test_duplicate_and_missing_fields(seeds: RuleSeeds) -> None:
    incomplete = service_data("svc-b")
    del incomplete["tags"]
    errors = service_errors(seeds, service_data("svc-a"), service_data("svc-a"), incomplete)
    assert ("svc-a", "id") in errors and ("svc-b", "tags") in errors


def test_service_optional_fields_round_trip(seeds: RuleSeeds) -> None:
    entry = service_data(
        "svc-a",
        coverage=["MX-TLA"],
        how_to_refer={"es": "Llame", "en": "Call"},
        required_documents=[{"es": "Identificación", "en": "ID"}],
        last_verified="2025-01-31",
        confidential=True,
    )
    (service,) = parse_services([entry], seeds, {"MX-TLA"})
    assert service.to_contract_dict() == entry
    plain = service_data("svc-b")
    (service,) = parse_services({"services": [plain]}, seeds, {"MX-TLA"})
    assert service.to_contract_dict() == plain


def test_seeded_directory_loads(seeded_services: list) -> None:
    assert len(seeded_services) > 100


def test_the_language_table_is_pycountrys_iso_639() -> None:
    """Read from pycountry's data file, the table maps every code as pycountry's objects do."""
    import pycountry

    from referral.seeds.languages import iso639_table

    expected: dict[str, str] = {}
    for language in pycountry.languages:
        expected[language.alpha_3] = language.alpha_3
        for other in ("alpha_2", "bibliographic"):
            if code := getattr(language, other, None):
                expected[code] = language.alpha_3
    assert dict(iso639_table()) == expected
    assert iso639_table()["es"] == "spa" and iso639_table()["fre"] == "fra"
