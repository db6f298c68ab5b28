"""The case list: who the case is about without a name, what waits, filters and sort in SQL,
within the user's reach."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import col, func, select

from referral.casework.models import Case, Gap, Referral
from referral.db import get_db, utcnow
from tests.conftest import csrf_token
from tests.factories import answers_marking, fill_all, submit
from tests.intake.test_referrals import options, refer


@pytest.fixture
def screener(make_user):
    return make_user("screener", ("MX-CHP",))


@pytest.fixture
def client_in(client, screener, login):
    login(client, screener)
    client.get("/language/en")
    return client


def new_case(client, overrides=None) -> str:
    response = submit(client, fill_all(client, overrides))
    return re.search(r"/cases/(RT-[A-Z0-9-]+)", response.headers["Location"]).group(1)


def row_of(page: str, code: str) -> str:
    match = re.search(rf'<tr id="case-{code}">(.*?)</tr>', page, re.S)
    assert match, code
    return match.group(1)


def listed(page: str) -> list[str]:
    return re.findall(r'<tr id="case-(RT-[A-Z0-9-]+)">', page)


GIRL = {"person": {"age": "15", "sex": "female", "nationality": "HN"}}
MAN = {
    "encounter": {"encounter": "labor_inspection", "state": "MX-CHP", "setting": "rural"},
    "person": {
        "age": "34",
        "sex": "male",
        "nationality": "MX",
        "migration_status": "national",
        "vulnerabilities": [],
    },
    "indicators": answers_marking("wages_withheld", threats="not_asked", commercial_sex="no"),
}


def test_columns_describe_the_case_without_names(app, client_in) -> None:
    girl = new_case(client_in, GIRL)
    client_in.get("/cases")
    page = client_in.get("/cases").get_data(as_text=True)
    headers = re.findall(r'<th scope="col">(.*?)</th>', page)
    assert headers == [
        "Case code",
        "Age",
        "Sex",
        "Nationality",
        "Encounter",
        "State",
        "Screening result",
        "Open gaps",
        "Referrals awaiting an answer",
        "Last activity",
    ]
    row = row_of(page, girl)
    assert "12 to 17" in row and "girl" in row and "Honduras" in row
    assert "Immigration detention" in row and "Chiapas" in row
    assert "2 of 35 questions asked" in row  # a supervisor sees how complete it is
    assert "Habla poco." not in page  # notes never listed


def test_awaiting_referrals_gaps_and_last_activity(app, client_in) -> None:
    code = new_case(client_in, GIRL)
    other = new_case(client_in, MAN)
    refer(client_in, code, "shelter", options(app, code)["shelter"][0]["service"])
    page = client_in.get("/cases").get_data(as_text=True)
    cells = re.findall(r"<td>(.*?)</td>", row_of(page, code), re.S)
    assert cells[-2].strip() == "1"  # one referral awaiting an answer
    assert listed(page)[0] == code  # the referral made it the latest activity
    page = client_in.get("/cases?attention=awaiting").get_data(as_text=True)
    assert listed(page) == [code]
    page = client_in.get("/cases?sort=oldest_activity").get_data(as_text=True)
    assert listed(page) == [other, code]


def test_filters_by_person_encounter_and_state(app, client_in) -> None:
    girl = new_case(client_in, GIRL)
    man = new_case(client_in, MAN)
    assert listed(client_in.get("/cases?sex=male").get_data(as_text=True)) == [man]
    assert listed(client_in.get("/cases?age_band=12-17").get_data(as_text=True)) == [girl]
    assert listed(client_in.get("/cases?age_band=30-59").get_data(as_text=True)) == [man]
    assert listed(client_in.get("/cases?nationality=HN").get_data(as_text=True)) == [girl]
    page = client_in.get("/cases?encounter=labor_inspection").get_data(as_text=True)
    assert listed(page) == [man]
    assert listed(client_in.get("/cases?state=MX-GRO").get_data(as_text=True)) == []
    both = client_in.get("/cases?state=MX-CHP&sex=bogus&age_band=nope").get_data(as_text=True)
    assert sorted(listed(both)) == sorted([girl, man])  # unknown values are ignored
    page = client_in.get("/cases?sex=female&page=1").get_data(as_text=True)
    assert "selected>Female</option>" in page  # the filter stays chosen


def test_sort_by_open_gaps(app, client_in) -> None:
    girl = new_case(client_in, GIRL)
    man = new_case(client_in, MAN)
    token = csrf_token(client_in, f"/cases/{man}")
    for need, provider in (("medical", "Clínica A"), ("legal_aid", "Despacho B")):
        client_in.post(
            f"/cases/{man}/referrals/ad-hoc",
            data={"csrf_token": token, "need": need, "provider": provider, "reason": "Cerca"},
        )
    with get_db(app).session() as session:
        open_gaps = {
            code: session.exec(
                select(func.count())
                .select_from(Gap)
                .join(Case, Case.id == Gap.case_id)
                .where(Case.code == code, col(Gap.closed_at).is_(None))
            ).one()
            for code in (girl, man)
        }
    assert open_gaps[man] > open_gaps[girl]
    assert listed(client_in.get("/cases?sort=gaps").get_data(as_text=True)) == [man, girl]
    assert listed(client_in.get("/cases?sort=first_screened").get_data(as_text=True)) == [
        man,
        girl,
    ]
    assert listed(client_in.get("/cases?attention=gaps").get_data(as_text=True)) == [
        c for c in (man, girl) if open_gaps[c]
    ]


def test_the_list_stays_within_reach(app, client_in, make_user, login) -> None:
    mine = new_case(client_in, GIRL)
    outsider = app.test_client()
    login(outsider, make_user("screener", ("MX-CHP",)))
    assert mine not in outsider.get("/cases?state=MX-CHP").get_data(as_text=True)
    boss = app.test_client()
    login(boss, make_user("supervisor", ("MX-GRO",)))
    assert mine not in boss.get("/cases?sort=gaps").get_data(as_text=True)
    chiapas = app.test_client()
    login(chiapas, make_user("supervisor", ("MX-CHP",)))
    assert listed(chiapas.get("/cases?sort=awaiting&sex=female").get_data(as_text=True)) == [mine]


def test_stale_referrals_filter(app, client_in) -> None:
    code = new_case(client_in, GIRL)
    refer(client_in, code, "shelter", options(app, code)["shelter"][0]["service"])
    assert listed(client_in.get("/cases?attention=stale").get_data(as_text=True)) == []
    with get_db(app).transaction() as session:
        referral = session.exec(select(Referral)).one()
        referral.updated_at = utcnow() - timedelta(days=8)
        session.add(referral)
    assert listed(client_in.get("/cases?attention=stale").get_data(as_text=True)) == [code]
