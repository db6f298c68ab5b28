"""The manage page of a case: close, reopen, consent withdrawn, handover and erasure, on the
web, as each role meets them."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import select

from referral.casework.models import Case, Referral
from referral.db import get_db
from tests.conftest import csrf_token
from tests.factories import referred_case


def signed_in(app: Flask, login: Any, user: Any) -> FlaskClient:
    client = app.test_client()
    login(client, user)
    return client


def post(client: FlaskClient, path: str, data: dict[str, Any]) -> Any:
    token = csrf_token(client, "/")
    return client.post(path, data={"csrf_token": token, **data})


def the_case(app: Flask, code: str) -> Case | None:
    with app.app_context(), get_db(app).transaction(write=False) as session:
        return session.exec(select(Case).where(Case.code == code)).first()


def test_a_screener_closes_and_reopens_their_case(app, make_user, login) -> None:
    screener = make_user("screener", language="en")
    code = referred_case(app, screener.id)
    client = signed_in(app, login, screener)
    show = client.get(f"/cases/{code}").get_data(as_text=True)
    assert f"/cases/{code}/manage" in show

    refused = post(client, f"/cases/{code}/close", {"close-reason": "other", "close-note": " "})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Say in a few words why the case is closed." in page
    assert 'value="other" checked' in page  # what was chosen is kept
    assert the_case(app, code).closed_at is None  # type: ignore[union-attr]

    done = post(
        client, f"/cases/{code}/close", {"close-reason": "other", "close-note": "Went home"}
    )
    assert done.status_code == 302
    assert code not in client.get("/cases").get_data(as_text=True)
    assert code in client.get("/cases?show=closed").get_data(as_text=True)
    assert client.get(f"/cases/{code}").status_code == 200  # still reachable by its code
    manage = client.get(f"/cases/{code}/manage").get_data(as_text=True)
    assert "Went home" in manage and "Reopen the case" in manage

    missing = post(client, f"/cases/{code}/reopen", {"reopen-note": ""})
    assert missing.status_code == 422
    assert "Say why the case is reopened." in missing.get_data(as_text=True)
    reopened = post(client, f"/cases/{code}/reopen", {"reopen-note": "Came back"})
    assert reopened.status_code == 302
    assert the_case(app, code).closed_at is None  # type: ignore[union-attr]
    assert code in client.get("/cases").get_data(as_text=True)


def test_nobody_outside_the_case_reaches_its_actions(app, make_user, login) -> None:
    owner = make_user("screener", ("MX-CHP",))
    code = referred_case(app, owner.id)
    for stranger in (
        make_user("screener", ("MX-CHP",)),  # another screener of the same state
        make_user("supervisor", ("MX-GRO",)),  # a supervisor of another state
    ):
        client = signed_in(app, login, stranger)
        assert client.get(f"/cases/{code}/manage").status_code == 404
        assert client.get(f"/cases/{code}/erase").status_code == 404
        for action, data in (
            ("close", {"close-reason": "duplicate"}),
            ("consent", {"consent-referral": "y"}),
            ("handover", {"handover-to_user": str(stranger.id)}),
        ):
            assert post(client, f"/cases/{code}/{action}", data).status_code == 404
    assert the_case(app, code).closed_at is None  # type: ignore[union-attr]


def test_a_supervisor_hands_a_case_over_to_a_screener_of_its_state(app, make_user, login) -> None:
    owner = make_user("screener", ("MX-CHP",))
    colleague = make_user("screener", ("MX-CHP",))
    elsewhere = make_user("screener", ("MX-GRO",))
    supervisor = make_user("supervisor", ("MX-CHP",), language="en")
    code = referred_case(app, owner.id)
    owner_client = signed_in(app, login, owner)
    assert (
        post(owner_client, f"/cases/{code}/handover", {"handover-to_user": str(colleague.id)})
    ).status_code == 404  # screeners do not hand over
    client = signed_in(app, login, supervisor)
    page = client.get(f"/cases/{code}/manage").get_data(as_text=True)
    assert colleague.email in page and elsewhere.email not in page
    refused = post(client, f"/cases/{code}/handover", {"handover-to_user": str(elsewhere.id)})
    assert refused.status_code == 422
    done = post(client, f"/cases/{code}/handover", {"handover-to_user": str(colleague.id)})
    assert done.status_code == 302
    assert the_case(app, code).screener_id == colleague.id  # type: ignore[union-attr]
    assert owner_client.get(f"/cases/{code}").status_code == 404  # no longer theirs
    colleague_client = signed_in(app, login, colleague)
    assert colleague_client.get(f"/cases/{code}").status_code == 200


def test_consent_withdrawn_on_the_web(app, make_user, login) -> None:
    screener = make_user("screener", language="en")
    code = referred_case(app, screener.id)
    client = signed_in(app, login, screener)
    empty = post(client, f"/cases/{code}/consent", {})
    assert empty.status_code == 422
    assert "Choose which consent the person withdraws." in empty.get_data(as_text=True)
    done = post(client, f"/cases/{code}/consent", {"consent-referral": "y"})
    assert done.status_code == 302
    with app.app_context(), get_db(app).transaction(write=False) as session:
        case = session.exec(select(Case).where(Case.code == code)).one()
        statuses = session.exec(select(Referral.status).where(Referral.case_id == case.id)).all()
    assert set(statuses) == {"cancelled"}
    assert case.consent_referral is False and case.consent_statistics is True


def test_an_admin_erases_a_case_after_typing_its_code(app, make_user, login) -> None:
    screener = make_user("screener")
    admin = make_user("admin", (), national=True, language="en")
    code = referred_case(app, screener.id)
    assert signed_in(app, login, screener).get(f"/cases/{code}/erase").status_code == 404
    client = signed_in(app, login, admin)
    confirm = client.get(f"/cases/{code}/erase")
    assert confirm.status_code == 200 and "Type the case code to confirm" in confirm.get_data(
        as_text=True
    )
    token = csrf_token(client, f"/cases/{code}/erase")
    wrong = client.post(
        f"/cases/{code}/erase",
        data={"csrf_token": token, "reason": "person_request", "confirm_code": "RT-WRONG"},
    )
    assert wrong.status_code == 422
    assert "The code typed is not this case&#39;s code." in wrong.get_data(as_text=True)
    assert 'value="RT-WRONG"' in wrong.get_data(as_text=True)
    no_reason = client.post(
        f"/cases/{code}/erase", data={"csrf_token": token, "reason": "", "confirm_code": code}
    )
    assert no_reason.status_code == 422
    assert the_case(app, code) is not None
    done = client.post(
        f"/cases/{code}/erase",
        data={"csrf_token": token, "reason": "person_request", "confirm_code": code.lower()},
    )
    assert done.status_code == 302 and done.headers["Location"] == "/cases"
    assert the_case(app, code) is None
    assert client.get(f"/cases/{code}").status_code == 404
