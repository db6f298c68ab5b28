"""Web security in one place: headers on every page, no-store, CSRF, sizes, API tokens, errors."""

from __future__ import annotations

import pytest

from referral.security import CONTENT_SECURITY_POLICY

PUBLIC_PAGES = ("/", "/sources/report", "/sign-in", "/no-such-page", "/setup/unknown")
SIGNED_IN_PAGES = ("/", "/account", "/admin/users", "/admin/users/new", "/audit", "/no-such-page")


def assert_security_headers(response, path: str) -> None:
    headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff", path
    assert headers["Referrer-Policy"] == "no-referrer", path
    assert headers["X-Frame-Options"] == "DENY", path


def test_every_route_and_error_has_the_security_headers(app, make_user, login) -> None:
    client = app.test_client()
    for path in PUBLIC_PAGES:
        assert_security_headers(client.get(path), path)
    assert_security_headers(client.post("/api/v1/route", json={}), "api")
    assert_security_headers(client.delete("/"), "405")
    login(client, make_user("admin", (), national=True))
    for path in SIGNED_IN_PAGES:
        assert_security_headers(client.get(path), path)


def test_signed_in_pages_are_never_stored(app, make_user, login) -> None:
    client = app.test_client()
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    assert client.get("/sign-in").headers["Cache-Control"] == "no-store"
    login(client, make_user("admin", (), national=True))
    for path in SIGNED_IN_PAGES:
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    assert "no-store" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")


def test_session_cookie_flags(app, make_user, login) -> None:
    client = app.test_client()
    response = login(client, make_user("screener"))
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development over plain http on loopback
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_production_cookies_are_secure(tmp_path, migrated_database) -> None:
    from referral import create_app

    production = create_app(
        {
            "ENV": "production",
            "SECRET_KEY": "k" * 32,
            "AUTO_SETUP": False,
            "DATABASE_URL": migrated_database,
            "INSTANCE_PATH": str(tmp_path),
        }
    )
    assert production.config["SESSION_COOKIE_SECURE"] is True
    assert production.config["SESSION_COOKIE_HTTPONLY"] is True


def test_a_form_without_csrf_token_is_refused_with_a_clear_page(app, make_user) -> None:
    user = make_user("screener")
    client = app.test_client()
    response = client.post("/sign-in", data={"email": user.email, "password": "whatever it is"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "El formulario venció" in page
    assert client.get("/account").status_code == 302  # nobody signed in
    client.get("/language/en")
    english = client.post("/sign-in", data={"email": user.email}).get_data(as_text=True)
    assert "The form has expired" in english


def test_csrf_page_keeps_what_was_typed_but_never_passwords(app, make_user) -> None:
    user = make_user("screener")
    client = app.test_client()
    response = client.post(
        "/sign-in",
        data={"csrf_token": "stale", "email": user.email, "password": "secret passphrase"},
        headers={"Origin": "http://localhost"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'value="{user.email}"' in page
    assert "secret passphrase" not in page
    assert 'name="csrf_token" value="' in page  # a fresh token to send it again
    # Sent from another site, nothing is offered for re-sending.
    cross = client.post(
        "/sign-in", data={"email": user.email}, headers={"Origin": "https://evil.example"}
    )
    assert f'value="{user.email}"' not in cross.get_data(as_text=True)


def test_sign_out_needs_the_csrf_token(app, make_user, login) -> None:
    client = app.test_client()
    login(client, make_user("screener"))
    assert client.post("/sign-out").status_code == 400
    assert client.get("/account").status_code == 200


def test_too_large_a_request_gets_a_translated_413(app) -> None:
    client = app.test_client()
    body = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/sign-in", data={"email": body})
    assert response.status_code == 413
    assert "Lo que envió es demasiado grande" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path", "code", "spanish"),
    [
        ("GET", "/no-such-page", 404, "Página no encontrada"),
        ("DELETE", "/", 405, "No se permite de esta forma"),
        ("GET", "/setup/unknown", 404, "Este enlace de configuración no es válido"),
    ],
)
def test_error_pages_are_translated_in_the_layout(client, method, path, code, spanish) -> None:
    response = client.open(path, method=method)
    assert response.status_code == code
    page = response.get_data(as_text=True)
    assert spanish in page and '<main id="main"' in page


def test_server_error_page(app) -> None:
    @app.get("/boom-for-test")
    def boom() -> str:
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom-for-test", headers={"Accept-Language": "en"})
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


# --- the API: bearer tokens only -----------------------------------------------------------------


def test_api_without_or_with_a_bad_token_is_401_json(client) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer ruta_not-a-real-token"},
        {"Authorization": "Basic eDp5"},
    ):
        for response in (
            client.get("/api/v1/codes", headers=headers),
            client.post("/api/v1/route", json={}, headers=headers),
        ):
            assert response.status_code == 401
            assert response.is_json and response.get_json()["error"] == "unauthorized"
            assert "Location" not in response.headers
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_ignores_a_signed_in_session_cookie(app, make_user, login) -> None:
    client = app.test_client()
    login(client, make_user("admin", (), national=True))
    assert client.get("/account").status_code == 200
    assert client.get("/api/v1/codes").status_code == 401


def test_api_with_a_token_needs_no_csrf_and_no_cookie(client, api_headers) -> None:
    assert client.get("/api/v1/codes", headers=api_headers).status_code == 200
    response = client.post("/api/v1/route", json={}, headers=api_headers)
    assert response.status_code == 422  # reached the view: validation, not CSRF
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_api_path_answers_json(client) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code in (401, 404)
    assert response.is_json
