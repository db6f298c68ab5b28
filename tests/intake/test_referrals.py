"""Referrals: consent, one per need and service, FHIR statuses, conflicts, gaps, the sheet."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from referral.audit.models import AuditEvent
from referral.casework.models import Case, Gap, Referral, ReferralEvent
from referral.db import get_db, utcnow
from tests.conftest import csrf_token
from tests.factories import fill_all, submit


@pytest.fixture
def screener(make_user):
    return make_user("screener", ("MX-CHP",))


@pytest.fixture
def client_in(client, screener, login):
    login(client, screener)
    return client


def new_case(client, overrides=None) -> str:
    response = submit(client, fill_all(client, overrides))
    return re.search(r"/cases/(RT-[A-Z0-9-]+)", response.headers["Location"]).group(1)


def session_of(app) -> Session:
    return get_db(app).session()


def options(app, code: str) -> dict:
    with session_of(app) as session:
        case = session.exec(select(Case).where(Case.code == code)).one()
        from referral.casework.models import Screening

        return session.get(Screening, case.latest_screening_id).result["options"]


def refer(client, code: str, need: str, service: str):
    token = csrf_token(client, f"/cases/{code}")
    return client.post(
        f"/cases/{code}/referrals",
        data={"csrf_token": token, "need": need, "service_id": service},
    )


def referrals_of(app, code: str) -> list[Referral]:
    with session_of(app) as session:
        case = session.exec(select(Case).where(Case.code == code)).one()
        return list(
            session.exec(
                select(Referral).where(Referral.case_id == case.id).order_by(col(Referral.id))
            )
        )


def change(client, referral: Referral, status: str, reason: str = "", version: int | None = None):
    token = csrf_token(client, "/cases")
    return client.post(
        f"/referrals/{referral.id}/status",
        data={
            "csrf_token": token,
            "status": status,
            "reason_code": reason,
            "version": referral.version if version is None else version,
        },
    )


def gaps_of(app, code: str) -> list[Gap]:
    with session_of(app) as session:
        case = session.exec(select(Case).where(Case.code == code)).one()
        return list(session.exec(select(Gap).where(Gap.case_id == case.id)))


def test_refer_once_per_need_and_service(app, client_in) -> None:
    code = new_case(client_in)
    shelter = options(app, code)["shelter"][0]["service"]
    assert refer(client_in, code, "shelter", shelter).status_code == 302
    refer(client_in, code, "shelter", shelter)
    assert len(referrals_of(app, code)) == 1
    page = client_in.get(f"/cases/{code}").get_data(as_text=True)
    assert "Solicitada" in page


def test_no_referral_without_consent(app, client_in) -> None:
    code = new_case(client_in, {"legal": {"consent_referral": "no"}})
    shelter = options(app, code)["shelter"][0]["service"]
    refer(client_in, code, "shelter", shelter)
    assert referrals_of(app, code) == []
    page = client_in.get(f"/cases/{code}").get_data(as_text=True)
    assert "no aceptó ser canalizada" in page


def test_a_service_of_another_need_is_refused(app, client_in) -> None:
    code = new_case(client_in)
    medical = options(app, code)["medical"][0]["service"]
    refer(client_in, code, "shelter", medical)
    assert referrals_of(app, code) == []


def test_status_flow_needs_reasons_and_closes_gaps(app, client_in) -> None:
    man = {
        "person": {
            "age": "30",
            "sex": "male",
            "nationality": "MX",
            "migration_status": "national",
            "vulnerabilities": [],
        },
        "encounter": {"encounter": "labor_inspection", "state": "MX-GRO", "setting": "rural"},
    }
    code = new_case(client_in, man)
    assert any(
        g.need == "shelter" and g.kind == "routing" and g.closed_at is None
        for g in gaps_of(app, code)
    )
    medical = options(app, code)["medical"][0]["service"]
    refer(client_in, code, "medical", medical)
    referral = referrals_of(app, code)[0]
    # A rejection needs a reason; without one nothing changes.
    change(client_in, referral, "rejected")
    assert referrals_of(app, code)[0].status == "requested"
    change(client_in, referral, "rejected", "no_capacity")
    rejected = referrals_of(app, code)[0]
    assert (rejected.status, rejected.reason_code, rejected.version) == (
        "rejected",
        "no_capacity",
        2,
    )
    declined = [g for g in gaps_of(app, code) if g.kind == "declined"]
    assert len(declined) == 1 and declined[0].reasons == ["no_capacity"]
    # After a rejection the next option is offered.
    page = client_in.get(f"/cases/{code}").get_data(as_text=True)
    if len(options(app, code)["medical"]) > 1:
        assert "siguiente opción" in page
    # A rejected referral is final.
    change(client_in, rejected, "accepted")
    assert referrals_of(app, code)[0].status == "rejected"


def test_accepting_closes_the_gaps_of_that_need(app, client_in) -> None:
    code = new_case(client_in)
    need = "medical"
    with session_of(app) as session:
        case = session.exec(select(Case).where(Case.code == code)).one()
        from referral.casework.workflow import open_gap

        open_gap(session, case, need=need, kind="declined", reasons=["no_capacity"])
        session.commit()
    refer(client_in, code, need, options(app, code)[need][0]["service"])
    change(client_in, referrals_of(app, code)[0], "accepted")
    closed = [g for g in gaps_of(app, code) if g.need == need]
    assert closed and all(g.closed_at is not None for g in closed)
    assert {g.closed_reason for g in closed} == {"accepted"}
    with session_of(app) as session:
        events = session.exec(select(ReferralEvent.status).order_by(col(ReferralEvent.id))).all()
    assert events == ["requested", "accepted"]


def test_two_people_changing_one_referral_get_a_conflict(app, client_in, make_user, login) -> None:
    code = new_case(client_in)
    refer(client_in, code, "shelter", options(app, code)["shelter"][0]["service"])
    stale = referrals_of(app, code)[0]
    supervisor = app.test_client()
    login(supervisor, make_user("supervisor", ("MX-CHP",)))
    assert change(supervisor, stale, "accepted").status_code == 302
    response = change(client_in, stale, "rejected", "not_eligible")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Otra persona cambió antes esta canalización" in page
    assert "No cumple" in page or "no cumple" in page  # the loser's choice is shown back
    final = referrals_of(app, code)[0]
    assert final.status == "accepted" and final.version == 2


def test_ad_hoc_referral_is_also_a_gap(app, client_in) -> None:
    code = new_case(client_in)
    token = csrf_token(client_in, f"/cases/{code}")
    client_in.post(
        f"/cases/{code}/referrals/ad-hoc",
        data={"csrf_token": token, "need": "shelter", "provider": "Casa X", "reason": ""},
    )
    assert referrals_of(app, code) == []
    client_in.post(
        f"/cases/{code}/referrals/ad-hoc",
        data={"csrf_token": token, "need": "shelter", "provider": "Casa X", "reason": "Cercanía"},
    )
    [referral] = referrals_of(app, code)
    assert referral.service_id is None and referral.ad_hoc_provider == "Casa X"
    ad_hoc = [g for g in gaps_of(app, code) if g.kind == "ad_hoc"]
    assert len(ad_hoc) == 1 and ad_hoc[0].reasons == ["ad_hoc"]


def test_sheet_shows_the_service_and_nothing_about_the_case(app, client_in) -> None:
    code = new_case(client_in)
    refer(client_in, code, "shelter", options(app, code)["shelter"][0]["service"])
    referral = referrals_of(app, code)[0]
    spanish = client_in.get(f"/referrals/{referral.id}/sheet?lang=es").get_data(as_text=True)
    english = client_in.get(f"/referrals/{referral.id}/sheet?lang=en").get_data(as_text=True)
    assert '<html lang="es">' in spanish and '<html lang="en">' in english
    assert "A dónde acudir" in spanish and "Where to go" in english
    for page in (spanish, english):
        assert code not in page
        assert "Habla poco." not in page
        assert "Honduras" not in page


def test_stale_requested_referrals_are_flagged(app, client_in) -> None:
    code = new_case(client_in)
    refer(client_in, code, "shelter", options(app, code)["shelter"][0]["service"])
    assert "sin respuesta desde hace más de" not in client_in.get("/cases").get_data(as_text=True)
    with session_of(app) as session:
        referral = session.exec(select(Referral)).one()
        referral.updated_at = utcnow() - timedelta(days=8)
        session.add(referral)
        session.commit()
    assert "sin respuesta desde hace más de 7 días" in client_in.get("/cases").get_data(
        as_text=True
    )


def test_every_change_is_audited(app, client_in) -> None:
    code = new_case(client_in)
    client_in.get(f"/cases/{code}")
    refer(client_in, code, "shelter", options(app, code)["shelter"][0]["service"])
    change(client_in, referrals_of(app, code)[0], "accepted")
    with session_of(app) as session:
        actions = session.exec(select(AuditEvent.action)).all()
    assert {"case_created", "case_viewed", "referral_status_changed"} <= set(actions)


def test_case_list_filters_and_search(app, client_in) -> None:
    likely = new_case(client_in)
    quiet = new_case(client_in, {"indicators": {"q_commercial_sex": "no", "q_threats": "no"}})
    client_in.get("/cases")  # shows and clears the "screening saved" message
    page = client_in.get("/cases?status=likely").get_data(as_text=True)
    assert likely in page and quiet not in page
    page = client_in.get(f"/cases?code={quiet[-4:]}").get_data(as_text=True)
    assert quiet in page and likely not in page
