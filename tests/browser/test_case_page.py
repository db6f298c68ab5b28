"""The case page of issue 13, walked in Chromium for the three cases the report describes.

From sign-in to the printed rights sheet, in Spanish and English, at 1280 x 800 and 375 px:
the urgent things first, no text in the other language, at most 3,200 px tall on a desktop
with the details closed, and no serious or critical axe finding. The cases are screened in
Spanish, so the English reader also checks that stored results are rendered again from codes.

``CASE_PAGE_SHOTS=before|after`` also writes screenshots into docs/screenshots/.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import axe_violations
from tests.conftest import PASSWORD
from tests.factories import Person, record_data, store

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
MAX_DESKTOP_HEIGHT = 3200

CASES: dict[str, dict[str, Any]] = {
    # A 16-year-old Honduran boy found working on a Chiapas farm with his 8-year-old sister.
    "boy": record_data(
        age=16,
        sex="male",
        nationality="HN",
        state="MX-CHP",
        setting="rural",
        migration_status="irregular",
        encounter="labor_inspection",
        indicators=["excessive_hours", "wages_withheld", "abusive_conditions"],
        sector="agriculture",
        vulnerabilities=["unaccompanied_minor"],
        companions=[{"age": 8, "sex": "female"}],
        needs=["shelter", "medical"],
        cross_border=True,
    ),
    # A Mexican man, a day labourer in Guerrero, in debt bondage.
    "man": record_data(
        age=34,
        sex="male",
        state="MX-GRO",
        setting="rural",
        encounter="labor_inspection",
        indicators=[
            "deceived_job_nature",
            "deceived_conditions",
            "wages_withheld",
            "excessive_hours",
            "debt_bondage",
        ],
        sector="agriculture",
        needs=["shelter", "legal_aid"],
    ),
    # A Venezuelan woman in Tapachula forced into commercial sex who wants asylum.
    "woman": record_data(
        age=27,
        sex="female",
        nationality="VE",
        state="MX-CHP",
        migration_status="asylum_seeker",
        encounter="ngo_outreach",
        indicators=["deceived_job_nature", "commercial_sex", "threats", "documents_withheld"],
        sector="commercial_sex_venue",
        needs=["shelter", "medical", "psychological", "legal_aid"],
        immediate_danger=True,
        cross_border=True,
        organized_crime=True,
    ),
}

# Texts of the other language that must not appear (seeds and translated messages).
FORBIDDEN = {
    "es": [
        "Immediate danger",
        "call emergency services first",
        "and 90 VI",
        "2024 amendments",
        "the report",
        "Source:",
        "Where to refer",
        "Check with the service first",
        "Notify child protection",
        "not verified",
        "Humanitarian visa",
        "Reflection period",
        "They can ask INM",
        "earlier version",
        "Referrals",
        "Shelter",
    ],
    "en": [
        "Peligro inmediato",
        "servicios de emergencia",
        "y 90 VI",
        "reformas de 2024",
        "el informe",
        "Fuente:",
        "A dónde canalizar",
        "de inmediato",
        "no verificado",
        "Visa por razones humanitarias",
        "Periodo de reflexión",
        "Puede pedir al INM",
        "Albergue",
        "Canalizaciones",
    ],
}
SHEET_FORBIDDEN = {
    "es": ["You have the right", "Print", "humanitarian visa", "shelter"],
    "en": ["Tiene derecho", "Imprimir", "visa humanitaria", "albergue"],
}
SIGN_IN = {
    "es": ("Correo electrónico", "Contraseña", "Iniciar sesión"),
    "en": ("Email", "Password", "Sign in"),
}


@pytest.fixture
def cases(live_server, app, make_user) -> dict[str, Any]:
    """Each reader's own three cases, all screened in Spanish (stored texts in Spanish)."""
    when = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    out: dict[str, Any] = {}
    for lang in ("es", "en"):
        user = make_user("screener", ("MX-CHP", "MX-GRO"), language=lang)
        stored = store(app, [Person([CASES[name]], [when]) for name in CASES], user.id)
        out[lang] = {"user": user, **{n: s["code"] for n, s in zip(CASES, stored, strict=True)}}
    return out


