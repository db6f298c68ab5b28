"""The service directory seed reproduces what the report and the law say about services.

Standalone: reads seeds/services.yaml with PyYAML and checks it against the report
(seeds/report.txt) and CONTRACT.md section 4, without the rules core.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from referral.seeds.report import load_report

ROOT = Path(__file__).resolve().parents[1]
SERVICES_FILE = ROOT / "seeds" / "services.yaml"
REPORT_FILE = ROOT / "seeds" / "report.txt"
DOCS_FILE = ROOT / "docs" / "services.md"
LAW_DIR = ROOT / "tests" / "data" / "mx-law"  # see tests/data/README.md

STATES = [
    "MX-AGU",
    "MX-BCN",
    "MX-BCS",
    "MX-CAM",
    "MX-CHP",
    "MX-CHH",
    "MX-CMX",
    "MX-COA",
    "MX-COL",
    "MX-DUR",
    "MX-GUA",
    "MX-GRO",
    "MX-HID",
    "MX-JAL",
    "MX-MEX",
    "MX-MIC",
    "MX-MOR",
    "MX-NAY",
    "MX-NLE",
    "MX-OAX",
    "MX-PUE",
    "MX-QUE",
    "MX-ROO",
    "MX-SLP",
    "MX-SIN",
    "MX-SON",
    "MX-TAB",
    "MX-TAM",
    "MX-TLA",
    "MX-VER",
    "MX-YUC",
    "MX-ZAC",
]
NEEDS = [
    "shelter",
    "protection",
    "medical",
    "psychological",
    "legal_aid",
    "prosecution",
    "child_protection",
    "immigration",
    "asylum",
    "labor_rights",
    "consular",
    "interpretation",
    "victim_registration",
    "identity_documents",
    "basic_needs",
    "repatriation",
    "reintegration",
]
FORMS = [
    "sexual_exploitation",
    "forced_labor",
    "forced_begging",
    "forced_criminality",
    "illegal_adoption",
    "forced_marriage",
    "unspecified",
]
REQUIRED_KEYS = [
    "id",
    "name",
    "need",
    "status",
    "operator",
    "coverage",
    "min_age",
    "max_age",
    "sexes",
    "male_max_age",
    "accepts_foreign",
    "languages",
    "capacity_available",
    "requires_complaint",
    "requires_victim_status",
    "accepts_companions",
    "companion_max_age_male",
    "specializations",
    "tags",
    "source",
]
OPTIONAL_KEYS = {
    "how_to_refer",
    "contact",
    "hours",
    "required_documents",
    "last_verified",
    "confidential",
    "caveats",
    "nationalities",
}
BILINGUAL_KEYS = ("name", "how_to_refer", "contact", "hours")

# Citations: report paragraph ids and articles of the three laws in reference/mx-law/.
PARAGRAPH_ID = re.compile(
    r"\b(SUMMARY|RECOMMENDATIONS|PROSECUTION|PROTECTION|PREVENTION|PROFILE) ¶(\d+)"
)
LAW_ARTICLE = re.compile(r"\b(LGPSEDMTP|Ley de Migración|LGDNNA) Art\. (\d+)")
LAW_FILES = {
    "LGPSEDMTP": "ley-general-trata-de-personas.md",
    "Ley de Migración": "ley-de-migracion.md",
    "LGDNNA": "ley-general-derechos-ninas-ninos-adolescentes.md",
}
LAW_LAST_ARTICLE = {"LGPSEDMTP": 126, "Ley de Migración": 162, "LGDNNA": 154}

# A phone number (7+ digits, separators allowed) or street-address wording.
PHONE = re.compile(r"\+?\d[\d\s().-]{5,}\d")
ADDRESS = re.compile(
    r"\b(calle|avenida|av\.|col\.|colonia|c\.\s?p\.|código postal|street|st\.|ave\.|"
    r"boulevard|blvd\.?|esquina|no\.\s*\d|núm\.\s*\d|#\s*\d|suite|piso \d)",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def services() -> list[dict]:
    data = yaml.safe_load(SERVICES_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and list(data) == ["services"]
    assert isinstance(data["services"], list)
    return data["services"]


@pytest.fixture(scope="module")
def report_ids() -> set[str]:
    return set(load_report(REPORT_FILE))


@pytest.fixture(scope="module")
def docs() -> str:
    return DOCS_FILE.read_text(encoding="utf-8")


def by_need(services: list[dict], need: str) -> list[dict]:
    return [s for s in services if s["need"] == need]


def trafficking_shelters(services: list[dict]) -> list[dict]:
    return [s for s in by_need(services, "shelter") if "trafficking_specialized" in s["tags"]]


def texts_of(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in texts_of(v)]
    if isinstance(value, list):
        return [t for v in value for t in texts_of(v)]
    return []


def is_state_specific(s: dict) -> bool:
    return s["coverage"] != ["national"]


# --- shape (CONTRACT section 4) -------------------------------------------------------


def test_every_entry_has_exactly_the_contract_keys(services):
    for s in services:
        keys = set(s)
        assert set(REQUIRED_KEYS) <= keys, (s.get("id"), set(REQUIRED_KEYS) - keys)
        assert keys - set(REQUIRED_KEYS) <= OPTIONAL_KEYS, (s["id"], keys - set(REQUIRED_KEYS))


def test_ids_are_unique_kebab_case_and_carry_the_state(services):
    ids = [s["id"] for s in services]
    assert len(ids) == len(set(ids))
    for s in services:
        assert re.fullmatch(r"svc(-[a-z0-9]+)+", s["id"]), s["id"]
        if len(s["coverage"]) == 1 and s["coverage"][0] != "national":
            state = s["coverage"][0].removeprefix("MX-").lower()
            assert s["id"].startswith(f"svc-{state}-"), s["id"]


def test_every_text_is_bilingual(services):
    for s in services:
        for key in BILINGUAL_KEYS:
            if key in s or key == "name":
                assert set(s[key]) == {"es", "en"}, (s["id"], key)
                assert all(isinstance(t, str) and t.strip() for t in s[key].values())
        for doc in s.get("required_documents", []):
            assert set(doc) == {"es", "en"}, s["id"]
    names_es = [s["name"]["es"] for s in services]
    names_en = [s["name"]["en"] for s in services]
    assert len(set(names_es)) == len(names_es)
    assert len(set(names_en)) == len(names_en)


def test_codes_and_values_are_in_the_contract_lists(services):
    for s in services:
        assert s["need"] in NEEDS, s["id"]
        assert s["status"] in {"active", "inactive", "temporarily_closed", "defunct"}
        assert s["operator"] in {"government", "ngo", "international"}, s["id"]
        assert s["coverage"] == ["national"] or (
            s["coverage"] and set(s["coverage"]) <= set(STATES)
        ), s["id"]
        assert s["sexes"] and set(s["sexes"]) <= {"female", "male", "intersex"}, s["id"]
        assert set(s["specializations"]) <= set(FORMS), s["id"]
        assert s["languages"] and all(re.fullmatch(r"[a-z]{2,3}", x) for x in s["languages"])
        assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", t) for t in s["tags"]), s["id"]
        for key in ("coverage", "sexes", "languages", "tags", "specializations"):
            assert len(set(s[key])) == len(s[key]), (s["id"], key)
        for key in (
            "accepts_foreign",
            "requires_complaint",
            "requires_victim_status",
            "accepts_companions",
        ):
            assert isinstance(s[key], bool), (s["id"], key)
        for key in ("min_age", "max_age", "male_max_age"):
            assert s[key] is None or (type(s[key]) is int and 0 <= s[key] <= 120), s["id"]
        cmax = s["companion_max_age_male"]
        assert cmax is None or (type(cmax) is int and 0 <= cmax <= 17), s["id"]
        if s["min_age"] is not None and s["max_age"] is not None:
            assert s["min_age"] <= s["max_age"], s["id"]
        if s["male_max_age"] is not None:
            assert "male" in s["sexes"], s["id"]


def test_government_services_accept_foreign_victims(services):
    # PROTECTION ¶8: by law foreign victims get the same services, whatever their status.
    government = [s for s in services if s["operator"] == "government"]
    assert government
    assert all(s["accepts_foreign"] for s in government)


def test_capacity_is_unknown_because_the_report_gives_none(services):
    assert all(s["capacity_available"] is None for s in services)


def test_no_phone_number_or_street_address_anywhere(services):
    for s in services:
        for key, value in s.items():
            if key == "source":
                continue  # citations hold article numbers, not contact data
            for text in texts_of(value):
                assert not PHONE.search(text), (s["id"], key, text)
                assert not ADDRESS.search(text), (s["id"], key, text)


def test_address_and_phone_patterns_do_catch_invented_contact_data():
    assert PHONE.search("Llame al 800 553 3000")
    assert PHONE.search("+52 (55) 5346-0000")
    assert ADDRESS.search("Calle Insurgentes 20, Col. Centro")
    assert ADDRESS.search("Av. Reforma 211")
    assert not PHONE.search("24 horas, todos los días.")
    assert not ADDRESS.search("La oficina del Registro Civil del municipio o del estado.")


# --- sources ----------------------------------------------------------------------------


def test_every_source_cites_a_report_paragraph_or_a_law_article(services, report_ids):
    for s in services:
        source = s["source"]
        paragraphs = [f"{m[0]} ¶{m[1]}" for m in PARAGRAPH_ID.findall(source)]
        articles = LAW_ARTICLE.findall(source)
        assert paragraphs or articles, s["id"]
        for pid in paragraphs:
            assert pid in report_ids, (s["id"], pid)
        for law, number in articles:
            assert 1 <= int(number) <= LAW_LAST_ARTICLE[law], (s["id"], law, number)


def test_cited_law_articles_exist_in_the_reference_texts(services):
    if not LAW_DIR.is_dir():
        pytest.skip(f"law texts not present at {LAW_DIR}")
    articles: dict[str, set[int]] = {}
    for law, file in LAW_FILES.items():
        text = (LAW_DIR / file).read_text(encoding="utf-8")
        articles[law] = {int(n) for n in re.findall(r"^### Artículo (\d+)", text, re.M)}
    for s in services:
        for law, number in LAW_ARTICLE.findall(s["source"]):
            assert int(number) in articles[law], (s["id"], law, number)


def test_illustrative_entries_say_so_in_their_source(services):
    for s in services:
        if "illustrative" in s["tags"]:
            assert re.search(r"illustrative|placeholder", s["source"]), s["id"]


# --- PROTECTION ¶7: the 15 specialized trafficking shelters ------------------------------


def test_fifteen_specialized_trafficking_shelters_all_federally_funded(services):
    shelters = trafficking_shelters(services)
    assert len(shelters) == 15
    assert all("federally_funded" in s["tags"] for s in shelters)
    assert all("PROTECTION ¶7" in s["source"] for s in shelters)
    # Only these 15 are federally funded shelters: the report counts no others.
    funded = [s for s in by_need(services, "shelter") if "federally_funded" in s["tags"]]
    assert len(funded) == 15


def test_eight_trafficking_shelters_are_run_by_ngos_the_rest_by_government(services):
    operators = Counter(s["operator"] for s in trafficking_shelters(services))
    assert operators == {"ngo": 8, "government": 7}


def test_two_trafficking_shelters_specialize_in_foreign_victims(services):
    foreign = [s for s in trafficking_shelters(services) if "foreign_victims" in s["tags"]]
    assert len(foreign) == 2
    assert all(s["accepts_foreign"] for s in foreign)
    assert [s for s in services if "foreign_victims" in s["tags"]] == foreign


def test_trafficking_shelter_placement_is_illustrative(services):
    for s in trafficking_shelters(services):
        assert "illustrative" in s["tags"], s["id"]
        assert len(s["coverage"]) == 1 and s["coverage"][0] in STATES, s["id"]


def test_shelters_keep_their_location_confidential(services):
    assert all(s.get("confidential") is True for s in by_need(services, "shelter"))


# --- PROTECTION ¶6: no trafficking shelter for men, few for boys over 13 -----------------


def accepts_adult_men(s: dict) -> bool:
    if "male" not in s["sexes"]:
        return False
    if s["max_age"] is not None and s["max_age"] < 18:
        return False
    return s["male_max_age"] is None or s["male_max_age"] >= 18


def test_no_trafficking_shelter_accepts_men(services):
    for s in trafficking_shelters(services):
        assert not accepts_adult_men(s), s["id"]
        assert "female" in s["sexes"] and "male" in s["sexes"], s["id"]


def test_few_trafficking_shelters_accept_boys_older_than_13(services):
    shelters = trafficking_shelters(services)
    older = [s for s in shelters if s["male_max_age"] > 13]
    assert 1 <= len(older) <= 2  # "few"
    assert all(s["male_max_age"] == 17 for s in older)
    assert all(s["male_max_age"] == 13 for s in shelters if s not in older)


def test_mothers_with_teenage_sons_are_limited_the_same_way(services):
    for s in trafficking_shelters(services):
        assert s["accepts_companions"] is True, s["id"]
        assert s["companion_max_age_male"] == s["male_max_age"], s["id"]
    limited = [s for s in trafficking_shelters(services) if s["companion_max_age_male"] == 13]
    assert len(limited) >= 13


def test_men_can_be_sheltered_only_outside_trafficking_shelters(services):
    for_men = [s for s in by_need(services, "shelter") if accepts_adult_men(s)]
    assert for_men
    for s in for_men:
        assert "trafficking_specialized" not in s["tags"], s["id"]
        assert {"crime_victim_shelter", "migrant_shelter"} & set(s["tags"]), s["id"]
    # Other shelters for victims of crime can assist (PROTECTION ¶7).
    crime = [s for s in for_men if "crime_victim_shelter" in s["tags"]]
    assert crime and all("PROTECTION ¶7" in s["source"] for s in crime)
    # Men are not sheltered in every state: "particularly inadequate for male victims".
    covered = {c for s in for_men for c in s["coverage"]}
    assert "national" not in covered
    assert covered < set(STATES)


def is_dif_care_centre(s: dict) -> bool:
    return s["id"].endswith("-dif-care-centre")


def test_every_shelter_is_a_trafficking_crime_victim_migrant_or_dif_shelter(services):
    kinds = {"trafficking_specialized", "crime_victim_shelter", "migrant_shelter"}
    for s in by_need(services, "shelter"):
        if is_dif_care_centre(s):
            assert not kinds & set(s["tags"]), s["id"]
        else:
            assert len(kinds & set(s["tags"])) == 1, s["id"]


# --- PROTECTION ¶7: 39 NGO migrant shelters in Chiapas, one network entry ----------------


def test_the_39_ngo_migrant_shelters_in_chiapas_are_one_network_entry(services):
    migrant = [s for s in services if "migrant_shelter" in s["tags"]]
    assert [s["id"] for s in migrant] == ["svc-chp-migrant-shelter-network"]
    (s,) = migrant
    assert s["need"] == "shelter" and s["operator"] == "ngo" and s["coverage"] == ["MX-CHP"]
    assert s["accepts_foreign"] is True and "illustrative" in s["tags"]
    assert "39 NGOs in Chiapas" in s["source"] and "PROTECTION ¶7" in s["source"]
    # The report does not say they take men; children alone go to DIF (LGDNNA Art. 94-95).
    assert "men" not in s["how_to_refer"]["en"].replace("women", "")
    assert "hombres" not in s["how_to_refer"]["es"]
    assert "LGDNNA Art. 94-95" in s["source"]
    assert "DIF" in s["how_to_refer"]["es"] and "DIF" in s["how_to_refer"]["en"]
    assert not any(x["id"].startswith("svc-chp-migrant-shelter-") and x is not s for x in services)


# --- PROTECTION ¶8: "some states" require a complaint or victim status: a caveat ----------


def caveat_sources(s: dict) -> list[str]:
    return [c["source"] for c in s.get("caveats", [])]


def test_no_named_shelter_requires_what_only_some_states_require(services):
    for s in trafficking_shelters(services):
        assert s["requires_complaint"] is False and s["requires_victim_status"] is False
    for sid in ("svc-cmx-trafficking-shelter-federal", "svc-chh-trafficking-shelter-federal"):
        (s,) = [x for x in services if x["id"] == sid]
        assert any("official victim status" in c["en"] for c in s["caveats"])
        assert "PROTECTION ¶8" in caveat_sources(s)
    for sid in ("svc-mex-trafficking-shelter-state", "svc-que-trafficking-shelter-state"):
        (s,) = [x for x in services if x["id"] == sid]
        assert any("complaint" in c["en"] for c in s["caveats"])
        assert "PROTECTION ¶8" in caveat_sources(s)


def test_court_proceeding_services_require_a_criminal_complaint(services):
    court = [s for s in services if "court_proceedings" in s["tags"]]
    assert {s["need"] for s in court} >= {"legal_aid", "psychological", "protection"}
    assert all(s["requires_complaint"] for s in court)


def test_federal_protection_programme_has_no_complaint_condition(services):
    (s,) = [x for x in services if x["id"] == "svc-fgr-federal-protection-program"]
    assert s["requires_complaint"] is False and "court_proceedings" not in s["tags"]
    assert "LGPSEDMTP Art. 83" in s["source"]
    assert "organized" not in s["how_to_refer"]["en"]


def test_femdo_takes_organized_crime_cases_anywhere(services):
    (s,) = [x for x in services if x["id"] == "svc-femdo"]
    assert "territory" not in s["how_to_refer"]["en"]
    assert "Art. 5 V" in s["how_to_refer"]["en"] and "Art. 126" in s["how_to_refer"]["en"]


# --- trafficking shelters: caveats, labelled assumptions -------------------------------------


def test_trafficking_shelters_carry_the_laws_exception_and_the_reports_findings(services):
    for s in trafficking_shelters(services):
        assert "intersex" in s["sexes"], s["id"]
        assert "labelled assumption" in s["source"], s["id"]
        assert "LGPSEDMTP Art. 90 V" in caveat_sources(s), s["id"]
        for text in (s["how_to_refer"]["en"], s["contact"]["en"]):
            assert "hotline" not in text, s["id"]  # admission by hotline: no source says it
        if s["operator"] == "government":
            assert "PROTECTION ¶7" in caveat_sources(s), s["id"]


def test_every_caveat_cites_a_report_paragraph_or_a_law(services, report_ids):
    seen = 0
    for s in services:
        for c in s.get("caveats", []):
            seen += 1
            cited = c["source"] in report_ids or c["source"].startswith("LGPSEDMTP Art.")
            assert cited, (s["id"], c["source"])
    assert seen


def test_the_reports_caveats_reach_the_services_they_concern(services):
    def with_caveat(source: str) -> set[str]:
        return {s["need"] for s in services if source in caveat_sources(s)}

    assert "immigration" in with_caveat("PROTECTION ¶9")  # no humanitarian visa in 2024
    assert "labor_rights" in with_caveat("PREVENTION ¶5")  # inspections announced
    assert "prosecution" in with_caveat("PROTECTION ¶10")  # no restitution fund
    assert {"immigration", "shelter"} <= with_caveat("PROFILE ¶4")  # extortion by officials
    assert "shelter" in with_caveat("PROTECTION ¶6")  # housed only for the trial


# --- consulates, interpretation, repatriation ------------------------------------------------


def test_consular_services_say_whom_they_serve(services):
    by_id = {s["id"]: s for s in services}
    assert by_id["svc-sre-consular-protection"]["nationalities"] == ["MX"]
    assert "country_of_origin" in by_id["svc-foreign-consular-assistance"]["tags"]
    assert "LGPSEDMTP Art. 64" in by_id["svc-sre-consular-protection"]["source"]


def test_english_assistance_is_not_interpretation(services):
    interpreters = [s for s in by_need(services, "interpretation") if s["status"] != "defunct"]
    assert interpreters == []
    (s,) = [x for x in services if x["id"] == "svc-hotline-english"]
    assert s["status"] == "defunct" and "Art. 90 I" in s["source"]


def test_repatriation_in_tamaulipas_is_illustrative(services):
    (s,) = [x for x in services if x["id"] == "svc-tam-repatriation"]
    assert "illustrative" in s["tags"]


# --- LGPSEDMTP Art. 5 and LGDNNA Art. 94, 122: what every state has by law -------------------


def test_every_state_has_its_ordinary_prosecutor_and_dif_care_centres(services):
    from referral.seeds.state_services import state_entries

    generated = state_entries()
    assert len(generated) == 2 * len(STATES)
    by_id = {s["id"]: s for s in services}
    for entry in generated:
        assert by_id[entry["id"]] == entry  # services.yaml is what the script writes
    for code in STATES:
        mine = [e for e in generated if e["coverage"] == [code]]
        needs = sorted(e["need"] for e in mine)
        assert needs == ["prosecution", "shelter"], code
        for e in mine:
            assert e["operator"] == "government" and "illustrative" not in e["tags"]
            assert "not a verified address" in e["source"]
            assert not re.search(r"\d{3}", e["contact"]["es"] + e["contact"]["en"])
        prosecutor = next(e for e in mine if e["need"] == "prosecution")
        assert "LGPSEDMTP Art. 5" in prosecutor["source"]
        care = next(e for e in mine if e["need"] == "shelter")
        assert care["max_age"] == 17
        assert "LGDNNA Art. 94" in care["source"] and "Art. 122 VI a)" in care["source"]


# --- PROSECUTION ¶2 and ¶5: prosecutors --------------------------------------------------


def test_thirty_of_thirty_two_states_have_a_specialized_prosecutor(services, docs):
    state = [
        s
        for s in by_need(services, "prosecution")
        if is_state_specific(s) and "trafficking_specialized" in s["tags"]
    ]
    assert len(state) == 30
    covered = [s["coverage"][0] for s in state]
    assert all(len(s["coverage"]) == 1 for s in state)
    assert len(set(covered)) == 30
    missing = sorted(set(STATES) - set(covered))
    assert len(missing) == 2
    for s in state:
        assert "illustrative" in s["tags"], s["id"]  # which two lack one is a choice
        assert s["operator"] == "government"
        assert "PROSECUTION ¶2" in s["source"]
        for code in missing:
            assert code in s["source"], s["id"]  # the illustrative choice is stated
    for code in missing:
        assert code in docs  # and documented


def test_federal_prosecutors_fevimtra_and_femdo_cover_the_nation(services):
    federal = [s for s in by_need(services, "prosecution") if not is_state_specific(s)]
    names = " ".join(s["name"]["es"] for s in federal)
    assert "FEVIMTRA" in names and "FEMDO" in names
    assert len(federal) == 2
    for s in federal:
        assert s["coverage"] == ["national"] and s["operator"] == "government"
        assert "PROSECUTION ¶5" in s["source"]


# --- PREVENTION ¶3: the national hotline --------------------------------------------------


def test_national_hotline_gives_legal_and_psychological_help_in_spanish_and_english(services):
    hotline = [s for s in services if "hotline" in s["tags"]]
    assert {"legal_aid", "psychological"} <= {s["need"] for s in hotline}
    for s in hotline:
        assert s["coverage"] == ["national"]
        assert {"es", "en"} <= set(s["languages"])
        assert "24" in s["hours"]["es"] and "24" in s["hours"]["en"]
        assert "PREVENTION ¶3" in s["source"]
        assert s["requires_complaint"] is False and s["requires_victim_status"] is False


def test_interpretation_is_offered_only_where_a_language_is_known(services):
    interpretation = by_need(services, "interpretation")
    assert interpretation
    assert all("en" in s["languages"] for s in interpretation)


# --- child protection (LGDNNA Art. 121, LGPSEDMTP Art. 89 XI) ------------------------------


def test_every_state_has_a_dif_child_protection_office_for_minors(services):
    offices = [s for s in by_need(services, "child_protection") if is_state_specific(s)]
    assert sorted(c for s in offices for c in s["coverage"]) == sorted(STATES)
    for s in offices:
        assert s["max_age"] == 17
        assert s["min_age"] is None
        assert s["operator"] == "government"
        assert set(s["sexes"]) == {"female", "male", "intersex"}
        assert s["male_max_age"] is None
        assert "Procuraduría de Protección" in s["name"]["es"]
        assert "LGDNNA Art. 121" in s["source"]
    assert all(s["max_age"] == 17 for s in by_need(services, "child_protection"))


# --- federal authorities ------------------------------------------------------------------


def one(services: list[dict], need: str, word: str) -> dict:
    found = [s for s in by_need(services, need) if word in s["name"]["es"]]
    assert len(found) == 1, (need, word, [s["id"] for s in found])
    return found[0]


def test_inm_grants_humanitarian_visas(services):
    s = one(services, "immigration", "Razones Humanitarias para víctimas")
    assert "Instituto Nacional de Migración" in s["name"]["es"]
    assert s["coverage"] == ["national"] and s["requires_complaint"] is False
    assert "PROTECTION ¶9" in s["source"] and "Ley de Migración Art. 52" in s["source"]
    children = one(services, "immigration", "niñas, niños y adolescentes")
    assert children["max_age"] == 17 and children.get("required_documents") == []
    assert "PREVENTION ¶7" in children["source"]


def test_comar_handles_asylum(services):
    s = one(services, "asylum", "COMAR")
    assert s["coverage"] == ["national"] and s["operator"] == "government"


def test_stps_labor_inspection_for_forced_labor(services):
    s = one(services, "labor_rights", "STPS")
    assert s["specializations"] == ["forced_labor"]
    assert "PROTECTION ¶4" in s["source"] and "PREVENTION ¶5" in s["source"]


def test_ceav_registers_victims(services):
    s = one(services, "victim_registration", "CEAV")
    assert s["coverage"] == ["national"] and "PROTECTION ¶8" in s["source"]


def test_tamaulipas_assisted_a_repatriation(services):
    tam = [s for s in by_need(services, "repatriation") if s["coverage"] == ["MX-TAM"]]
    assert len(tam) == 1 and "PROTECTION ¶5" in tam[0]["source"]


def test_consular_assistance_for_mexican_victims_abroad(services):
    s = one(services, "consular", "mexicanas en el extranjero")
    assert "PROTECTION ¶4" in s["source"]


def test_services_the_report_says_the_government_provides(services):
    # PROTECTION ¶6: medical and psychological care, protection during judicial processes,
    # shelter, legal assistance and reintegration support.
    for need in ("medical", "psychological", "protection", "shelter", "legal_aid", "reintegration"):
        assert any(
            "PROTECTION ¶6" in s["source"] or "PROTECTION ¶8" in s["source"]
            for s in by_need(services, need)
        ), need


# --- every need, or an honest gap ----------------------------------------------------------


def test_every_need_has_a_service_or_is_documented_as_a_gap(services, docs):
    served = {s["need"] for s in services}
    section = docs.split("## Needs with no service", 1)
    assert len(section) == 2, "docs/services.md must list the needs with no service"
    listed = set(re.findall(r"`([a-z_]+)`", section[1].split("\n## ", 1)[0]))
    assert set(NEEDS) - served == listed & set(NEEDS)


def test_docs_list_every_entrys_basis(services, docs):
    section = docs.split("## Every entry's basis", 1)
    assert len(section) == 2
    rows = dict(re.findall(r"^\| `([a-z0-9._-]+)` \| ([^|]+) \|", section[1], re.M))
    assert set(rows) == {s["id"] for s in services}
    for s in services:
        basis = rows[s["id"]]
        assert ("demonstration" in basis) == ("illustrative" in s["tags"]), s["id"]
        assert ("labelled assumption" in basis) == ("labelled assumption" in s["source"]), s["id"]
