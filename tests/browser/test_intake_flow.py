"""A screener's whole day in a real browser: sign in, intake, result, referral, status change.

Once in Spanish and once in English, with an axe-core check of the intake and result pages.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from referral.casework.models import Draft
from referral.db import get_db
from tests.browser.conftest import axe_violations
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

WORDS = {
    "es": {
        "sign_in": "Iniciar sesión",
        "email": "Correo electrónico",
        "password": "Contraseña",
        "start": "Iniciar una nueva detección",
        "continue": "Guardar y continuar",
        "submit": "Enviar la detección y ver la canalización",
        "case": "Caso",
        "change": "Cambiar estado",
        "accepted": "Aceptada",
        "restored": "Se recuperó",
    },
    "en": {
        "sign_in": "Sign in",
        "email": "Email",
        "password": "Password",
        "start": "Start a new screening",
        "continue": "Save and continue",
        "submit": "Submit screening and see the routing",
        "case": "Case",
        "change": "Change status",
        "accepted": "Accepted",
        "restored": "has been restored",
    },
}


def serious(page) -> list[dict]:
    return axe_violations(page)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_screener_flow(live_server, browser, make_user, lang) -> None:
    words = WORDS[lang]
    user = make_user("screener", ("MX-CHP",), language=lang)
    context = browser.new_context(locale="es-MX" if lang == "es" else "en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(live_server.url + "/intake")
    page.get_by_label(words["email"]).fill(user.email)
    page.get_by_label(words["password"]).fill(PASSWORD)
    page.get_by_role("button", name=words["sign_in"]).click()
    page.wait_for_url(live_server.url + "/intake")
    assert page.get_attribute("html", "lang") == lang

    page.get_by_role("button", name=words["start"]).click()
    page.wait_for_url("**/encounter")
    assert serious(page) == []
    page.select_option("#encounter", "migration_detention")
    page.select_option("#state", "MX-CHP")
    page.check("#setting-0")
    page.get_by_role("button", name=words["continue"]).click()

    page.wait_for_url("**/person")
    page.fill("#age", "15")
    page.check("input[name=sex][value=female]")
    page.select_option("#nationality", "HN")
    page.select_option("#migration_status", "irregular")
    assert serious(page) == []
    page.get_by_role("button", name=words["continue"]).click()

    page.wait_for_url("**/indicators")
    page.check("#q_commercial_sex-yes")
    page.check("#q_threats-yes")
    assert serious(page) == []
    page.get_by_role("button", name=words["continue"]).click()

    page.wait_for_url("**/needs")
    page.check("input[name=needs][value=shelter]")
    page.get_by_role("button", name=words["continue"]).click()

    page.wait_for_url("**/legal")
    page.check("input[name=consent_referral][value=yes]")
    page.check("input[name=consent_statistics][value=yes]")
    assert serious(page) == []
    page.get_by_role("button", name=words["continue"]).click()

    page.wait_for_url("**/review")
    assert serious(page) == []
    page.get_by_role("button", name=words["submit"]).click()
    page.wait_for_url("**/cases/RT-*")
    assert page.locator("h1").inner_text().startswith(words["case"])
    assert page.locator(".alert-box").count() > 0
    assert serious(page) == []

    refer = page.locator("#need-shelter form button").first
    refer.click()
    page.wait_for_url("**/cases/RT-*")
    card = page.locator(".referral").first
    card.locator("select[name=status]").select_option("accepted")
    card.get_by_role("button", name=words["change"]).click()
    page.wait_for_url("**/cases/RT-*")
    assert words["accepted"] in page.locator(".referral").first.inner_text()
    context.close()


def test_typed_answers_survive_an_expired_session(live_server, browser, make_user, app) -> None:
    """The session ends while the screener types: after signing in again, nothing is lost."""
    user = make_user("screener", ("MX-CHP",))
    context = browser.new_context(locale="es-MX")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(live_server.url + "/intake")
    page.get_by_label(WORDS["es"]["email"]).fill(user.email)
    page.get_by_label(WORDS["es"]["password"]).fill(PASSWORD)
    page.get_by_role("button", name=WORDS["es"]["sign_in"]).click()
    page.wait_for_url(live_server.url + "/intake")
    page.get_by_role("button", name=WORDS["es"]["start"]).click()
    page.wait_for_url("**/encounter")
    draft_url = page.url
    context.clear_cookies()  # the session expires while the form is open
    page.select_option("#encounter", "hotline")
    page.select_option("#state", "MX-TLA")
    page.get_by_role("button", name=WORDS["es"]["continue"]).click()
    page.wait_for_load_state()
    if "/sign-in" not in page.url:
        page.goto(live_server.url + "/sign-in")
    page.get_by_label(WORDS["es"]["email"]).fill(user.email)
    page.get_by_label(WORDS["es"]["password"]).fill(PASSWORD)
    page.get_by_role("button", name=WORDS["es"]["sign_in"]).click()
    page.wait_for_load_state()
    page.goto(draft_url)
    assert page.input_value("#encounter") == "hotline"
    assert page.input_value("#state") == "MX-TLA"
    assert WORDS["es"]["restored"] in page.locator("#autosave-status").inner_text()
    key = draft_url.rstrip("/").split("/")[-2]
    for _ in range(50):  # the restored answers are saved on the server too
        with get_db(app).session() as session:
            draft = session.exec(select(Draft).where(Draft.key == key)).one()
        if draft.data.get("state") == "MX-TLA":
            break
        page.wait_for_timeout(100)
    assert draft.data.get("encounter") == "hotline" and draft.data.get("state") == "MX-TLA"
    context.close()
