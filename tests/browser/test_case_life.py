"""The manage page of a case in a real browser: close with a note, then reopen; axe-core
finds nothing serious at 1280 px and at 375 px."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import axe_violations
from tests.conftest import PASSWORD
from tests.factories import referred_case

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 375])
def test_close_and_reopen_a_case(live_server, browser, make_user, app, width, tmp_path: Path):
    user = make_user("screener", ("MX-CHP",), language="en")
    code = referred_case(app, user.id)
    context = browser.new_context(locale="en-US", viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(live_server.url + f"/cases/{code}")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/cases/{code}")
    page.get_by_role(
        "link", name="Manage the case: close, reopen, hand over, consent withdrawn"
    ).click()
    page.wait_for_url(f"**/cases/{code}/manage")
    assert axe_violations(page) == []
    page.get_by_label("Other", exact=True).check()
    page.get_by_role("button", name="Close the case").click()
    page.wait_for_url(f"**/cases/{code}/close")
    assert "Say in a few words why the case is closed." in page.content()
    assert axe_violations(page) == []
    page.get_by_label("Note (needed for “other”)").fill("Went back home")
    page.get_by_role("button", name="Close the case").click()
    page.wait_for_url(f"**/cases/{code}/manage")
    assert "Went back home" in page.locator("#history-title + ul").inner_text()
    page.screenshot(path=str(tmp_path / f"manage-{width}.png"), full_page=True)
    assert axe_violations(page) == []
    page.get_by_label("Why is the case reopened?").fill("She called again")
    page.get_by_role("button", name="Reopen the case").click()
    page.wait_for_url(f"**/cases/{code}/manage")
    assert "Close the case" in page.content()
    context.close()
