"""The clocks in Chromium (issue 14): the child-protection notice recorded from the case
page, a service's answer mailed after the response by a live server, and the loop panel,
in Spanish and English, without a serious accessibility violation, at phone width too."""

from __future__ import annotations

import time
import urllib.request
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from referral import db
from referral.casework.models import EventChannel
from tests.browser_support import LiveServer, axe_violations
from tests.clocks.test_clocks import store_case
from tests.conftest import PASSWORD
from tests.factories import GIRL_FROM_HONDURAS

pytestmark = pytest.mark.browser
MEXICO_CITY = ZoneInfo("America/Mexico_City")
WORDS = {
    "es": {"email": "Correo electrónico", "password": "Contraseña", "sign_in": "Iniciar sesión"},
    "en": {"email": "Email", "password": "Password", "sign_in": "Sign in"},
}


def signed_in(browser, server, user, lang, width=1280):
    context = browser.new_context(
        locale="es-MX" if lang == "es" else "en-US", viewport={"width": width, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(server.url + "/sign-in")
    page.get_by_label(WORDS[lang]["email"]).fill(user.email)
    page.get_by_label(WORDS[lang]["password"]).fill(PASSWORD)
    page.get_by_role("button", name=WORDS[lang]["sign_in"]).click()
    page.wait_for_url(lambda url: "/sign-in" not in url)  # each role lands on its own work
    return context, page


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_notice_is_recorded_from_the_case_page_and_the_loop_is_shown(
    isolated_database, mail_app, inbox, browser, make_user, lang
) -> None:
    screener = make_user("screener", ("MX-CHP",), language=lang)
    supervisor = make_user("supervisor", ("MX-CHP",), language=lang, email=f"sup-{lang}@ex.org")
    case = store_case(mail_app, GIRL_FROM_HONDURAS, screener, _hours_ago(30))
    with LiveServer(mail_app) as server:
        context, page = signed_in(browser, server, screener, lang)
        page.goto(f"{server.url}/cases/{case.code}")
        task = page.locator("#task-child-notice")
        assert task.is_visible()
        assert axe_violations(page) == [], lang
        task.locator("details.notice-form summary").click()  # the form is closed at first
        task.locator("#authority-0").check()
        yesterday = _hours_ago(24).astimezone(MEXICO_CITY).date().isoformat()
        task.locator("#notified_on").fill(yesterday)
        task.locator("#notified_time").fill("09:15")
        task.locator("button[type=submit]").click()
        page.wait_for_url(f"**/cases/{case.code}#tasks")
        assert "DIF" in page.locator("#task-child-notice").inner_text()
        assert page.locator("#task-child-notice form").count() == 0
        page.screenshot(path=f"/tmp/ruta-tasks-{lang}.png", full_page=False)
        context.close()

        phone, small = signed_in(browser, server, screener, lang, width=375)
        small.goto(f"{server.url}/cases/{case.code}")
        assert small.evaluate("document.documentElement.scrollWidth") <= 375
        phone.close()

        context, page = signed_in(browser, server, supervisor, lang)
        page.goto(f"{server.url}/supervision#loop")
        assert page.locator("#loop-numbers").is_visible()
        assert axe_violations(page) == [], lang
        page.locator("#loop-panel").screenshot(path=f"/tmp/ruta-loop-{lang}.png")
        context.close()
    run = mail_app.test_cli_runner().invoke(args=["clocks", "run"])
    assert "child-protection notices escalated: 0" in run.output  # the notice was recorded


def test_a_services_answer_reaches_the_screener_through_a_live_server(
    isolated_database, mail_app, inbox, browser, make_user
) -> None:
    """The after-response send, as a real server closes a response."""
    from tests.factories import refer_a_case

    screener = make_user("screener", ("MX-CHP",), email="screener@ex.org", language="en")
    case, referral = refer_a_case(mail_app, screener)
    # A stand-in for the service's answer (its routes come with the provider role): a view
    # that changes the referral as the API's would, on the writer.
    mail_app.add_url_rule("/test/answer", "test_answer", db.writes(_answer_view(referral.id)))
    with LiveServer(mail_app) as server:
        with urllib.request.urlopen(server.url + "/test/answer", timeout=10) as response:
            assert response.read() == b"answered"
        for _ in range(50):
            if inbox.to("screener@ex.org"):
                break
            time.sleep(0.1)
    (message,) = inbox.to("screener@ex.org")
    assert case.code in message.get_content()


def _answer_view(referral_id: int):
    def view() -> str:
        from referral.casework.models import Referral
        from referral.casework.workflow import Answer, change_status

        session = db.session()
        change_status(
            session,
            session.get(Referral, referral_id),
            status="accepted",
            reason_code=None,
            expected_version=1,
            user_id=None,
            answer=Answer(channel=EventChannel.api),
        )
        return "answered"

    return view


def _hours_ago(hours: int):
    from referral.db import utcnow

    return utcnow() - timedelta(hours=hours)
