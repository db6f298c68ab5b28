"""In a real browser, in Spanish and English: a question answered "yes, she has her
documents" records no documents withheld; "no, she could not go out" records movement
restricted. The review lists the answers before anything is stored."""

from __future__ import annotations

import pytest
from sqlmodel import select

from referral.casework.models import Screening
from referral.db import get_db
from tests.browser.conftest import axe_violations
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

WORDS = {
    "es": {
        "email": "Correo electrónico",
        "password": "Contraseña",
        "sign_in": "Iniciar sesión",
        "documents": "¿Usted tiene sus documentos, como su identificación o pasaporte?",
        "withheld": "Le quitaron sus documentos",
        "restricted": "No podía salir ni moverse libremente",
    },
    "en": {
        "email": "Email",
        "password": "Password",
        "sign_in": "Sign in",
        "documents": "Do you have your documents, like your ID or passport?",
        "withheld": "Documents withheld",
        "restricted": "Movement restricted",
    },
}


@pytest.mark.parametrize("lang", ["es", "en"])
def test_has_documents_yes_marks_no_documents_withheld(
    live_server, browser, make_user, app, lang
) -> None:
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
    page.locator("form[action='/intake'] button").click()
    page.wait_for_url("**/encounter")
    page.select_option("#encounter", "labor_inspection")
    page.select_option("#state", "MX-CHP")
    page.check("#setting-1")
    page.locator("button[name=next]").click()
    page.wait_for_url("**/person")
    page.fill("#age", "28")
    page.check("input[name=sex][value=female]")
    page.select_option("#nationality", "GT")
    page.select_option("#migration_status", "irregular")
    page.locator("button[name=next]").click()

    page.wait_for_url("**/indicators")
    question = page.get_by_role("group", name=words["documents"])
    assert question.get_by_role("radio").count() == 4
    page.check("#q_documents_withheld-yes")  # yes, she has her documents
    page.check("#q_movement_restricted-no")  # no, she could not go out when she wanted
    page.check("#q_excessive_hours-yes")
    assert axe_violations(page) == []
    page.locator("button[name=next]").click()
    page.wait_for_url("**/needs")
    page.locator("button[name=next]").click()
    page.wait_for_url("**/legal")
    page.check("input[name=consent_referral][value=yes]")
    page.check("input[name=consent_statistics][value=no]")
    page.locator("button[name=next]").click()

    page.wait_for_url("**/review")
    documents = page.locator("#answer-documents_withheld").inner_text()
    assert words["documents"] in documents and words["withheld"] not in documents
    assert words["restricted"] in page.locator("#answer-movement_restricted").inner_text()
    assert axe_violations(page) == []
    page.locator("form[data-submit-once] button[type=submit]").click()
    page.wait_for_url("**/cases/RT-*")
    result = page.locator("#screening-result").text_content() or ""  # closed: read, not shown
    assert words["restricted"] in result
    assert words["withheld"] not in result
    code = page.url.rsplit("/", 1)[-1]
    context.close()
    with get_db(app).session() as session:
        screening = session.exec(
            select(Screening).where(Screening.lang == lang).order_by(Screening.id.desc())
        ).first()
    assert screening is not None and code
    assert "documents_withheld" not in screening.record["indicators"]
    assert {"movement_restricted", "excessive_hours"} <= set(screening.record["indicators"])
    assert screening.answers["documents_withheld"] == "yes"
