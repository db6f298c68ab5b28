"""The loop closes in a real browser (issue 14), in Spanish and in English: a screener refers,
the service answers through its account or through the link on its copy of the referral."""

from __future__ import annotations

import pytest
from sqlmodel import select

from referral.casework.models import Gap, Referral
from referral.db import get_db
from tests.browser.conftest import axe_violations
from tests.conftest import PASSWORD
from tests.factories import GIRL_FROM_HONDURAS, store_case

pytestmark = pytest.mark.browser

WORDS = {
    "es": {
        "sign_in": "Iniciar sesión",
        "email": "Correo electrónico",
        "password": "Contraseña",
        "accepted": "Aceptada",
        "rejected": "Rechazada",
    },
    "en": {
        "sign_in": "Sign in",
        "email": "Email",
        "password": "Password",
        "accepted": "Accepted",
        "rejected": "Rejected",
    },
}
RECORD = {**GIRL_FROM_HONDURAS, "age": 16, "companions": [{"age": 2, "sex": "female"}]}


def signed_in(browser, live_server, user, lang):
    context = browser.new_context(locale="es-MX" if lang == "es" else "en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(live_server.url + "/sign-in")
    page.get_by_label(WORDS[lang]["email"]).fill(user.email)
    page.get_by_label(WORDS[lang]["password"]).fill(PASSWORD)
    page.get_by_role("button", name=WORDS[lang]["sign_in"]).click()
    page.wait_for_url(live_server.url + "/")
    return context, page


def refer_in_the_browser(page, live_server, case, service) -> None:
    page.goto(f"{live_server.url}/cases/{case.code}")
    page.locator(f"form:has(input[name=service_id][value='{service}']) button").first.click()
    page.wait_for_url("**/cases/RT-*")


def the_referral(app, case) -> Referral:
    with get_db(app).session() as session:
        return session.exec(select(Referral).where(Referral.case_id == case.id)).one()


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_provider_accepts_in_its_account(live_server, browser, app, make_user, lang) -> None:
    screener = make_user("screener", ("MX-CHP",), language=lang)
    case, _need, service = store_case(app, screener, RECORD)
    provider = make_user("provider", (), services=[service], language=lang)

    screener_context, screener_page = signed_in(browser, live_server, screener, lang)
    refer_in_the_browser(screener_page, live_server, case, service)
    referral = the_referral(app, case)

    context, page = signed_in(browser, live_server, provider, lang)
    page.goto(live_server.url + "/provider")
    assert axe_violations(page) == []
    page.get_by_role("link", name=case.code).click()
    page.wait_for_url(f"**/provider/referrals/{referral.id}")
    text = page.locator("main").inner_text()
    assert case.code in text and "12-17" in text
    for hidden in ("Honduras", "commercial", "sexual", "RT-" + "X"):
        assert hidden not in text
    assert axe_violations(page) == []
    page.select_option("#status", "accepted")
    page.locator("form.answer-form button[type=submit]").click()
    page.wait_for_url(f"**/provider/referrals/{referral.id}")
    assert page.goto(f"{live_server.url}/cases/{case.code}").status == 404
    context.close()

    screener_page.goto(f"{live_server.url}/cases/{case.code}")
    assert WORDS[lang]["accepted"] in screener_page.locator(f"#referral-{referral.id}").inner_text()
    screener_context.close()


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_service_without_account_declines_through_the_link(
    live_server, browser, app, make_user, lang
) -> None:
    screener = make_user("screener", ("MX-CHP",), language=lang)
    case, need, service = store_case(app, screener, RECORD)
    screener_context, page = signed_in(browser, live_server, screener, lang)
    refer_in_the_browser(page, live_server, case, service)
    referral = the_referral(app, case)
    page.goto(f"{live_server.url}/referrals/{referral.id}/service-copy")
    page.locator("form[action$='/service-copy'] button").click()
    link = page.locator("code.answer-url").inner_text()
    assert page.locator("img.qr").get_attribute("src").startswith("data:image/svg+xml")
    assert axe_violations(page) == []
    screener_context.close()

    stranger = browser.new_context(locale="es-MX" if lang == "es" else "en-US")
    stranger.set_default_timeout(15_000)
    service_page = stranger.new_page()
    assert service_page.goto(link).status == 200
    assert case.code in service_page.locator("main").inner_text()
    assert axe_violations(service_page) == []
    service_page.fill("#responder_name", "Lucía Pérez")
    service_page.fill("#responder_role", "Trabajadora social")
    service_page.select_option("#status", "rejected")
    service_page.select_option("#reason_code", "no_capacity")
    service_page.locator("form.answer-form button[type=submit]").click()
    service_page.wait_for_load_state()
    assert the_referral(app, case).status == "rejected"
    with get_db(app).session() as session:
        gap = session.exec(
            select(Gap).where(Gap.case_id == case.id, Gap.need == need, Gap.kind == "declined")
        ).one()
        assert gap.reasons == ["no_capacity"]
    again = service_page.goto(link)
    assert again.status == 410
    assert case.code not in service_page.locator("main").inner_text()
    stranger.close()
