"""The access matrix: every route as anonymous, screener, supervisor of the object's state,
supervisor of another state and admin, with the answer each must get.

A route missing from MATRIX fails the test: whoever adds a route adds its row here.
Answers: 200, 404 (outside one's reach, existence not revealed), "login" (302 to sign-in),
"home" (302 to the home page), or any other status code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import csrf_token

PERSONAS = ("anonymous", "screener", "supervisor_same", "supervisor_other", "admin")
STATE, OTHER_STATE = "MX-CHP", "MX-GRO"


def row(anonymous: Any, screener: Any, same: Any, other: Any, admin: Any) -> dict[str, Any]:
    return dict(zip(PERSONAS, (anonymous, screener, same, other, admin), strict=True))


# endpoint -> (method, path builder from the objects, expected answers)
MATRIX: dict[str, tuple[str, Callable[[dict[str, Any]], str], dict[str, Any]]] = {
    "static": ("GET", lambda o: "/static/css/app.css", row(200, 200, 200, 200, 200)),
    "site.home": ("GET", lambda o: "/", row(200, 200, 200, 200, 200)),
    "site.report": ("GET", lambda o: "/sources/report", row(200, 200, 200, 200, 200)),
    "site.choose_language": ("GET", lambda o: "/language/en", row(*["home"] * 5)),
    "auth.sign_in": ("GET", lambda o: "/sign-in", row(200, "home", "home", "home", "home")),
    "auth.sign_out": ("POST", lambda o: "/sign-out", row(*["home"] * 5)),
    "auth.setup": ("GET", lambda o: "/setup/not-a-token", row(*[404] * 5)),
    "auth.account": ("GET", lambda o: "/account", row("login", 200, 200, 200, 200)),
    "auth.account_language": (
        "POST",
        lambda o: "/account/language",
        row("login", 400, 400, 400, 400),
    ),
    "auth.account_password": (
        "POST",
        lambda o: "/account/password",
        row("login", 400, 400, 400, 400),
    ),
    "auth.users": ("GET", lambda o: "/admin/users", row("login", 404, 404, 404, 200)),
    "auth.user_new": ("GET", lambda o: "/admin/users/new", row("login", 404, 404, 404, 200)),
    "auth.user_edit": (
        "GET",
        lambda o: f"/admin/users/{o['target_user'].id}",
        row("login", 404, 404, 404, 200),
    ),
    "audit.events": ("GET", lambda o: "/audit", row("login", 404, 200, 200, 200)),
    # The API ignores session cookies: without a bearer token everyone gets 401.
    "api.route": ("POST", lambda o: "/api/v1/route", row(*[401] * 5)),
    "api.codes": ("GET", lambda o: "/api/v1/codes", row(*[401] * 5)),
}


def test_every_route_has_a_row(app) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - MATRIX.keys())
    assert not missing, f"add these routes to the access matrix: {missing}"


@pytest.fixture
def world(make_user) -> dict[str, Any]:
    return {
        "screener": make_user("screener", (STATE,)),
        "supervisor_same": make_user("supervisor", (STATE,)),
        "supervisor_other": make_user("supervisor", (OTHER_STATE,)),
        "admin": make_user("admin", (), national=True),
        "target_user": make_user("screener", (STATE,)),
    }


def answer(response: Any) -> Any:
    if response.status_code == 302:
        location = response.headers["Location"]
        if location.startswith("/sign-in"):
            return "login"
        if location == "/":
            return "home"
    return response.status_code


@pytest.mark.parametrize("persona", PERSONAS)
def test_access_matrix(app, world, login, persona) -> None:
    failures = []
    for endpoint, (method, path_of, expected) in sorted(MATRIX.items()):
        client = app.test_client()
        if persona != "anonymous":
            login(client, world[persona])
        path = path_of(world)
        if method == "GET":
            response = client.get(path)
        else:
            token = csrf_token(client, "/" if persona != "anonymous" else "/sign-in")
            response = client.post(path, data={"csrf_token": token})
        got = answer(response)
        if got != expected[persona]:
            failures.append(
                f"{method} {path} ({endpoint}): expected {expected[persona]}, got {got}"
            )
    assert not failures, "\n".join(failures)
