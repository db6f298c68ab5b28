from __future__ import annotations

import pytest

from tests.browser.conftest import axe_violations

pytestmark = pytest.mark.browser


def test_language_switch_changes_and_keeps_the_language(live_server, page) -> None:
    page.goto(live_server.url + "/")
    assert page.get_attribute("html", "lang") == "es"
    assert page.locator("h1").inner_text().startswith("Ruta: detección")
    page.get_by_role("link", name="English").click()
    page.wait_for_url(live_server.url + "/")
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("h1").inner_text().startswith("Ruta: screening")
    page.goto(live_server.url + "/sources/report")
    assert page.get_attribute("html", "lang") == "en"
    page.get_by_role("link", name="Español").click()
    page.wait_for_url(live_server.url + "/sources/report")
    assert page.get_attribute("html", "lang") == "es"


def test_skip_link_is_the_first_stop_for_the_keyboard(live_server, page) -> None:
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_home_has_no_serious_accessibility_violation(live_server, page) -> None:
    for language in ("es", "en"):
        page.goto(f"{live_server.url}/language/{language}")
        assert axe_violations(page) == [], language


def test_home_fits_a_phone(live_server, browser) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740})
    phone = context.new_page()
    phone.goto(live_server.url + "/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    context.close()
