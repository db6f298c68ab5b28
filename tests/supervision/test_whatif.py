"""What-if on a small known data set: a shelter for men in Guerrero closes the men's shelter
gaps there and nothing else; the live directory does not change."""

from __future__ import annotations

import random
import re
from collections import Counter
from typing import Any

import pytest
from sqlmodel import func, select

from referral.access import Reach
from referral.casework.screening import CaseDetails, store_screening
from referral.db import get_db
from referral.directory.catalogue import catalogue_cache
from referral.directory.models import DirectoryVersion
from referral.rules import route_case, validate_record
from referral.supervision import whatif
from tests.factories import random_dashboard_record

BASE = {
    "clearly_adult": False, "nationality": "MX", "setting": "urban", "languages": ["es"],
    "migration_status": "national", "encounter": "hotline",
    "indicators": ["commercial_sex", "threats"], "complaint_filed": False,
    "victim_status": False, "cross_border": False, "organized_crime": False,
    "official_involvement": False,
}  # fmt: skip
PEOPLE = [
    {"age": 30, "sex": "male", "state": "MX-GRO", "needs": ["shelter"]},
    {"age": 30, "sex": "male", "state": "MX-GRO", "needs": ["shelter"]},  # identical: counted twice
    {"age": 45, "sex": "male", "state": "MX-GRO", "needs": ["shelter", "medical"]},
    {"age": 15, "sex": "male", "state": "MX-GRO", "needs": ["shelter"]},
    {"age": 30, "sex": "female", "state": "MX-GRO", "needs": ["shelter"]},
    {"age": 30, "sex": "male", "state": "MX-CHP", "needs": ["shelter"]},
    {"age": 30, "sex": "male", "state": "MX-TLA", "needs": ["shelter", "legal_aid"]},
]
MEN_SHELTER_GRO = whatif.DraftChange(
    kind="add",
    values={
        "id": "draft-gro-men", "name": {"es": "Albergue", "en": "Shelter"}, "need": "shelter",
        "status": "active", "operator": "ngo", "coverage": ["MX-GRO"], "min_age": 18,
        "max_age": None, "sexes": ["male"], "male_max_age": None, "accepts_foreign": True,
        "languages": ["es"], "capacity_available": None, "requires_complaint": False,
        "requires_victim_status": False, "accepts_companions": True,
        "companion_max_age_male": None, "specializations": [], "tags": [], "source": "draft",
    },
)  # fmt: skip


@pytest.fixture
def people(make_user) -> dict[str, Any]:
    return {
        "screener": make_user("screener", ("MX-GRO", "MX-CHP", "MX-TLA")),
        "gro": make_user("supervisor", ("MX-GRO",)),
        "admin": make_user("admin", (), national=True),
    }


@pytest.fixture
def stored(app, people) -> list[dict[str, Any]]:
    results = []
    with app.app_context(), get_db(app).transaction() as session:
        catalogue = catalogue_cache(app).get(session)
        for person in PEOPLE:
            record = validate_record({**BASE, **person}, catalogue.codes)
            _case, _screening, result = store_screening(
                session, record, catalogue, screener_id=people["screener"].id,
                details=CaseDetails(consent_referral=True, consent_statistics=True),
            )  # fmt: skip
            results.append(result.to_json())
    return results


def test_a_shelter_for_men_in_guerrero_closes_exactly_those_gaps(app, people, stored) -> None:
    with app.app_context(), get_db(app).transaction(write=False) as session:
        today = catalogue_cache(app).get(session)
        draft = whatif.draft_catalogue(today, [MEN_SHELTER_GRO], catalogue_cache(app).rules)
        records = whatif.stored_records(session, Reach.of(people["admin"]), None, None, None)
    comparison = whatif.compare(records, today, draft)
    assert comparison.screenings == len(PEOPLE)
    assert comparison.distinct == len(PEOPLE) - 1
    men_in_gro = [
        p for p, r in zip(PEOPLE, stored, strict=True)
        if p["state"] == "MX-GRO" and p["sex"] == "male" and p["age"] >= 18
        and any(g["need"] == "shelter" for g in r["gaps"])
    ]  # fmt: skip
    assert len(men_in_gro) == 3, "the seeded directory has no shelter for men in Guerrero"
    assert comparison.closed == Counter({"shelter": 3})
    assert comparison.opened == Counter()
    expected_draft = comparison.today.copy()
    expected_draft[("shelter", "MX-GRO", "male", "30-59", "adult", "national")] -= 3
    assert +expected_draft == comparison.draft
    # Today's side equals the gaps stored when the screenings were made.
    assert sum(comparison.today.values()) == sum(len(r["gaps"]) for r in stored)


