"""Browser fixtures for every test folder: one live server per test, one Chromium per session.

Debian's Chromium is driven by Playwright (no browser download). The fixtures live here,
loaded once from tests/conftest.py, so that only one Playwright session ever runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

AXE_SOURCE: str | None = None


class LiveServer:
    def __init__(self, app: Any) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(isolated_database, app) -> Iterator[LiveServer]:
    """The app served from other threads: it commits for real (``isolated_database``)."""
    with LiveServer(app) as server:
        yield server


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="es-MX")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """Run axe-core (the copy shipped in the axe-playwright-python wheel) on the page."""
    global AXE_SOURCE
    if AXE_SOURCE is None:
        import axe_playwright_python

        AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
    page.evaluate(AXE_SOURCE)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]


SIGN_IN_WORDS = {
    "es": ("Correo electrónico", "Contraseña", "Iniciar sesión"),
    "en": ("Email", "Password", "Sign in"),
}


def sign_in(page: Any, url: str, email: str, password: str, lang: str) -> None:
    """Sign in through the form, with the labels of ``lang``."""
    email_label, password_label, button = SIGN_IN_WORDS[lang]
    page.goto(url + "/sign-in")
    page.get_by_label(email_label).fill(email)
    page.get_by_label(password_label).fill(password)
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state()


def screen_in_browser(
    page: Any,
    url: str,
    record: dict[str, Any],
    answers: dict[str, str],
    on_each_page: Callable[[str], None],
) -> None:
    """Fill the intake form section by section from a screening record (CONTRACT section 1)
    and the answers to the questions (indicator code -> yes / no / not_asked / ...), up to the
    review step. ``on_each_page(section)`` runs on each filled page before it is left (axe)."""

    def next_section(step: str) -> None:
        on_each_page(step)
        page.locator("button[name=next]").click()

    page.goto(url + "/intake")
    page.locator("form[action='/intake'] button").click()
    page.wait_for_url("**/encounter")
    page.select_option("#encounter", record["encounter"])
    page.select_option("#state", record["state"])
    page.check(f"input[name=setting][value={record['setting']}]")
    next_section("encounter")

    page.wait_for_url("**/person")
    page.fill("#age", str(record["age"]))
    page.check(f"input[name=sex][value={record['sex']}]")
    page.select_option("#nationality", record["nationality"])
    page.select_option("#migration_status", record["migration_status"])
    for code in record["vulnerabilities"]:
        page.check(f"input[name=vulnerabilities][value={code}]")
    for index, child in enumerate(record["companions"]):
        page.locator("button[name=add_child]").click()  # the same page again, one child more
        page.wait_for_selector(f"#companions-{index}-age")
        page.fill(f"#companions-{index}-age", str(child["age"]))
        page.select_option(f"#companions-{index}-sex", child["sex"])
    next_section("person")

    page.wait_for_url("**/indicators")
    for code, answer in answers.items():
        page.check(f"#q_{code}-{answer}")
    if record["sector"]:
        page.select_option("#sector", record["sector"])
    next_section("indicators")

    page.wait_for_url("**/needs")
    for code in record["needs"]:
        page.check(f"input[name=needs][value={code}]")
    for flag in ("immediate_danger", "cross_border", "organized_crime"):
        if record[flag]:
            page.check(f"#{flag}")
    next_section("needs")

    page.wait_for_url("**/legal")
    page.check("input[name=consent_referral][value=yes]")
    page.check("input[name=consent_statistics][value=yes]")
    next_section("legal")
    page.wait_for_url("**/review")
