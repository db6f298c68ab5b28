"""Stored results under CONTRACT v4: earlier results stay readable and can be routed again,
and a new routing closes or updates the case's open routing gaps (section 5)."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from referral.casework.models import Case, Gap, GapReason, Screening
from referral.casework.workflow import open_gap, reroute_gaps
from referral.db import get_db, utcnow
from tests.conftest import csrf_token
from tests.factories import fill_all, submit

V3_VERSION = "6df6216bc68d/17"  # seeds digest / directory version: no contract version


@pytest.fixture
def signed_in(client, make_user, login):
    login(client, make_user("screener", ("MX-CHP",)))
    return client


def db(app) -> Session:
    return get_db(app).session()


def new_case(client) -> str:
    response = submit(client, fill_all(client))
    return re.search(r"/cases/(RT-[A-Z0-9-]+)", response.headers["Location"]).group(1)


def make_v3(app, code: str, lang: str) -> None:
    """Make the case's screening look as v3 stored it: no contract version, texts in one
    language, options without ``confirm``."""
    with db(app) as session:
        screening = session.exec(select(Screening).join(Case).where(Case.code == code)).one()
        result = dict(screening.result)
        result["options"] = {
            need: [{k: v for k, v in o.items() if k != "confirm"} for o in options]
            for need, options in result["options"].items()
        }
        result["rules_version"] = V3_VERSION
        screening.result = result
        screening.rules_version = V3_VERSION
        screening.lang = lang
        session.add(screening)
        session.commit()


def test_new_results_carry_the_v4_rules_version(app, signed_in) -> None:
    code = new_case(signed_in)
    with db(app) as session:
        screening = session.exec(select(Screening).join(Case).where(Case.code == code)).one()
    assert screening.rules_version.startswith("4/")
    assert screening.result["rules_version"] == screening.rules_version
    page = signed_in.get(f"/cases/{code}").get_data(as_text=True)
    assert 'id="earlier-rules"' not in page


def test_a_v3_result_opens_in_its_stored_language_and_offers_routing_again(app, signed_in) -> None:
    code = new_case(signed_in)
    make_v3(app, code, lang="en")
    page = signed_in.get(f"/cases/{code}?lang=es").get_data(as_text=True)
    assert 'id="earlier-rules"' in page
    # The stored codes in the reader's language: no stored English "why" or alert text.
    assert "Immediate danger" not in page and "Peligro inmediato" in page
    assert 'class="why"' not in page
    token = csrf_token(signed_in, f"/cases/{code}")
    response = signed_in.post(f"/cases/{code}/route-again", data={"csrf_token": token})
    assert response.status_code == 302 and code in response.headers["Location"]
    with db(app) as session:
        screenings = session.exec(
            select(Screening).join(Case).where(Case.code == code).order_by(Screening.id)
        ).all()
        case = session.exec(select(Case).where(Case.code == code)).one()
    assert [s.rules_version.startswith("4/") for s in screenings] == [False, True]
    assert screenings[0].record == screenings[1].record  # the same answers
    assert case.latest_screening_id == screenings[1].id
    page = signed_in.get(f"/cases/{code}").get_data(as_text=True)
    assert 'id="earlier-rules"' not in page


def test_route_again_needs_a_token(app, signed_in) -> None:
    code = new_case(signed_in)
    assert signed_in.post(f"/cases/{code}/route-again").status_code == 400


def test_a_new_routing_updates_then_closes_the_open_routing_gap(app, signed_in) -> None:
    code = new_case(signed_in)
    with db(app) as session:
        case = session.exec(select(Case).where(Case.code == code)).one()
        now = utcnow()
        gap = open_gap(session, case, need="asylum", kind="routing", reasons=["coverage"], when=now)
        session.commit()
        # still no option: the same open gap, with today's reasons (never a second record)
        reroute_gaps(session, case, {"asylum": ["sex"]}, set(), screening_id=None, when=now)
        session.commit()
        session.refresh(gap)
        assert gap.closed_at is None and gap.reasons == ["sex"]
        rows = session.exec(select(GapReason.reason).where(GapReason.gap_id == gap.id)).all()
        assert rows == ["sex"]
        # an option now: closed as rerouted
        reroute_gaps(session, case, {}, {"asylum"}, screening_id=None, when=now)
        session.commit()
        session.refresh(gap)
        assert gap.closed_at is not None and gap.closed_reason == "rerouted"
        open_asylum = session.exec(
            select(Gap).where(Gap.case_id == case.id, Gap.need == "asylum", Gap.closed_at.is_(None))
        ).all()
        assert open_asylum == []
