"""A table of hand-written cases for every row of CONTRACT 2.1-2.4."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from rules_helpers import service_data

from referral.rules import Catalogue, ScreeningRecord, WhyItFits, route_case
from referral.rules.contract import Why

Make = Callable[..., ScreeningRecord]
MakeCat = Callable[..., Catalogue]

# Adult "likely": recruitment + exploitation + destination all positive.
LIKELY_ADULT = [
    "deceived_job_nature",
    "deceived_conditions",
    "commercial_sex",
    "threats",
    "violence",
]


def routed(record: ScreeningRecord, cat: Catalogue, lang: str = "es") -> dict[str, Any]:
    """The result as the CLI and the API write it (CONTRACT section 2)."""
    return route_case(record, cat).to_json(lang)


def status_of(make_record: Make, cat: Catalogue, **kw: Any) -> str:
    return route_case(make_record(**kw), cat).status


# --- 2.1 screening status ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("indicators", "positive"),
    [
        (["violence", "threats"], True),  # two strong
        (["violence", "isolation"], True),  # one strong + one medium
        (["violence"], False),  # one strong alone
        (["threat_of_authorities", "isolation"], False),  # two medium
        (["dependency_on_exploiter", "substance_coercion", "language_barrier"], True),  # 2m+1w
        (["substance_coercion", "language_barrier", "no_access_to_help"], False),  # 1m+2w
        (["deceived_conditions", "false_romance", "informal_recruiter_fees"], True),  # 3 medium
        (["deceived_job_nature", "online_lure"], True),  # one strong + one weak
        (["abusive_conditions"], False),
        (["excessive_hours"], False),  # strong but not an activity
        (["forced_marriage"], True),  # an activity alone
    ],
)
def test_dimension_thresholds(
    indicators: list[str], positive: bool, make_record: Make, make_catalogue: MakeCat
) -> None:
    result = routed(make_record(indicators=indicators), make_catalogue())
    dims = result["screening"]["dimensions"]
    present = [d for d, v in dims.items() if v["indicators"]]
    assert len(present) == 1
    assert dims[present[0]]["positive"] is positive
    assert dims[present[0]]["indicators"] == indicators


@pytest.mark.parametrize(
    "activity",
    [
        "commercial_sex",
        "online_sexual_exploitation",
        "forced_criminal_activity",
        "forced_begging",
        "illegal_adoption",
        "forced_marriage",
        "exploitation_undisclosed",
    ],
)
def test_each_activity_alone_makes_exploitation_positive_and_a_minor_likely(
    activity: str, make_record: Make, make_catalogue: MakeCat
) -> None:
    cat = make_catalogue()
    result = routed(make_record(age=15, indicators=[activity]), cat)
    assert result["screening"]["dimensions"]["exploitation"]["positive"]
    assert result["screening"]["status"] == "likely"  # minors: no means required
    assert status_of(make_record, cat, age=30, indicators=[activity]) == "possible"


def test_all_six_dimensions_in_contract_order(make_record: Make, make_catalogue: MakeCat) -> None:
    dims = routed(make_record(), make_catalogue())["screening"]["dimensions"]
    assert list(dims) == [
        "deceptive_recruitment",
        "coercive_recruitment",
        "vulnerability_recruitment",
        "exploitation",
        "coercion_destination",
        "vulnerability_destination",
    ]
    assert all(v == {"positive": False, "indicators": []} for v in dims.values())


def test_dimension_indicators_follow_the_seed_order(
    make_record: Make, make_catalogue: MakeCat
) -> None:
    result = routed(make_record(indicators=["threats", "documents_withheld"]), make_catalogue())
    assert result["screening"]["dimensions"]["coercion_destination"]["indicators"] == [
        "documents_withheld",
        "threats",
    ]


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"indicators": LIKELY_ADULT}, "likely"),
        ({"indicators": LIKELY_ADULT[1:]}, "possible"),  # recruitment not positive
        (
            {"indicators": ["deceived_job_nature", "deceived_conditions", "commercial_sex"]},
            "possible",
        ),
        (
            {"indicators": ["deceived_job_nature", "deceived_conditions", "violence", "threats"]},
            "possible",
        ),
        ({"indicators": ["violence"]}, "possible"),  # one strong indicator
        # two medium + one weak, but in two dimensions: thresholds count per dimension
        (
            {"indicators": ["isolation", "threat_of_authorities", "language_barrier"]},
            "not_indicated",
        ),
        ({"indicators": ["isolation"]}, "not_indicated"),
        ({"indicators": []}, "not_indicated"),
        ({"indicators": ["excessive_hours"], "age": 12}, "possible"),  # not an activity
        ({"indicators": ["excessive_hours", "wages_withheld"], "age": 12}, "likely"),
        ({"indicators": ["commercial_sex"], "age": None}, "likely"),  # presumed minor
        ({"indicators": ["commercial_sex"], "age": None, "clearly_adult": True}, "possible"),
        (
            {
                "indicators": [
                    "debt_at_recruitment",
                    "irregular_status_exploited",
                    "economic_hardship_exploited",
                    "wages_withheld",
                    "abusive_conditions",
                    "dependency_on_exploiter",
                    "substance_coercion",
                    "no_access_to_help",
                ]
            },
            "likely",
        ),
    ],
)
def test_status(overrides: dict, status: str, make_record: Make, make_catalogue: MakeCat) -> None:
    assert status_of(make_record, make_catalogue(), **overrides) == status


@pytest.mark.parametrize(
    ("indicators", "sector", "forms"),
    [
        (["commercial_sex"], None, ["sexual_exploitation"]),
        (
            ["online_sexual_exploitation", "forced_begging"],
            None,
            ["sexual_exploitation", "forced_begging"],
        ),
        (["excessive_hours", "wages_withheld"], None, ["forced_labor"]),
        (["abusive_conditions", "violence"], None, ["forced_labor"]),
        (["forced_criminal_activity"], "call_center_scam", ["forced_criminality"]),
        (["illegal_adoption"], None, ["illegal_adoption"]),
        (["forced_marriage", "commercial_sex"], None, ["sexual_exploitation", "forced_marriage"]),
        (["exploitation_undisclosed"], None, ["unspecified"]),
        (["exploitation_undisclosed"], "agriculture", ["forced_labor"]),
        (["exploitation_undisclosed"], "begging_street_vending", ["forced_labor"]),
        (["forced_begging"], "begging_street_vending", ["forced_begging"]),
        (["commercial_sex"], "tourism", ["sexual_exploitation"]),
        (["exploitation_undisclosed"], "call_center_scam", ["unspecified"]),
        (["violence"], "domestic_work", ["forced_labor"]),
        (["isolation"], "domestic_work", []),  # not indicated: no forms
    ],
)
def test_forms(
    indicators: list[str],
    sector: str | None,
    forms: list[str],
    make_record: Make,
    make_catalogue: MakeCat,
) -> None:
    result = routed(make_record(indicators=indicators, sector=sector), make_catalogue())
    assert result["screening"]["forms"] == forms


# --- 2.2 needs ----------------------------------------------------------------------------


def needs_of(result: dict) -> list[tuple[str, bool]]:
    return [(n["need"], n["auto"]) for n in result["needs"]]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"age": 12}, [("child_protection", True)]),
        ({"age": None}, [("child_protection", True)]),
        ({"age": 12, "needs": ["child_protection"]}, [("child_protection", False)]),
        ({"nationality": "HN", "indicators": ["violence"]}, [("immigration", True)]),
        ({"nationality": "HN", "indicators": []}, []),
        ({"nationality": "HN", "migration_status": "regular", "indicators": ["violence"]}, []),
        (
            {"nationality": "ZZ", "migration_status": "irregular", "indicators": ["violence"]},
            [("immigration", True)],
        ),
        ({"migration_status": "asylum_seeker", "nationality": "VE"}, [("asylum", True)]),
        ({"immediate_danger": True}, [("protection", True)]),
        ({"languages": ["tzo"]}, [("interpretation", True)]),
        ({"languages": ["tzo", "es"]}, []),
        ({"languages": []}, []),
        ({"indicators": LIKELY_ADULT}, [("victim_registration", True)]),
        (
            {
                "indicators": [
                    "deceived_job_nature",
                    "deceived_conditions",
                    "wages_withheld",
                    "excessive_hours",
                    "debt_bondage",
                    "threats",
                ]
            },
            [("labor_rights", True), ("victim_registration", True)],
        ),
        (
            {"indicators": ["excessive_hours", "wages_withheld"], "needs": ["medical", "shelter"]},
            # possible: labor_rights too (v4), order of 3.5
            [("shelter", False), ("medical", False), ("labor_rights", True)],
        ),
    ],
)
def test_needs(overrides: dict, expected: list, make_record: Make, make_catalogue: MakeCat) -> None:
    assert needs_of(routed(make_record(**overrides), make_catalogue())) == expected


def test_every_need_has_options_and_excluded_keys_in_order(
    make_record: Make, make_catalogue: MakeCat
) -> None:
    result = routed(make_record(needs=["reintegration", "shelter"], age=9), make_catalogue())
    assert list(result["options"]) == ["shelter", "child_protection", "reintegration"]
    assert list(result["excluded"]) == ["shelter", "child_protection", "reintegration"]
    assert [g["need"] for g in result["gaps"]] == ["shelter", "child_protection", "reintegration"]
    assert all(g["reasons"] == ["none_listed"] for g in result["gaps"])
    assert list(result) == [
        "screening",
        "needs",
        "options",
        "excluded",
        "gaps",
        "alerts",
        "rules_version",
    ]


# --- 2.3 eligibility --------------------------------------------------------------------


def reasons(make_record: Make, make_catalogue: MakeCat, service: dict, **record: Any) -> list[str]:
    need = service.get("need", "shelter")
    record.setdefault("needs", [need])
    result = routed(make_record(**record), make_catalogue(service))
    if result["options"][need]:
        assert result["excluded"][need] == {}
        return []
    return result["excluded"][need][service["id"]]


CASES: list[tuple[str, dict, dict, list[str]]] = [
    # name, service overrides, record overrides, expected reasons
    ("active", {}, {}, []),
    ("inactive", {"status": "inactive"}, {}, ["inactive"]),
    ("temporarily_closed", {"status": "temporarily_closed"}, {}, ["inactive"]),
    ("state coverage", {"coverage": ["MX-TLA"]}, {}, []),
    ("other state", {"coverage": ["MX-GRO"]}, {}, ["coverage"]),
    (
        "unknown state, state service",
        {"coverage": ["MX-TLA"]},
        {"state": "unknown"},
        ["state_unknown"],
    ),
    ("unknown state, national", {"coverage": ["national"]}, {"state": "unknown"}, []),
    ("below min_age", {"min_age": 18}, {"age": 17}, ["age"]),
    ("above max_age", {"max_age": 17}, {"age": 18}, ["age"]),
    ("inside ages", {"min_age": 12, "max_age": 17}, {"age": 12}, []),
    ("age null minor, adult service", {"min_age": 18}, {"age": None}, ["age"]),
    ("age null minor, teen service", {"min_age": 12}, {"age": None}, []),
    (
        "age null adult, child service",
        {"max_age": 17},
        {"age": None, "clearly_adult": True},
        ["age"],
    ),
    ("age null adult, adult service", {"min_age": 18}, {"age": None, "clearly_adult": True}, []),
    ("sex not accepted", {"sexes": ["female"]}, {"sex": "male"}, ["sex"]),
    ("intersex not accepted", {"sexes": ["female", "male"]}, {"sex": "intersex"}, ["sex"]),
    (
        "boy under male_max_age",
        {"sexes": ["female", "male"], "male_max_age": 13},
        {"sex": "male", "age": 13},
        [],
    ),
    (
        "boy over male_max_age",
        {"sexes": ["female", "male"], "male_max_age": 13},
        {"sex": "male", "age": 14},
        ["sex"],
    ),
    (
        "man, age null adult, male_max_age",
        {"male_max_age": 13},
        {"sex": "male", "age": None, "clearly_adult": True},
        ["sex"],
    ),
    ("boy, age null minor, male_max_age", {"male_max_age": 13}, {"sex": "male", "age": None}, []),
    ("woman, male_max_age", {"male_max_age": 13}, {"sex": "female", "age": 40}, []),
    ("sex unknown, all sexes", {}, {"sex": "unknown"}, []),
    ("sex unknown, women only", {"sexes": ["female"]}, {"sex": "unknown"}, []),  # confirmed
    ("sex unknown, male_max_age", {"male_max_age": 13}, {"sex": "unknown"}, []),  # confirmed
    (
        "foreign, refuses foreign",
        {"accepts_foreign": False},
        {"nationality": "GT"},
        ["nationality"],
    ),
    (
        "refugee, refuses foreign",
        {"accepts_foreign": False},
        {"migration_status": "refugee"},
        ["nationality"],
    ),
    ("national, refuses foreign", {"accepts_foreign": False}, {}, []),
    (
        "interpretation, no language",
        {"need": "interpretation", "languages": ["es", "en"]},
        {"languages": ["tzo"]},
        ["language"],
    ),
    (
        "interpretation, shared",
        {"need": "interpretation", "languages": ["es", "tzo"]},
        {"languages": ["tzo"]},
        [],
    ),
    ("language ignored elsewhere", {"languages": ["en"]}, {"languages": ["tzo"]}, []),
    ("capacity 0", {"capacity_available": 0}, {}, ["capacity"]),
    ("capacity unknown", {"capacity_available": None}, {}, []),
    ("complaint required", {"requires_complaint": True}, {}, ["complaint_required"]),
    ("complaint filed", {"requires_complaint": True}, {"complaint_filed": True}, []),
    ("victim status required", {"requires_victim_status": True}, {}, ["victim_status_required"]),
    ("victim status granted", {"requires_victim_status": True}, {"victim_status": True}, []),
    (
        "companions refused",
        {"accepts_companions": False},
        {"companions": [{"age": 3, "sex": "female"}]},
        ["companions"],
    ),
    ("no companions", {"accepts_companions": False}, {}, []),
    (
        "male companion too old",
        {"companion_max_age_male": 13},
        {"companions": [{"age": 14, "sex": "male"}]},
        ["companions"],
    ),
    (
        "male companion at limit",
        {"companion_max_age_male": 13},
        {"companions": [{"age": 13, "sex": "male"}]},
        [],
    ),
    (
        "older girl companion",
        {"companion_max_age_male": 13},
        {"companions": [{"age": 16, "sex": "female"}]},
        [],
    ),
    (
        "companions only matter for shelter",
        {"need": "medical", "accepts_companions": False},
        {"companions": [{"age": 3, "sex": "male"}]},
        [],
    ),
    (
        "every reason, table order",
        {
            "status": "inactive",
            "coverage": ["MX-GRO"],
            "min_age": 18,
            "sexes": ["female"],
            "accepts_foreign": False,
            "capacity_available": 0,
            "requires_complaint": True,
            "requires_victim_status": True,
            "accepts_companions": False,
        },
        {"age": 16, "sex": "male", "nationality": "SV", "companions": [{"age": 2, "sex": "male"}]},
        [
            "inactive",
            "coverage",
            "age",
            "sex",
            "nationality",
            "capacity",
            "complaint_required",
            "victim_status_required",
            "companions",
        ],
    ),
]


@pytest.mark.parametrize(
    ("name", "service", "record", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_eligibility(
    name: str,
    service: dict,
    record: dict,
    expected: list[str],
    make_record: Make,
    make_catalogue: MakeCat,
) -> None:
    assert (
        reasons(make_record, make_catalogue, service_data("svc-a", **service), **record) == expected
    )


def test_language_reason_in_table_order(make_record: Make, make_catalogue: MakeCat) -> None:
    service = service_data(
        "svc-i",
        need="interpretation",
        languages=["en"],
        status="inactive",
        capacity_available=0,
        coverage=["MX-GRO"],
    )
    assert reasons(make_record, make_catalogue, service, languages=["tzo"]) == [
        "inactive",
        "coverage",
        "language",
        "capacity",
    ]


def test_ranking_order(make_record: Make, make_catalogue: MakeCat) -> None:
    cat = make_catalogue(
        service_data("a-national-big", capacity_available=9),
        service_data("b-national-unknown"),
        service_data("c-national-small", capacity_available=2),
        service_data("d-national-lang", languages=["tzo"]),
        service_data("e-national-spec", specializations=["sexual_exploitation"]),
        service_data("f-local", coverage=["MX-TLA"], languages=["en"]),
        service_data("g-local-and-national", coverage=["national", "MX-TLA"], languages=["en"]),
        service_data(
            "h-local-spec",
            coverage=["MX-TLA"],
            specializations=["forced_labor", "sexual_exploitation"],
            languages=["en"],
        ),
        service_data("i-national-zero", capacity_available=0),
    )
    record = make_record(needs=["shelter"], languages=["tzo"], indicators=["commercial_sex"])
    result = routed(record, cat)
    # v4: the case's forms before local before national
    assert [o["service"] for o in result["options"]["shelter"]] == [
        "h-local-spec",
        "e-national-spec",
        "f-local",
        "g-local-and-national",
        "d-national-lang",
        "a-national-big",
        "c-national-small",
        "b-national-unknown",
    ]
    assert [o["rank"] for o in result["options"]["shelter"]] == list(range(1, 9))
    assert result["excluded"]["shelter"] == {"i-national-zero": ["capacity"]}
    # tzo without Spanish adds interpretation, which this directory lacks
    assert result["gaps"] == [{"need": "interpretation", "reasons": ["none_listed"]}]


def test_why_texts_in_both_languages(make_record: Make, make_catalogue: MakeCat) -> None:
    cat = make_catalogue(
        service_data(
            "svc-x",
            coverage=["MX-TLA"],
            specializations=["sexual_exploitation"],
            capacity_available=3,
            tags=["trafficking_specialized"],
        )
    )
    record = make_record(needs=["shelter"], indicators=["commercial_sex"], nationality="GT")
    es = routed(record, cat)["options"]["shelter"][0]["why"]
    en = routed(record, cat, "en")["options"]["shelter"][0]["why"]
    assert es == [
        "Atiende en Tlaxcala",
        "Especializado en Explotación sexual",
        "Atiende en español",
        "Lugares disponibles: 3",
        "Atiende a personas extranjeras",
        "Especializado en víctimas de trata",
    ]
    assert en[0] == "Serves Tlaxcala" and "Free places: 3" in en
    national = make_catalogue(service_data("svc-n"))
    assert routed(record, national, "en")["options"]["shelter"][0]["why"][0] == (
        "Serves the whole country"
    )


def test_gap_reasons_are_the_sorted_union(make_record: Make, make_catalogue: MakeCat) -> None:
    cat = make_catalogue(
        service_data("s1", coverage=["MX-GRO"], sexes=["female"]),
        service_data("s2", sexes=["female"], male_max_age=None, requires_complaint=True),
        service_data(
            "s3",
            coverage=["MX-TLA"],
            min_age=18,
            max_age=25,
            sexes=["female", "male"],
            male_max_age=13,
        ),
        service_data("m1", need="medical"),
    )
    record = make_record(
        sex="male", age=34, state="MX-GRO", needs=["shelter", "medical", "legal_aid"]
    )
    result = routed(record, cat)
    # v4: the reasons of the services in reach (s1 in Guerrero, s2 national); s3 is not
    assert result["gaps"] == [
        {"need": "shelter", "reasons": ["complaint_required", "sex"]},
        {"need": "legal_aid", "reasons": ["none_listed"]},
    ]
    assert result["excluded"]["shelter"] == {
        "s1": ["sex"],
        "s2": ["sex", "complaint_required"],
        "s3": ["coverage", "age", "sex"],
    }
    assert [o["service"] for o in result["options"]["medical"]] == ["m1"]
    fast = route_case(record, cat, include_excluded=False).to_json()
    assert "excluded" not in fast and fast["gaps"] == result["gaps"]


def test_a_result_keeps_codes_and_renders_texts_in_either_language(
    make_record: Make, make_catalogue: MakeCat
) -> None:
    cat = make_catalogue(
        service_data("svc-x", coverage=["MX-TLA"], specializations=["sexual_exploitation"]),
        service_data("svc-y", capacity_available=2),
    )
    record = make_record(needs=["shelter"], indicators=["commercial_sex"], nationality="GT")
    result = route_case(record, cat)
    first, second = result.options["shelter"]
    assert (first.service, first.rank) == ("svc-x", 1)
    assert first.why[:2] == (
        WhyItFits(Why.serves_state, "MX-TLA"),
        WhyItFits(Why.specialized_in, "sexual_exploitation"),
    )
    assert WhyItFits(Why.free_places, 2) in second.why
    assert [a.code for a in result.alerts][:2] == ["no_detention", "humanitarian_visa"]
    spanish, english = result.to_json("es"), result.to_json("en")
    assert spanish == routed(record, cat, "es") and english == routed(record, cat, "en")
    assert spanish["options"]["shelter"][0]["why"][0] == "Atiende en Tlaxcala"
    assert english["options"]["shelter"][0]["why"][0] == "Serves Tlaxcala"
    assert spanish["alerts"][0]["text"] != english["alerts"][0]["text"]
    assert {k: v for k, v in spanish.items() if k not in ("options", "alerts")} == {
        k: v for k, v in english.items() if k not in ("options", "alerts")
    }


def test_a_result_cannot_be_changed(make_record: Make, make_catalogue: MakeCat) -> None:
    result = route_case(make_record(needs=["shelter"]), make_catalogue(service_data("s1")))
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.rules_version = "forged"  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.options["shelter"] = ()  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.options["shelter"][0].rank = 9  # type: ignore[misc]


def test_gap_sentences(make_record: Make, make_catalogue: MakeCat) -> None:
    cat = make_catalogue()
    assert cat.gap_sentences("shelter", ["coverage"], "en", "MX-GRO") == [
        "no Shelter service serves Guerrero"
    ]
    assert cat.gap_sentences("shelter", ["none_listed"], "es", "unknown")[0].startswith(
        "el directorio"
    )


# --- 2.4 alerts ---------------------------------------------------------------------------


def alerts_of(make_record: Make, cat: Catalogue, **kw: Any) -> list[str]:
    return [a["code"] for a in routed(make_record(**kw), cat)["alerts"]]


LIKELY_FL = ["deceived_job_nature", "deceived_conditions", "forced_criminal_activity", "threats"]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, []),
        ({"immediate_danger": True}, ["immediate_danger"]),
        ({"age": None}, ["presumed_minor", "child_protection_notice"]),
        ({"age": None, "clearly_adult": True}, []),
        ({"age": 16}, ["child_protection_notice"]),
        ({"indicators": ["forced_criminal_activity"]}, ["non_punishment"]),
        ({"indicators": ["violence"], "encounter": "arrest"}, ["non_punishment", "no_detention"]),
        (
            {"indicators": ["violence"], "encounter": "law_enforcement_operation"},
            ["non_punishment", "no_detention"],
        ),
        ({"indicators": [], "encounter": "migration_detention"}, []),
        (
            {"indicators": ["violence"], "nationality": "CU"},
            ["no_detention", "humanitarian_visa", "reflection_period", "non_refoulement"],
        ),
        ({"nationality": "CU"}, []),
        ({"nationality": "CU", "age": 15}, ["child_protection_notice", "humanitarian_visa"]),
        (
            {"migration_status": "asylum_seeker", "nationality": "HN"},
            ["humanitarian_visa", "non_refoulement"],
        ),
        ({"migration_status": "refugee", "nationality": "MX"}, ["non_refoulement"]),
        ({"indicators": LIKELY_ADULT, "cross_border": True}, ["federal_jurisdiction"]),
        ({"indicators": LIKELY_ADULT, "organized_crime": True}, ["federal_jurisdiction"]),
        ({"indicators": LIKELY_ADULT, "official_involvement": True}, ["federal_jurisdiction"]),
        ({"indicators": ["violence"], "official_involvement": True}, ["federal_jurisdiction"]),
        ({"indicators": ["isolation"], "official_involvement": True}, []),
        (
            {"indicators": LIKELY_ADULT, "vulnerabilities": ["indigenous"]},
            ["aggravating_vulnerability"],
        ),
        ({"indicators": LIKELY_ADULT, "vulnerabilities": ["drug_dependency"]}, []),
        ({"indicators": ["violence"], "vulnerabilities": ["pregnant"]}, []),
        (
            {"indicators": ["commercial_sex"], "age": 14},
            ["child_protection_notice", "aggravating_vulnerability"],
        ),
    ],
)
def test_alerts(
    overrides: dict, expected: list[str], make_record: Make, make_catalogue: MakeCat
) -> None:
    assert alerts_of(make_record, make_catalogue(), **overrides) == expected


def test_voluntary_shelter_only_with_a_shelter_option(
    make_record: Make, make_catalogue: MakeCat
) -> None:
    with_shelter = make_catalogue(service_data("s1"))
    closed = make_catalogue(service_data("s1", status="inactive"))
    assert alerts_of(make_record, with_shelter, needs=["shelter"]) == ["voluntary_shelter"]
    assert alerts_of(make_record, closed, needs=["shelter"]) == []
    assert alerts_of(make_record, with_shelter, needs=[]) == []


def test_alerts_follow_table_order_with_source_and_text(
    make_record: Make, make_catalogue: MakeCat
) -> None:
    cat = make_catalogue(service_data("s1"))
    record = make_record(
        age=None,
        immediate_danger=True,
        nationality="GT",
        migration_status="asylum_seeker",
        encounter="migration_detention",
        indicators=["commercial_sex", "forced_criminal_activity"],
        organized_crime=True,
        needs=["shelter"],
    )
    alerts = routed(record, cat, "en")["alerts"]
    assert [a["code"] for a in alerts] == [
        "immediate_danger",
        "presumed_minor",
        "child_protection_notice",
        "non_punishment",
        "no_detention",
        "humanitarian_visa",
        "reflection_period",
        "non_refoulement",
        "federal_jurisdiction",
        "aggravating_vulnerability",
        "voluntary_shelter",
    ]
    assert alerts[3] == {
        "code": "non_punishment",
        "source": "LGPSEDMTP Art. 37",
        "text": alerts[3]["text"],
    }
    assert "911" in alerts[0]["text"]
    es = routed(record, cat)["alerts"]
    # sources come in the reader's language (v4)
    assert es[4]["source"] == "LGPSEDMTP Art. 38, 75 y 90 VI"
    assert alerts[4]["source"] == "LGPSEDMTP Art. 38, 75 and 90 VI"
    assert es[0]["text"] != alerts[0]["text"]


# --- versions and the real seeds -----------------------------------------------------------


def test_rules_version_tracks_seeds_and_directory(
    make_record: Make, make_catalogue: MakeCat
) -> None:
    a = make_catalogue(version="v1")
    b = make_catalogue(version="v2")
    assert a.rules_version.endswith("/v1") and b.rules_version.endswith("/v2")
    assert a.rules_version.split("/")[0] == b.rules_version.split("/")[0]
    assert route_case(make_record(), a).rules_version == a.rules_version


def test_unsupported_language_is_refused(make_record: Make, make_catalogue: MakeCat) -> None:
    with pytest.raises(ValueError, match="lang"):
        route_case(make_record(), make_catalogue()).to_json("fr")


def test_seeded_directory_man_in_guerrero_has_no_trafficking_shelter(
    make_record: Make, seeded_catalogue: Catalogue
) -> None:
    record = make_record(
        sex="male", age=35, state="MX-GRO", needs=["shelter"], indicators=LIKELY_ADULT
    )
    result = routed(record, seeded_catalogue)
    for option in result["options"]["shelter"]:
        service = seeded_catalogue.services_by_id[option["service"]]
        assert "trafficking_specialized" not in service.tags
    trafficking = [
        sid
        for sid, s in seeded_catalogue.services_by_id.items()
        if s.need == "shelter" and "trafficking_specialized" in s.tags
    ]
    assert trafficking
    for sid in trafficking:
        assert "sex" in result["excluded"]["shelter"][sid]


def test_code_lists_and_labels(seeded_catalogue: Catalogue) -> None:
    lists = seeded_catalogue.code_lists("en")
    for name in (
        "sexes",
        "needs",
        "forms",
        "alerts",
        "exclusion_reasons",
        "states",
        "indicators",
        "nationalities",
    ):
        assert lists[name] and all({"code", "label"} <= set(row) for row in lists[name])
    assert {"code": "unknown", "label": "Location not known"} in lists["states"]
    assert seeded_catalogue.label("needs", "shelter", "es") == "Albergue o refugio"
    assert seeded_catalogue.label("states", "MX-CMX", "en") == "Mexico City"
    assert seeded_catalogue.label("languages", "xyz", "en") == "xyz"
    assert [i.code for i in seeded_catalogue.indicators][:2] == [
        "deceived_job_nature",
        "deceived_conditions",
    ]
