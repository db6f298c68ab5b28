"""The demonstration banner and badges in a real browser, at 1280 and 375 px, in Spanish
and English: visible, no serious axe violation, no sideways scrolling on a phone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser_support import axe_violations
from tests.conftest import PASSWORD
from tests.directory.test_demonstration import NETWORK, new_case

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["es", "en"])
def test_directory_and_case_options_show_the_demonstration(
    live_server, browser, client, login, make_user, lang, tmp_path
) -> None:
    shots = Path(os.environ.get("RUTA_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    user = make_user("supervisor", ("MX-CHP",), language=lang)
    login(client, user)
    code = new_case(client)
    context = browser.new_context(locale="es-MX" if lang == "es" else "en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(live_server.url + "/sign-in")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    for width, height in ((1280, 900), (375, 800)):
        page.set_viewport_size({"width": width, "height": height})
        for name, path, marked in (
            ("directory", "/directory?state=MX-CHP", f"#svc-{NETWORK} .badge-demo"),
            ("case", f"/cases/{code}#need-shelter", "#need-shelter .badge-demo"),
        ):
            page.goto(live_server.url + path)
            assert page.locator(".demo-banner").is_visible()
            assert page.locator(marked).first.is_visible()
            assert page.locator(".badge-unverified").first.is_visible()
            assert axe_violations(page) == []
            if width == 375:
                overflow = page.evaluate(
                    "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                )
                assert overflow <= 0, (name, overflow)
            page.screenshot(path=str(shots / f"{name}-{lang}-{width}.png"), full_page=False)
            if name == "case":
                page.locator("#need-shelter").screenshot(
                    path=str(shots / f"{name}-options-{lang}-{width}.png")
                )
    context.close()
