"""One hand-written test for each routing row of CONTRACT v4's "Changes"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rules_helpers import service_data

from referral.rules import Catalogue, ScreeningRecord, SeedErrors, route_case
from referral.seeds.languages import iso639_table

Make = Callable[..., ScreeningRecord]
MakeCat = Callable[..., Catalogue]
LIKELY_ADULT = [
    "deceived_job_nature",
    "deceived_conditions",
    "commercial_sex",
    "threats",
    "violence",
]
POSSIBLE_LABOUR = ["excessive_hours", "wages_withheld"]


def routed(record: ScreeningRecord, cat: Catalogue, lang: str = "es") -> dict[str, Any]:
    return route_case(record, cat).to_json(lang)


def ids(result: dict[str, Any], need: str) -> list[str]:
    return [o["service"] for o in result["options"][need]]


# --- 2.2 needs ------------------------------------------------------------------------------


def test_labor_rights_for_a_possible_forced_labour_case(make_record: Make, make_catalogue: MakeCat):
    result = routed(make_record(indicators=POSSIBLE_LABOUR), make_catalogue())
    assert result["screening"]["status"] == "possible"
    assert {"need": "labor_rights", "auto": True} in result["needs"]


@pytest.mark.parametrize(
    ("languages", "vulnerabilities", "interpretation"),
    [
        (["es", "tzo"], ["indigenous"], True),  # Indigenous, lists another language
        (["es", "tzo"], [], False),  # speaks Spanish, not Indigenous
        (["es"], ["indigenous"], False),  # Indigenous, Spanish only
        (["spa", "nah"], ["indigenous"], True),
    ],
)
def test_interpretation_for_indigenous_people_who_list_another_language(
    languages, vulnerabilities, interpretation, make_record: Make, make_catalogue: MakeCat
):
    record = make_record(languages=languages, vulnerabilities=vulnerabilities)
    needs = [n["need"] for n in routed(record, make_catalogue())["needs"]]
    assert ("interpretation" in needs) is interpretation


# --- 2.3 eligibility -------------------------------------------------------------------------


def test_defunct_service_is_in_no_option_no_exclusion_and_never_in_reach(
    make_record: Make, make_catalogue: MakeCat
):
    cat = make_catalogue(
        service_data("gone", status="defunct"),
        service_data("far", coverage=["MX-GRO"]),
    )
    result = routed(make_record(needs=["shelter"]), cat)
    assert result["options"]["shelter"] == []
    assert result["excluded"]["shelter"] == {"far": ["coverage"]}
    # the defunct national shelter is not in reach, so the gap is one of coverage
    assert result["gaps"] == [{"need": "shelter", "reasons": ["coverage"]}]
    only_defunct = make_catalogue(service_data("gone", status="defunct"))
    assert routed(make_record(needs=["shelter"]), only_defunct)["gaps"] == [
        {"need": "shelter", "reasons": ["none_listed"]}
    ]


def test_unknown_sex_is_confirmed_not_excluded(make_record: Make, make_catalogue: MakeCat):
    cat = make_catalogue(
        service_data("women", sexes=["female"]),
        service_data("boys13", sexes=["female", "male"], male_max_age=13),
        service_data("everyone"),
    )
    result = routed(make_record(sex="unknown", needs=["shelter"]), cat)
    confirm = {o["service"]: o["confirm"] for o in result["options"]["shelter"]}
    assert confirm == {"everyone": [], "women": ["sex"], "boys13": ["sex"]}
    assert ids(result, "shelter")[0] == "everyone"  # nothing to confirm first


def test_nationalities_of_a_consulate(make_record: Make, make_catalogue: MakeCat):
    cat = make_catalogue(service_data("sre", need="consular", nationalities=["MX"]))

    def outcome(**record: Any) -> tuple[list[str], dict[str, list[str]]]:
        result = routed(make_record(needs=["consular"], **record), cat)
        options = result["options"]["consular"]
        return [o["confirm"] for o in options], result["excluded"]["consular"]

    assert outcome(nationality="MX") == ([[]], {})
    # the SRE's protection of Mexicans abroad is not for a Honduran child
    assert outcome(nationality="HN", migration_status="irregular", age=12) == (
        [],
        {"sre": ["nationality"]},
    )
    assert outcome(nationality="ZZ", migration_status="unknown") == ([["nationality"]], {})


def test_nationalities_set_means_accepts_foreign_is_not_read(
    make_record: Make, make_catalogue: MakeCat
):
    cat = make_catalogue(
        service_data("gt", need="consular", nationalities=["GT"], accepts_foreign=False)
    )
    record = make_record(nationality="GT", migration_status="irregular", needs=["consular"])
    assert ids(routed(record, cat), "consular") == ["gt"]


def test_empty_nationalities_is_refused_at_load(make_catalogue: MakeCat):
    with pytest.raises(SeedErrors, match="nationalities"):
        make_catalogue(service_data("x", nationalities=[]))
    with pytest.raises(SeedErrors, match="nationalities"):
        make_catalogue(service_data("x", nationalities=["gt"]))
    assert make_catalogue(service_data("x", nationalities=None)).services[0].nationalities is None


@pytest.mark.parametrize(
    ("record", "offered"),
    [
        ({"nationality": "GT", "migration_status": "irregular"}, True),
        ({"nationality": "MX", "migration_status": "national"}, False),
        ({"nationality": "GT", "migration_status": "asylum_seeker"}, False),
        ({"nationality": "GT", "migration_status": "refugee"}, False),
        ({"nationality": "ZZ", "migration_status": "unknown"}, False),  # routed as not foreign
    ],
)
def test_country_of_origin_never_for_a_national_asylum_seeker_or_refugee(
    record, offered, make_record: Make, make_catalogue: MakeCat
):
    cat = make_catalogue(service_data("consulate", need="consular", tags=["country_of_origin"]))
    result = routed(make_record(needs=["consular"], **record), cat)
    assert (ids(result, "consular") == ["consulate"]) is offered
    if not offered:
        assert result["excluded"]["consular"] == {"consulate": ["nationality"]}


@pytest.mark.parametrize(
    ("person", "interpreter", "excluded"),
    [
        (["fr"], ["fra"], False),  # ISO 639-1 = ISO 639-3
        (["fre"], ["fr"], False),  # ISO 639-2/B = ISO 639-1
        (["ht"], ["hat"], False),
        (["nah"], ["nah"], False),  # not in the table: equals itself
        (["nah"], ["nhe"], True),  # macrolanguages are not expanded
        (["es", "tzo"], ["es", "en"], True),  # matched on languages other than Spanish
        (["spa", "tzo"], ["tzo"], False),
        ([], ["en"], False),  # an unknown language excludes no interpreter
    ],
)
def test_interpreters_are_matched_on_languages_as_languages(
    person, interpreter, excluded, make_record: Make, make_catalogue: MakeCat
):
    cat = make_catalogue(service_data("int", need="interpretation", languages=interpreter))
    result = routed(make_record(languages=person, needs=["interpretation"]), cat)
    assert (result["excluded"]["interpretation"] == {"int": ["language"]}) is excluded


def test_the_language_table_comes_from_iso_639():
    table = iso639_table()
    assert table["es"] == table["spa"] == "spa"
    assert table["fr"] == table["fre"] == table["fra"] == "fra"
    assert table["tzo"] == "tzo" and "nah" not in table


# --- ranking and confirm --------------------------------------------------------------------


def test_the_specialised_refuge_for_foreign_victims_comes_before_generic_migrant_shelters(
    make_record: Make, make_catalogue: MakeCat
):
    generic = [
        service_data(f"a-migrant-{i:02d}", coverage=["MX-CHP"], tags=["migrant_shelter"])
        for i in range(39)
    ]
    refuge = service_data(
        "z-refuge", coverage=["national"], tags=["trafficking_specialized", "foreign_victims"]
    )
    cat = make_catalogue(*generic, refuge)
    record = make_record(
        nationality="VE",
        migration_status="irregular",
        state="MX-CHP",
        indicators=LIKELY_ADULT,
        needs=["shelter"],
    )
    assert ids(routed(record, cat), "shelter")[0] == "z-refuge"
    # when nothing is indicated, specialisation does not lead: local first
    plain = make_record(state="MX-CHP", needs=["shelter"])
    assert ids(routed(plain, cat), "shelter")[0] == "a-migrant-00"


def test_ranking_keys_in_contract_order(make_record: Make, make_catalogue: MakeCat):
    cat = make_catalogue(
        service_data("a-local", coverage=["MX-TLA"]),
        service_data("b-national-forms", specializations=["sexual_exploitation"]),
        service_data("c-specialised", tags=["trafficking_specialized"]),
        service_data("d-local-confirm", coverage=["MX-TLA"], max_age=25),
        service_data("e-local-language", coverage=["MX-TLA"], max_age=25, languages=["eng"]),
    )
    record = make_record(
        age=None,
        clearly_adult=True,
        languages=["en"],
        indicators=["commercial_sex"],
        needs=["shelter"],
    )
    result = routed(record, cat)
    assert ids(result, "shelter") == [
        "c-specialised",
        "b-national-forms",
        "a-local",
        "e-local-language",  # both ask to confirm the age; this one shares English
        "d-local-confirm",
    ]
    assert result["options"]["shelter"][3]["confirm"] == ["age"]


@pytest.mark.parametrize(
    ("service", "record", "confirm"),
    [
        # a presumed minor is never asked to prove age for a children's service
        ({"max_age": 17}, {"age": None}, []),
        ({"min_age": 12, "max_age": 17}, {"age": None}, ["age"]),
        ({"max_age": 60}, {"age": None, "clearly_adult": True}, ["age"]),
        ({"min_age": 18}, {"age": None, "clearly_adult": True}, []),
        ({"sexes": ["female", "male"], "male_max_age": 13}, {"age": None, "sex": "male"}, ["age"]),
        ({"sexes": ["female", "male"]}, {"sex": "unknown"}, ["sex"]),
        (
            {"companion_max_age_male": 13},
            {"companions": [{"age": 15, "sex": "unknown"}]},
            ["companions"],
        ),
        ({"companion_max_age_male": 13}, {"companions": [{"age": 12, "sex": "unknown"}]}, []),
        (
            {"accepts_foreign": False},
            {"nationality": "ZZ", "migration_status": "unknown"},
            ["nationality"],
        ),
        (
            {"max_age": 17, "sexes": ["female"], "nationalities": ["GT"]},
            {"age": None, "sex": "unknown", "nationality": "ZZ"},
            ["sex", "nationality"],
        ),
    ],
)
def test_confirm_items(service, record, confirm, make_record: Make, make_catalogue: MakeCat):
    cat = make_catalogue(service_data("s", **service))
    options = routed(make_record(needs=["shelter"], **record), cat)["options"]["shelter"]
    assert [o["confirm"] for o in options] == [confirm]


# --- gaps -----------------------------------------------------------------------------------


def test_a_man_where_the_only_shelter_takes_women_gets_sex(
    make_record: Make, make_catalogue: MakeCat
):
    cat = make_catalogue(
        service_data("tla-women", coverage=["MX-TLA"], sexes=["female"]),
        service_data("gro-all", coverage=["MX-GRO"]),
    )
    man = routed(make_record(sex="male", needs=["shelter"]), cat)
    assert man["gaps"] == [{"need": "shelter", "reasons": ["sex"]}]
    woman = routed(make_record(state="MX-CHP", needs=["shelter"]), cat)
    assert woman["gaps"] == [{"need": "shelter", "reasons": ["coverage"]}]


def test_state_unknown_is_its_own_reason(make_record: Make, make_catalogue: MakeCat):
    cat = make_catalogue(service_data("tla", coverage=["MX-TLA"]))
    result = routed(make_record(state="unknown", needs=["shelter"]), cat)
    assert result["gaps"] == [{"need": "shelter", "reasons": ["state_unknown"]}]
    assert result["excluded"]["shelter"] == {"tla": ["state_unknown"]}
    with_national = make_catalogue(
        service_data("tla", coverage=["MX-TLA"]),
        service_data("nat", requires_complaint=True),
    )
    result = routed(make_record(state="unknown", needs=["shelter"]), with_national)
    assert result["gaps"] == [{"need": "shelter", "reasons": ["complaint_required"]}]


def test_state_unknown_gap_sentence_in_both_languages(seeded_catalogue: Catalogue):
    es = seeded_catalogue.gap_sentences("shelter", ["state_unknown"], "es", "unknown")
    en = seeded_catalogue.gap_sentences("shelter", ["state_unknown"], "en", "unknown")
    assert "no se sabe en qué estado" in es[0] and "state is not known" in en[0]


# --- 2.4 alerts -----------------------------------------------------------------------------


def test_possibly_foreign_person_gets_the_foreign_victims_alerts_as_conditional(
    make_record: Make, make_catalogue: MakeCat
):
    record = make_record(nationality="ZZ", migration_status="unknown", indicators=LIKELY_ADULT)
    for lang, opening in (
        ("es", "Si la persona no es mexicana"),
        ("en", "If the person is not Mexican"),
    ):
        alerts = {a["code"]: a for a in routed(record, make_catalogue(), lang)["alerts"]}
        for code in ("humanitarian_visa", "reflection_period", "non_refoulement"):
            assert alerts[code]["condition"] == "if_foreign"
            assert alerts[code]["text"].startswith(opening)
        assert "no_detention" not in alerts  # never conditional


def test_a_foreign_person_gets_the_same_alerts_without_condition(
    make_record: Make, make_catalogue: MakeCat
):
    record = make_record(nationality="GT", migration_status="irregular", indicators=LIKELY_ADULT)
    alerts = routed(record, make_catalogue(), "en")["alerts"]
    assert all("condition" not in a for a in alerts)
    visa = next(a for a in alerts if a["code"] == "humanitarian_visa")
    assert not visa["text"].startswith("If the person")
    mexican = make_record(indicators=LIKELY_ADULT)
    assert "humanitarian_visa" not in [
        a["code"] for a in routed(mexican, make_catalogue())["alerts"]
    ]


def test_federal_jurisdiction_for_possible(make_record: Make, make_catalogue: MakeCat):
    record = make_record(indicators=POSSIBLE_LABOUR, organized_crime=True)
    assert "federal_jurisdiction" in [a["code"] for a in routed(record, make_catalogue())["alerts"]]


def test_alert_sources_in_the_readers_language(make_record: Make, make_catalogue: MakeCat):
    record = make_record(indicators=LIKELY_ADULT, cross_border=True)
    es = {a["code"]: a["source"] for a in routed(record, make_catalogue(), "es")["alerts"]}
    en = {a["code"]: a["source"] for a in routed(record, make_catalogue(), "en")["alerts"]}
    assert en["federal_jurisdiction"] == "the report, PROSECUTION; LGPSEDMTP Art. 5"
    assert es["federal_jurisdiction"].startswith("el informe")


# --- rules_version --------------------------------------------------------------------------


def test_rules_version_names_the_contract_and_ignores_free_places(
    make_record: Make, make_catalogue: MakeCat
):
    one = make_catalogue(service_data("s", capacity_available=3), version="17")
    other = make_catalogue(service_data("s", capacity_available=0), version="17")
    contract, digest, directory = one.rules_version.split("/")
    assert (contract, directory) == ("4", "17") and len(digest) == 12
    assert one.rules_version == other.rules_version
    assert route_case(make_record(), one).rules_version == one.rules_version
