"""The dashboard in a real browser, in Spanish and in English: charts, tables, links to the
cases behind a number, and no serious or critical accessibility violation.

Playwright runs in its own thread: other test modules keep their own Playwright (and its
event loop) open in the main thread, and two sync Playwrights cannot share a thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, axe_violations
from tests.conftest import PASSWORD
from tests.supervision.helpers import generate

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server(app) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def in_browser(chromium_path: str) -> Callable[[Callable[[Any], None], str], None]:
    """``in_browser(scenario, locale)`` runs ``scenario(page)`` in a fresh Chromium."""

    def run(scenario: Callable[[Any], None], locale: str) -> None:
        def work() -> None:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium_path, headless=True,
                    args=["--no-sandbox", "--disable-gpu"],
                )  # fmt: skip
                try:
                    context = browser.new_context(locale=locale)
                    context.set_default_timeout(10_000)
                    scenario(context.new_page())
                finally:
                    browser.close()

        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(work).result()

    return run


@pytest.mark.parametrize(
    ("language", "heading", "chart", "what_if"),
    [
        ("es", "Brechas en la canalización", "Brechas por necesidad",
         "¿Qué pasaría si cambiara el directorio?"),
        ("en", "Referral gaps", "Gaps by need", "What if the directory changed?"),
    ],
)  # fmt: skip
def test_dashboard_in_both_languages(
    app, live_server, in_browser, make_user, language, heading, chart, what_if
) -> None:
    supervisor = make_user("supervisor", ("MX-GRO", "MX-CHP", "MX-TLA"), language=language)
    screener = make_user("screener", ("MX-GRO", "MX-CHP", "MX-TLA"))
    generate(app, screener.id, count=25, seed=5)
    in_browser(
        lambda page: scenario(page, live_server, supervisor, language, heading, chart, what_if),
        "es-MX" if language == "es" else "en-US",
    )


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
