"""The admin's and supervisor's lists in Chromium, at 1280 and 375 px, in both languages:
the navigation fits one line on a desktop, the audit log, the user form and the dashboard
have no serious or critical axe finding, and the /stats tables that scroll take the focus.

Screenshots go to ``REFERRAL_SCREENSHOTS`` (a folder) when it is set, to be looked at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import axe_violations
from tests.conftest import PASSWORD
from tests.factories import generate_dashboard_data

pytestmark = pytest.mark.browser

PAGES = {
    "audit": "/audit",
    "user_form": "/admin/users/new",
    "dashboard": "/supervision",
    "users": "/admin/users",
    "stats": "/stats",
    "outbox": "/admin/outbox",
}


def shoot(page, name: str) -> None:
    folder = os.environ.get("REFERRAL_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        # The first screen, as a person sees it.
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=False)


def header_spread(page) -> float:
    """How far apart (px) the middles of the header's parts are: about 0 on one line."""
    return page.evaluate(
        "(() => { const m = [...document.querySelectorAll("
        "'.site-header .brand, .site-header .nav li, .site-header .account-bar > *, "
        ".site-header .language-switch li')].map(e => { const r = e.getBoundingClientRect();"
        " return (r.top + r.bottom) / 2; }); return Math.max(...m) - Math.min(...m); })()"
    )


@pytest.mark.parametrize("language", ["es", "en"])
def test_admin_pages_at_both_widths(app, live_server, browser, make_user, language) -> None:
    admin = make_user("admin", (), national=True, language=language)
    screener = make_user("screener", ("MX-GRO", "MX-CHP", "MX-TLA"))
    generate_dashboard_data(app, screener.id, count=12, seed=3)
    for width, height in ((1280, 800), (375, 812)):
        context = browser.new_context(
            locale="es-MX" if language == "es" else "en-US",
            viewport={"width": width, "height": height},
        )
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.goto(f"{live_server.url}/sign-in")
        page.fill("input[name=email]", admin.email)
        page.fill("input[name=password]", PASSWORD)
        page.press("input[name=password]", "Enter")
        page.wait_for_url(f"{live_server.url}/admin/users")  # an admin lands on the users
        for name, path in PAGES.items():
            page.goto(live_server.url + path)
            assert page.get_attribute("html", "lang") == language
            # The admin reaches the outbox from the header, on every page.
            outbox_link = page.locator(".site-header nav a[href$='/admin/outbox']")
            assert outbox_link.count() == 1, name
            if name == "outbox":
                assert outbox_link.get_attribute("aria-current") == "page"
            assert axe_violations(page) == [], (name, width)
            if width == 1280:
                assert header_spread(page) < 12, name  # one line
            # Nothing is wider than the screen but the tables that scroll in their box.
            overflow = page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= width, (name, width, overflow)
            shoot(page, f"{name}-{language}-{width}")
            if name == "user_form" and os.environ.get("REFERRAL_SCREENSHOTS"):
                page.locator("form fieldset").first.screenshot(
                    path=f"{os.environ['REFERRAL_SCREENSHOTS']}/states-{language}-{width}.png"
                )
            if name == "dashboard" and os.environ.get("REFERRAL_SCREENSHOTS"):
                for chart in ("by-open-for", "by-reason"):
                    page.locator(f"section[aria-labelledby={chart}-heading]").screenshot(
                        path=f"{os.environ['REFERRAL_SCREENSHOTS']}/{chart}-{language}-{width}.png"
                    )
        favicon = page.evaluate("document.querySelector('link[rel=icon]').href")
        assert page.request.get(favicon).status == 200
        # Every table that scrolls sideways on /stats is reachable with the keyboard.
        page.goto(f"{live_server.url}/stats")
        scrolling = page.locator(".table-scroll, .table-wrap")
        for i in range(scrolling.count()):
            assert scrolling.nth(i).get_attribute("tabindex") == "0"
        context.close()
