"""The dashboard in a real browser, in Spanish and in English: charts, tables, links to the
cases behind a number, and no serious or critical accessibility violation."""

from __future__ import annotations

import pytest

from tests.browser.conftest import axe_violations
from tests.conftest import PASSWORD
from tests.factories import generate_dashboard_data

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("language", "heading", "chart", "what_if"),
    [
        ("es", "Brechas en la canalización", "Brechas por necesidad",
         "¿Qué pasaría si cambiara el directorio?"),
        ("en", "Referral gaps", "Gaps by need", "What if the directory changed?"),
    ],
)  # fmt: skip
def test_dashboard_in_both_languages(
    app, live_server, page, make_user, language, heading, chart, what_if
) -> None:
    supervisor = make_user("supervisor", ("MX-GRO", "MX-CHP", "MX-TLA"), language=language)
    screener = make_user("screener", ("MX-GRO", "MX-CHP", "MX-TLA"))
    generate_dashboard_data(app, screener.id, count=25, seed=5)
    scenario(page, live_server, supervisor, language, heading, chart, what_if)


def scenario(page, live_server, supervisor, language, heading, chart, what_if) -> None:
    page.goto(f"{live_server.url}/language/{language}")
    page.goto(f"{live_server.url}/sign-in")
    page.fill("input[name=email]", supervisor.email)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/supervision")
    assert page.get_attribute("html", "lang") == language
    assert page.locator("h1").inner_text() == heading
    figure = page.get_by_role("img", name=chart)
    assert figure.count() == 1
    assert axe_violations(page) == []
    # A number in the table opens the cases behind it.
    page.locator("#by-need-heading ~ .table-wrap a").first.click()
    page.wait_for_load_state()
    assert "/supervision/cases" in page.url
    assert page.locator("table a").count() >= 1
    assert axe_violations(page) == []
    page.goto(f"{live_server.url}/supervision/what-if")
    assert page.locator("h1").inner_text() == what_if
    page.select_option("#add_need", "shelter")
    page.select_option("#add_state", "MX-GRO")
    page.get_by_role("button", name="Comparar" if language == "es" else "Compare").click()
    page.wait_for_load_state()
    assert page.locator("#result").count() == 1
    assert axe_violations(page) == []
