"""A supervisor sets up the second factor in a real browser at the first sign-in, then signs in
with a code from the app and, another time, with a recovery code (issue 16)."""

from __future__ import annotations

import time

import pyotp
import pytest

from tests.browser.conftest import axe_violations
from tests.browser_support import LiveServer
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def sign_in_with_password(page, url: str, email: str) -> None:
    page.goto(url + "/audit")
    page.wait_for_url("**/sign-in?next=*")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_enrol_then_sign_in_with_a_code_and_with_a_recovery_code(
    isolated_database, app_with, make_user, browser
) -> None:
    app = app_with(SECOND_FACTOR="privileged")
    supervisor = make_user("supervisor", ("MX-CHP",), language="en")
    with LiveServer(app) as server:
        context = browser.new_context(locale="en-US", viewport={"width": 375, "height": 800})
        context.set_default_timeout(10_000)
        page = context.new_page()
        sign_in_with_password(page, server.url, supervisor.email)
        page.wait_for_url("**/sign-in/enrol")
        qr = page.get_by_role("img", name="QR code to scan with your authenticator app")
        assert qr.get_attribute("src").startswith("data:image/svg+xml")
        assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # the SVG draws
        secret = page.locator("code.secret-key").inner_text().replace(" ", "")
        assert axe_violations(page) == []
        page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Confirm").click()
        page.get_by_role("heading", name="Your recovery codes").wait_for()
        codes = page.locator("ul.recovery-codes code").all_inner_texts()
        assert len(codes) == 10
        assert axe_violations(page) == []
        page.get_by_role("link", name="I have kept them: continue").click()
        page.wait_for_url(server.url + "/audit")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(server.url + "/")

        # With a code from the app (the next one: the one used to enrol works once).
        sign_in_with_password(page, server.url, supervisor.email)
        page.wait_for_url("**/sign-in/code")
        assert axe_violations(page) == []
        page.get_by_label("Code").fill(pyotp.TOTP(secret).at(int(time.time()) + 30))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(server.url + "/audit")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(server.url + "/")

        # With a recovery code, as typed from paper.
        sign_in_with_password(page, server.url, supervisor.email)
        page.wait_for_url("**/sign-in/code")
        page.get_by_label("Code").fill(codes[0].upper())
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(server.url + "/audit")
        assert "recovery code" in page.locator(".flash:not(.demo-banner)").first.inner_text()
        context.close()
