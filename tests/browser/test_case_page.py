"""The case page of issue 13, walked in Chromium for the three cases the report describes.

From sign-in through the intake form (each question answered: the man could not go out
when he wanted, the woman does not have her documents) and its review, to the case page,
the case list, a referral accepted and its audit entry, and the printed rights sheet; in
Spanish and English at 1280 x 800 (the case page and the sheet also at 375 px): the urgent
things first, no text in the other language, at most 3,200 px tall on a desktop with the
details closed, and no serious or critical axe finding on any page. A case screened in
Spanish is also read in English, rendered again from its codes.

``CASE_PAGE_SHOTS=before|after`` also writes screenshots into docs/screenshots/.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.browser.conftest import axe_violations
from tests.browser_support import screen_in_browser, sign_in
from tests.conftest import PASSWORD
from tests.factories import record_data

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
            "movement_restricted",
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


def top(page: Any, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return float(box["y"])


def shoot(page: Any, name: str) -> None:
    moment = os.environ.get("CASE_PAGE_SHOTS")
    if moment:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}-{moment}.png"), full_page=True)


# What the question that marks each indicator is answered with (yes or no), from the seeds.
MARKED_BY = {
    item["code"]: item["marked_by"]
    for item in yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "referral/seeds/data/indicators.yaml").read_text()
    )["indicators"]
}
OTHER = {"yes": "no", "no": "yes"}
# Answers that mark nothing: the boy and the woman were paid nothing, but the boy has his
# papers ("do you have your documents?" -> yes) and the man could talk to his family.
NOT_MARKING = {
    "boy": {"documents_withheld": "yes", "commercial_sex": "no", "violence": "prefers_not_to_say"},
    "man": {"isolation": "yes", "threats": "not_asked"},
    "woman": {"excessive_hours": "prefers_not_to_say", "debt_bondage": "no"},
}
# The questions the issue names, in each language: "could you leave when you wanted?" -> no
# for the man, "do you have your documents?" -> no for the woman.
QUESTIONS = {
    "es": {
        "movement_restricted": "¿Podía salir cuando quería?",
        "documents_withheld": "¿Usted tiene sus documentos, como su identificación o pasaporte?",
    },
    "en": {
        "movement_restricted": "Could you go out when you wanted?",
        "documents_withheld": "Do you have your documents, like your ID or passport?",
    },
}
ACCEPTED = {"es": ("Solicitada", "Aceptada"), "en": ("Requested", "Accepted")}
CASE_LIST = {
    "es": {
        "boy": ["12 a 17", "niño", "Honduras", "Inspección laboral", "Chiapas"],
        "man": ["30 a 59", "Hombre", "México", "Inspección laboral", "Guerrero"],
        "woman": [
            "18 a 29",
            "Mujer",
            "Venezuela",
            "Recorrido de una organización civil",
            "Chiapas",
        ],
    },
    "en": {
        "boy": ["12 to 17", "boy", "Honduras", "Labor inspection", "Chiapas"],
        "man": ["30 to 59", "Male", "Mexico", "Labor inspection", "Guerrero"],
        "woman": ["18 to 29", "Female", "Venezuela", "NGO outreach", "Chiapas"],
    },
}


def answers_for(name: str) -> dict[str, str]:
    marking = {code: MARKED_BY[code] for code in CASES[name]["indicators"]}
    return {**marking, **NOT_MARKING[name]}


def no_serious_axe(page: Any, where: str) -> None:
    assert axe_violations(page) == [], where


@pytest.mark.parametrize("lang", ["es", "en"])
@pytest.mark.parametrize("name", list(CASES))
def test_case_walkthrough(live_server, browser, make_user, name: str, lang: str) -> None:
    """Sign-in, the intake form answered question by question, the review, the case page,
    the case list, a referral accepted and its audit entry, and the printed rights sheet."""
    record = CASES[name]
    answers = answers_for(name)
    screener = make_user("screener", ("MX-CHP", "MX-GRO"), language=lang)
    context = browser.new_context(
        locale="es-MX" if lang == "es" else "en-US", viewport={"width": 1280, "height": 800}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, live_server.url, screener.email, PASSWORD, lang)
    assert page.get_attribute("html", "lang") == lang
    no_serious_axe(page, "landing")

    def each_page(section: str) -> None:
        main = page.locator("main").inner_text()
        for words in FORBIDDEN[lang]:
            assert words not in main, (words, section, lang)
        no_serious_axe(page, section)

    screen_in_browser(page, live_server.url, record, answers, each_page)

    # The review lists every answer; only the answers that mark an indicator record it.
    no_serious_axe(page, "review")
    for code, answer in answers.items():
        row = page.locator(f"#answer-{code} td")
        if answer == MARKED_BY[code]:
            assert row.nth(2).inner_text() != "—", (code, answer)
        else:
            assert row.nth(2).inner_text() == "—", (code, answer)
    for code, question in QUESTIONS[lang].items():
        assert page.locator(f"#answer-{code} td").first.inner_text() == question
    if name == "man":  # could he leave when he wanted? no: movement restricted
        assert page.locator("#answer-movement_restricted td").nth(2).inner_text() != "—"
    if name == "woman":  # does she have her documents? no: documents withheld
        assert page.locator("#answer-documents_withheld td").nth(2).inner_text() != "—"
    if name == "boy":  # he has his documents: nothing recorded
        assert page.locator("#answer-documents_withheld td").nth(2).inner_text() == "—"
    page.locator("form[data-submit-once] button[type=submit]").click()
    page.wait_for_url("**/cases/RT-*")
    code = page.url.rsplit("/", 1)[-1]
    assert page.get_attribute("html", "lang") == lang
    page.reload()  # the page as it is opened again later, without "screening saved"

    height = page.evaluate("document.documentElement.scrollHeight")
    shoot(page, f"case-{name}-{lang}-1280")
    print(f"HEIGHT {name} {lang} 1280 {height}")

    # What to do now comes first, then the needs, then the other alerts.
    assert top(page, "#act-now") < top(page, "#needs") < top(page, "#alerts")
    if record["immediate_danger"]:
        assert top(page, "#act-now #alert-immediate_danger") < top(page, "#need-glance")
    if record["age"] < 18:
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
    no_serious_axe(page, "case page")

    # The case list: its columns for the new case, in the reader's language, no names.
    page.goto(live_server.url + "/cases")
    row = page.locator(f"#case-{code} td")
    cells = [row.nth(i).inner_text().strip() for i in range(row.count())]
    assert cells[0] == code
    for expected, cell in zip(CASE_LIST[lang][name], cells[1:], strict=False):
        assert expected == cell, (cells, lang)
    assert int(cells[7].split()[0]) >= 0 and cells[8] == "0"  # nothing referred yet
    no_serious_axe(page, "case list")

    # A referral, then accepted: the audit log shows its status before and after.
    page.goto(f"{live_server.url}/cases/{code}")
    page.locator("#needs .need form button").first.click()
    page.wait_for_url("**/cases/RT-*")
    card = page.locator(".referral").first
    card.locator("select[name=status]").select_option("accepted")
    card.locator("button[type=submit]").last.click()
    page.wait_for_url("**/cases/RT-*")
    requested, accepted = ACCEPTED[lang]
    assert accepted in page.locator(".referral").first.inner_text()
    admin = make_user("admin", (), national=True, language=lang)
    audit_context = browser.new_context(locale="es-MX" if lang == "es" else "en-US")
    audit = audit_context.new_page()
    sign_in(audit, live_server.url, admin.email, PASSWORD, lang)
    audit.goto(f"{live_server.url}/audit?object_kind=referral&user={screener.email}")
    change = audit.locator("ul.changes li", has=audit.locator(".before")).first
    assert change.locator(".before").inner_text() == requested
    assert change.locator(".after").inner_text() == accepted
    no_serious_axe(audit, "audit")
    audit_context.close()

    # On a phone: the case page fits the width.
    page.goto(f"{live_server.url}/cases/{code}")
    page.set_viewport_size({"width": 375, "height": 800})
    page.wait_for_timeout(100)
    print(f"HEIGHT {name} {lang} 375 {page.evaluate('document.documentElement.scrollHeight')}")
    shoot(page, f"case-{name}-{lang}-375")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    no_serious_axe(page, "case page 375")

    # The rights sheet, in the screening's language, printed.
    page.locator("#rights-link").click()
    page.wait_for_url("**/rights**")
    assert page.get_attribute("html", "lang") == lang
    text = page.locator("main").inner_text()
    for words in SHEET_FORBIDDEN[lang]:
        assert words not in text, (words, name, lang)
    assert code not in text  # nothing about the case
    assert page.locator(".right").count() >= (2 if name != "man" else 1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    no_serious_axe(page, "sheet 375")
    page.set_viewport_size({"width": 1280, "height": 800})
    no_serious_axe(page, "sheet")
    page.emulate_media(media="print")
    shoot(page, f"rights-{name}-{lang}")
    assert page.locator(".no-print").first.is_hidden()
    assert page.locator(".site-header").count() == 0 or page.locator(".site-header").is_hidden()
    assert page.pdf(format="A4")[:4] == b"%PDF"

    if lang == "es":  # screened in Spanish, read in English: every text rendered from codes
        page.emulate_media(media="screen")
        page.goto(f"{live_server.url}/language/en")
        page.goto(f"{live_server.url}/cases/{code}")
        assert page.get_attribute("html", "lang") == "en"
        main = page.locator("main").inner_text()
        for words in FORBIDDEN["en"]:
            assert words not in main, (words, name, "read in English")
    context.close()