def test_raising_an_age_limit_and_adding_a_language(app) -> None:
    with app.app_context(), get_db(app).transaction(write=False) as session:
        today = catalogue_cache(app).get(session)
        rules = catalogue_cache(app).rules
        shelter = next(s for s in today.services if s.need == "shelter" and s.male_max_age)
        interpretation = next(s for s in today.services if s.need == "interpretation")
        changes = [
            whatif.DraftChange("change", shelter.id, {"male_max_age": 17}),
            # the seeds' one interpretation entry is defunct (v4): the draft revives it
            whatif.DraftChange(
                "change",
                interpretation.id,
                {"status": "active"},
                add_to_lists={"languages": ["tzo"]},
            ),
        ]
        draft = whatif.draft_catalogue(today, changes, rules)
    assert draft.services_by_id[shelter.id].male_max_age == 17
    assert "tzo" in draft.services_by_id[interpretation.id].languages
    assert today.services_by_id[shelter.id].male_max_age == shelter.male_max_age  # untouched
    boy = {**BASE, "age": 16, "sex": "male", "state": shelter.coverage[0], "needs": ["shelter"],
           "languages": ["tzo"], "complaint_filed": True, "victim_status": True}  # fmt: skip
    comparison = whatif.compare([boy], today, draft)
    assert comparison.closed["interpretation"] == 1 or not any(
        g["need"] == "interpretation"
        for g in route_case(validate_record(boy, today.codes), today).to_json()["gaps"]
    )


def test_compare_matches_route_case_on_random_records(app) -> None:
    rng = random.Random(3)
    records = [random_dashboard_record(rng) for _ in range(200)]
    with app.app_context(), get_db(app).transaction(write=False) as session:
        today = catalogue_cache(app).get(session)
    comparison = whatif.compare(records, today, today)
    expected: Counter[str] = Counter()
    for raw in records:
        for gap in route_case(validate_record(raw, today.codes), today).to_json()["gaps"]:
            expected[gap["need"]] += 1
    assert dict(expected) == {need: n for need, n, _ in comparison.by("need")}
    assert comparison.today == comparison.draft and not comparison.closed


def test_the_page_compares_within_reach_and_leaves_the_directory_alone(
    app, client, login, people, stored
) -> None:
    with app.app_context(), get_db(app).transaction(write=False) as session:
        versions = session.exec(select(func.count()).select_from(DirectoryVersion)).one()
    login(client, people["gro"])
    page = client.get(
        "/supervision/what-if?run=1&add_need=shelter&add_state=MX-GRO&add_sexes=male"
        "&add_min_age=18&add_foreign=yes"
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    routed = re.search(r"<dt>[^<]+</dt><dd>(\d+)</dd>", html)
    assert routed and int(routed.group(1)) == 5  # the five Guerrero screenings only
    assert "Albergue o refugio: 3" in html
    with app.app_context(), get_db(app).transaction(write=False) as session:
        assert session.exec(select(func.count()).select_from(DirectoryVersion)).one() == versions


def test_a_draft_that_breaks_the_contract_is_explained(client, login, people) -> None:
    login(client, people["admin"])
    page = client.get("/supervision/what-if?run=1&add_need=shelter&add_min_age=40&add_max_age=20")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "La edad máxima es menor que la edad mínima" in html
