"""The loop closes in a real browser (issue 14), in Spanish and in English: a screener refers,
the service answers through its account or through the link on its copy of the referral, and
the mail each side receives comes through a real SMTP server (aiosmtpd, in the test's process).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from email.message import EmailMessage

import pytest
from flask import Flask
from sqlmodel import select

from referral.casework.models import Gap, Referral
from referral.db import get_db
from referral.mail import sending
from tests.browser.conftest import axe_violations
from tests.conftest import PASSWORD
from tests.factories import GIRL_FROM_HONDURAS, store_case
from tests.mail.conftest import Inbox, smtp_server  # noqa: F401  (the fixture, used below)

pytestmark = pytest.mark.browser

WORDS = {
    "es": {
        "sign_in": "Iniciar sesión",
        "email": "Correo electrónico",
        "password": "Contraseña",
        "accepted": "Aceptada",
        "rejected": "Rechazada",
        "new_referral": "Ruta: una nueva canalización para su servicio (caso {code})",
        "answered": "Ruta: el servicio respondió la canalización del caso {code}",
    },
    "en": {
        "sign_in": "Sign in",
        "email": "Email",
        "password": "Password",
        "accepted": "Accepted",
        "rejected": "Rejected",
        "new_referral": "Ruta: a new referral for your service (case {code})",
        "answered": "Ruta: the service answered the referral of case {code}",
    },
}
RECORD = {**GIRL_FROM_HONDURAS, "age": 16, "companions": [{"age": 2, "sex": "female"}]}
# What no mail may say: the person's nationality, age, sex, the kind of exploitation.
NOT_IN_MAIL = ("Honduras", "hondure", "female", "mujer", "sexual", "commercial", "12-17")


@pytest.fixture
def app(app_factory: Callable[..., Flask], smtp_server: tuple[Inbox, int]) -> Flask:  # noqa: F811
    """The live server's app sends its mail to the in-process SMTP server; links in mail start
    with the address the request came to (no ``PUBLIC_URL``), the live server's."""
    _inbox, port = smtp_server
    return app_factory(
        SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TLS="none", MAIL_SENDER="ruta@example.org"
    )


@pytest.fixture
def inbox(smtp_server: tuple[Inbox, int]) -> Inbox:  # noqa: F811
    return smtp_server[0]


def mail_to(
    app: Flask, inbox: Inbox, address: str, subject: str, timeout: float = 10.0
) -> EmailMessage:
    """The one message to ``address`` with ``subject``. The app sends it once the response has
    gone; werkzeug's development server (the live server) skips that step when the browser
    resets the connection first, where gunicorn does not. What the clocks command does next
    (send what waits) then sends it; either way it arrives once."""
    deadline = time.monotonic() + timeout
    found: list[EmailMessage] = []
    while not found and time.monotonic() < deadline:
        time.sleep(0.2)
        with app.app_context():
            sending.send_waiting(app)
        found = [m for m in inbox.to(address) if m["Subject"].strip() == subject]
    assert len(found) == 1, [m["Subject"] for m in inbox.to(address)]
    return found[0]


def only_the_code_and_a_link(message: EmailMessage, code: str, link: str) -> None:
    body = message.get_content()
    assert code in body and link in body
    for word in NOT_IN_MAIL:
        assert word not in body and word not in message["Subject"]


def signed_in(browser, live_server, user, lang):
    context = browser.new_context(locale="es-MX" if lang == "es" else "en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(live_server.url + "/sign-in")
    page.get_by_label(WORDS[lang]["email"]).fill(user.email)
    page.get_by_label(WORDS[lang]["password"]).fill(PASSWORD)
    page.get_by_role("button", name=WORDS[lang]["sign_in"]).click()
    # Each role lands on its own page (a screener on their cases, a provider on its inbox).
    page.wait_for_url(lambda url: url.startswith(live_server.url) and "/sign-in" not in url)
    return context, page


def refer_in_the_browser(page, live_server, case, service) -> None:
    page.goto(f"{live_server.url}/cases/{case.code}")
    page.locator(f"form:has(input[name=service_id][value='{service}']) button").first.click()
    page.wait_for_url("**/cases/RT-*")


def the_referral(app, case) -> Referral:
    with get_db(app).session() as session:
        return session.exec(select(Referral).where(Referral.case_id == case.id)).one()


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_provider_accepts_in_its_account(
    live_server, browser, app, make_user, inbox: Inbox, lang
) -> None:
    screener = make_user("screener", ("MX-CHP",), language=lang)
    case, _need, service = store_case(app, screener, RECORD)
    provider = make_user("provider", (), services=[service], language=lang)

    screener_context, screener_page = signed_in(browser, live_server, screener, lang)
    refer_in_the_browser(screener_page, live_server, case, service)
    referral = the_referral(app, case)

    # The service's account is mailed, in its language: the case code and its inbox link.
    inbox_link = f"{live_server.url}/provider/referrals/{referral.id}"

    new = mail_to(app, inbox, provider.email, WORDS[lang]["new_referral"].format(code=case.code))
    only_the_code_and_a_link(new, case.code, inbox_link)
    assert inbox.to(screener.email) == []

    context, page = signed_in(browser, live_server, provider, lang)
    page.goto(live_server.url + "/provider")
    assert axe_violations(page) == []
    page.get_by_role("link", name=case.code).click()
    page.wait_for_url(f"**/provider/referrals/{referral.id}")
    assert page.url == inbox_link
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

    # The screener is mailed that the service answered, in their language, with the case link.
    answered = mail_to(app, inbox, screener.email, WORDS[lang]["answered"].format(code=case.code))
    case_link = f"{live_server.url}/cases/{case.code}"
    only_the_code_and_a_link(answered, case.code, case_link)
    assert re.search(r"https?://", answered.get_content())
    screener_page.goto(case_link)
    assert WORDS[lang]["accepted"] in screener_page.locator(f"#referral-{referral.id}").inner_text()
    screener_context.close()


@pytest.mark.parametrize("lang", ["es", "en"])
def test_a_service_without_account_declines_through_the_link(
    live_server, browser, app, make_user, inbox: Inbox, lang
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
    # The decline is a gap of the need, with the service's reason.
    with get_db(app).session() as session:
        gap = session.exec(
            select(Gap).where(Gap.case_id == case.id, Gap.need == need, Gap.kind == "declined")
        ).one()
        assert gap.reasons == ["no_capacity"] and gap.closed_at is None
    # The link no longer works: gone, saying nothing of the case, and a second answer changes
    # nothing.
    again = service_page.goto(link)
    assert again.status == 410
    assert case.code not in service_page.locator("main").inner_text()
    assert service_page.locator("form.answer-form").count() == 0
    assert the_referral(app, case).status == "rejected"
    stranger.close()
    # The screener is mailed that the service answered (the link is the service's channel).
    answered = mail_to(app, inbox, screener.email, WORDS[lang]["answered"].format(code=case.code))
    only_the_code_and_a_link(answered, case.code, f"{live_server.url}/cases/{case.code}")
