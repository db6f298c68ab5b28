"""Signing in and out in a real browser, in Spanish and in English, with an accessibility check."""

from __future__ import annotations

import pytest

from tests.browser.conftest import axe_violations
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("locale", "labels"),
    [
        (
            "es-MX",
            {
                "sign_in": "Iniciar sesión",
                "email": "Correo electrónico",
                "password": "Contraseña",
                "sign_out": "Cerrar sesión",
                "wrong": "no son correctos",
                "lang": "es",
            },
        ),
        (
            "en-US",
            {
                "sign_in": "Sign in",
                "email": "Email",
                "password": "Password",
                "sign_out": "Sign out",
                "wrong": "is not right",
                "lang": "en",
            },
        ),
    ],
)
def test_sign_in_and_out(live_server, browser, make_user, locale, labels) -> None:
    user = make_user("supervisor", ("MX-CHP",), language=labels["lang"])
    context = browser.new_context(locale=locale)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(live_server.url + "/audit")
    page.wait_for_url("**/sign-in?next=*")
    assert page.get_attribute("html", "lang") == labels["lang"]
    assert axe_violations(page) == []
    page.get_by_label(labels["email"]).fill(user.email)
    page.get_by_label(labels["password"]).fill("not the right password")
    page.get_by_role("button", name=labels["sign_in"]).click()
    assert labels["wrong"] in page.locator("[role=alert]").inner_text()
    assert page.get_by_label(labels["email"]).input_value() == user.email
    page.get_by_label(labels["password"]).fill(PASSWORD)
    page.get_by_role("button", name=labels["sign_in"]).click()
    page.wait_for_url(live_server.url + "/audit")
    assert page.locator("h1").inner_text()
    assert axe_violations(page) == []
    page.get_by_role("button", name=labels["sign_out"]).click()
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/account")
    page.wait_for_url("**/sign-in?next=*")
    context.close()