def sign_in(page: Any, url: str, user: Any, lang: str) -> None:
    email, password, button = SIGN_IN[lang]
    page.goto(url + "/sign-in")
    page.get_by_label(email).fill(user.email)
    page.get_by_label(password).fill(PASSWORD)
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state()


def top(page: Any, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return float(box["y"])


def shoot(page: Any, name: str) -> None:
    moment = os.environ.get("CASE_PAGE_SHOTS")
    if moment:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}-{moment}.png"), full_page=True)


@pytest.mark.parametrize("lang", ["es", "en"])
@pytest.mark.parametrize("name", list(CASES))
def test_case_page_walkthrough(live_server, browser, cases, name: str, lang: str) -> None:
    context = browser.new_context(
        locale="es-MX" if lang == "es" else "en-US", viewport={"width": 1280, "height": 800}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, live_server.url, cases[lang]["user"], lang)
    page.goto(f"{live_server.url}/cases/{cases[lang][name]}")
    assert page.get_attribute("html", "lang") == lang

    height = page.evaluate("document.documentElement.scrollHeight")
    shoot(page, f"case-{name}-{lang}-1280")
    print(f"HEIGHT {name} {lang} 1280 {height}")

    # What to do now comes first, then the needs, then the other alerts.
    assert top(page, "#act-now") < top(page, "#needs") < top(page, "#alerts")
    if CASES[name]["immediate_danger"]:
        assert top(page, "#act-now #alert-immediate_danger") < top(page, "#need-glance")
    if (CASES[name]["age"] or 99) < 18:
        assert top(page, "#act-now #alert-child_protection_notice") < top(page, "#need-glance")
    glance = page.locator("#need-glance li")
    assert glance.count() == page.locator("#needs .need").count() > 0
    for need in page.locator("#needs .need").all():
        assert need.locator("ol.options > li").count() <= 3  # the rest behind "show all"
    assert page.locator("#needs details[open]").count() == 0

    main = page.locator("main").inner_text()
    for words in FORBIDDEN[lang]:
        assert words not in main, (words, name, lang)
    assert height <= MAX_DESKTOP_HEIGHT, (name, lang, height)
    assert axe_violations(page) == [], (name, lang)

    page.set_viewport_size({"width": 375, "height": 800})
    page.wait_for_timeout(100)
    print(f"HEIGHT {name} {lang} 375 {page.evaluate('document.documentElement.scrollHeight')}")
    shoot(page, f"case-{name}-{lang}-375")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert axe_violations(page) == [], (name, lang, 375)

    # The rights sheet, in the screening's language by default, printed.
    page.locator("#rights-link").click()
    page.wait_for_url("**/rights**")
    sheet_lang = page.get_attribute("html", "lang")
    assert sheet_lang == "es"  # the cases were screened in Spanish
    if lang == "en":
        page.goto(page.url.split("?")[0] + "?lang=en")
        sheet_lang = "en"
    text = page.locator("main").inner_text()
    for words in SHEET_FORBIDDEN[sheet_lang]:
        assert words not in text, (words, name, lang)
    assert cases[lang][name] not in text  # nothing about the case
    assert page.locator(".right").count() >= (2 if name != "man" else 1)
    assert axe_violations(page) == [], (name, lang, "sheet")
    page.emulate_media(media="print")
    shoot(page, f"rights-{name}-{sheet_lang}")
    assert page.locator(".no-print").first.is_hidden()
    assert page.locator(".site-header").count() == 0 or page.locator(".site-header").is_hidden()
    assert page.pdf(format="A4")[:4] == b"%PDF"
    context.close()
