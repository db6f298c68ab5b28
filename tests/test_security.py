"""Web security in one place: headers on every page, no-store, CSRF, sizes, API tokens, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from referral.security import CONTENT_SECURITY_POLICY
from tests.conftest import csrf_token

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


# --- confidential locations (issue 16) ------------------------------------------------------------


def refer_to_a_shelter(app, screener) -> tuple[Any, Any, Any]:
    """A case of the screener's with a referral to a confidential shelter: (case, referral, svc)."""
    from referral.casework.screening import CaseDetails, store_screening
    from referral.casework.workflow import refer
    from referral.db import get_db
    from referral.directory.catalogue import current_catalogue
    from referral.rules import validate_record
    from tests.factories import GIRL_FROM_HONDURAS

    with app.app_context(), get_db(app).transaction() as session:
        catalogue = current_catalogue(session)
        record = validate_record(GIRL_FROM_HONDURAS, catalogue.codes)
        case, _screening, result = store_screening(
            session, record, catalogue, screener_id=screener.id, details=CaseDetails(True, True)
        )
        service_id = next(
            o.service
            for o in result.options["shelter"]
            if catalogue.services_by_id[o.service].confidential
        )
        referral = refer(
            session,
            case,
            need="shelter",
            service_id=service_id,
            catalogue=catalogue,
            user_id=screener.id,
        )
        return case, referral, catalogue.services_by_id[service_id]


def test_a_confidential_shelter_reaches_no_screener_through_the_referral_sheet(
    app, make_user, login
) -> None:
    screener = make_user("screener", ("MX-CHP",))
    supervisor = make_user("supervisor", ("MX-CHP",))
    admin = make_user("admin", (), national=True)
    _case, referral, service = refer_to_a_shelter(app, screener)
    assert service.confidential and service.contact and service.how_to_refer
    for person in (screener, supervisor):
        client = app.test_client()
        login(client, person)
        for lang in ("es", "en"):
            sheet = client.get(f"/referrals/{referral.id}/sheet?lang={lang}")
            page = sheet.get_data(as_text=True)
            assert sheet.status_code == 200
            assert service.name[lang] in page
            assert service.contact[lang] not in page, person.role
            assert service.how_to_refer[lang] not in page, person.role
            assert "Ruta" in page  # the way in: through the administrators
    client = app.test_client()
    login(client, admin)
    page = client.get(f"/referrals/{referral.id}/sheet?lang=en").get_data(as_text=True)
    assert service.contact["en"] in page and service.how_to_refer["en"] in page


def test_no_api_answer_carries_a_confidential_location(app, client, api_headers) -> None:
    from tests.factories import GIRL_FROM_HONDURAS

    with app.app_context():
        from referral.db import get_db
        from referral.directory.catalogue import current_catalogue

        with get_db(app).transaction(write=False) as session:
            hidden = [
                text
                for s in current_catalogue(session).services_by_id.values()
                if s.confidential
                for field in (s.contact, s.how_to_refer)
                if field
                for text in field.values()
            ]
    assert hidden
    for path, method, body in (
        ("/api/v1/route", "post", GIRL_FROM_HONDURAS),
        ("/api/v1/codes", "get", None),
    ):
        for lang in ("es", "en"):
            response = getattr(client, method)(
                f"{path}?lang={lang}", json=body, headers=api_headers
            )
            assert response.status_code == 200
            answer = response.get_data(as_text=True)
            assert response.is_json and not any(json.dumps(t)[1:-1] in answer for t in hidden)


def test_directory_export_for_sharing_withholds_confidential_locations(runner) -> None:
    full = json.loads(runner.invoke(args=["directory", "export"]).output)
    confidential = [e for e in full if e.get("confidential")]
    assert confidential and all("contact" in e for e in confidential)
    for fmt in ("json", "hsds"):
        result = runner.invoke(
            args=["directory", "export", "--format", fmt, "--withhold-confidential"]
        )
        assert result.exit_code == 0, result.output
        for entry in confidential:
            for lang in ("es", "en"):
                assert entry["contact"][lang] not in result.output
                assert entry["how_to_refer"][lang] not in result.output
        assert "Ruta" in result.output
    shared = json.loads(
        runner.invoke(args=["directory", "export", "--withhold-confidential"]).output
    )
    by_id = {e["id"]: e for e in shared}
    open_entry = next(e for e in full if not e.get("confidential") and e.get("contact"))
    assert by_id[open_entry["id"]] == open_entry  # what is not confidential is all there


# --- a re-screening keeps the case notes (issue 16) --------------------------------------------


def test_a_rescreening_keeps_the_case_notes(app, make_user, login) -> None:
    import re

    from sqlmodel import select

    from referral.casework.models import Case
    from referral.db import get_db
    from tests.factories import answers_marking, fill_all, post_section, submit

    client = app.test_client()
    login(client, make_user("screener", ("MX-CHP",)))
    done = submit(client, fill_all(client))
    code = re.search(r"/cases/(RT-[A-Z0-9-]+)", done.headers["Location"]).group(1)
    token = csrf_token(client, f"/cases/{code}")
    started = client.post(f"/cases/{code}/rescreen", data={"csrf_token": token})
    key = re.search(r"/intake/([^/]+)/encounter", started.headers["Location"]).group(1)
    legal = client.get(f"/intake/{key}/legal").get_data(as_text=True)
    assert "Habla poco." in legal  # the notes come back in the new draft
    post_section(client, key, "indicators", answers_marking("commercial_sex", "violence"))
    assert code in submit(client, key).headers["Location"]
    with get_db(app).transaction(write=False) as session:
        case = session.exec(select(Case).where(Case.code == code)).one()
    assert case.notes == "Habla poco."


# --- downloads are POSTs with a CSRF token (issue 16) -------------------------------------------

DOWNLOADS = (
    "/stats/summary.csv?year=2024",
    "/stats/synthetic.csv?year=2024",
    "/stats/microdata.csv",
    "/stats/dictionary.csv",
)


def test_a_link_on_another_site_cannot_make_a_supervisor_download(app, make_user, login) -> None:
    client = app.test_client()
    login(client, make_user("supervisor", ("MX-CHP",)))
    for path in DOWNLOADS:
        # A top-level GET (a link, an image) carries the Lax session cookie: it gets nothing.
        assert client.get(path).status_code == 405, path
        # A cross-site POST carries no cookie under Lax, and never the page's token.
        assert client.post(path).status_code == 400, path
    page = client.get("/stats?year=2024").get_data(as_text=True)
    token = csrf_token(client, "/stats?year=2024")
    for path in DOWNLOADS[2:]:  # always offered (the others once a release is made)
        assert f'<form method="post" class="inline-form" action="{path}"' in page, path
        answer = client.post(path, data={"csrf_token": token})
        if path == "/stats/microdata.csv":  # no record to publish: back to /stats, told why
            assert answer.status_code == 302 and answer.headers["Location"] == "/stats", path
            continue
        assert answer.status_code == 200, path
        assert "attachment" in answer.headers["Content-Disposition"]


# --- HSTS, the current password, hidden characters, dates and pages (issue 16) -------------------


def test_production_sends_hsts_and_development_does_not(app, app_factory):
    assert "Strict-Transport-Security" not in app.test_client().get("/").headers
    production = app_factory(
        ENV="production", TESTING=False, SECRET_KEY="k" * 32, SECOND_FACTOR="privileged"
    )
    for path in ("/", "/sign-in", "/no-such-page"):
        hsts = production.test_client().get(path).headers["Strict-Transport-Security"]
        assert hsts == "max-age=31536000", path


def change_password(client, current: str):
    new = "a brand new passphrase"
    token = csrf_token(client, "/account")
    return client.post(
        "/account/password",
        data={"csrf_token": token, "current": current, "password": new, "confirm": new},
    )


def test_guessing_the_current_password_is_limited_and_audited(app, make_user, login) -> None:
    from sqlmodel import select

    from referral.audit.models import AuditEvent
    from referral.db import get_db
    from tests.conftest import PASSWORD

    user = make_user("screener")
    client = app.test_client()
    login(client, user)
    first = change_password(client, "is it this one?")
    assert first.status_code == 400
    assert "This is not your current password." in first.get_data(as_text=True) or (
        "contraseña actual" in first.get_data(as_text=True)
    )
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        change_password(client, "or this one?")
    locked = change_password(client, PASSWORD)  # even the right one, from here, for a while
    assert locked.status_code == 400 and "bloqueada" in locked.get_data(as_text=True)
    with get_db(app).transaction(write=False) as session:
        failed = session.exec(
            select(AuditEvent).where(AuditEvent.action == "password_check_failed")
        ).all()
    assert len(failed) == app.config["LOGIN_MAX_FAILURES"]
    assert {e.actor_id for e in failed} == {user.id}


HIDDEN = ("\u202e", "\x00", "\u2066", "\u200f")


def test_hidden_control_characters_are_refused_at_the_field(app, make_user, login) -> None:
    from tests.factories import SECTIONS, post_section, start_draft

    admin = make_user("admin", (), national=True)
    client = app.test_client()
    login(client, admin)
    client.get("/language/en")
    for char in HIDDEN:
        token = csrf_token(client, "/admin/users/new")
        answer = client.post(
            "/admin/users/new",
            data={
                "csrf_token": token,
                "email": "new@example.org",
                "display_name": f"Ana{char}gpj.exe",
                "role": "admin",
                "language": "es",
                "password": "long enough password",
                "confirm": "long enough password",
            },
        )
        page = answer.get_data(as_text=True)
        assert answer.status_code == 400, repr(char)
        assert 'id="display_name-error"' in page and "hidden control characters" in page
        assert 'value="new@example.org"' in page  # the rest of what was typed is kept
    key = start_draft(client)
    for section in ("encounter", "person", "indicators", "needs"):
        post_section(client, key, section, SECTIONS[section])
    legal = {**SECTIONS["legal"], "notes": "Dijo \u202eolleh"}
    page = post_section(client, key, "legal", legal).get_data(as_text=True)
    assert 'id="notes-error"' in page and "hidden control characters" in page
    review = client.get(f"/intake/{key}/review").get_data(as_text=True)
    assert "hidden control characters" in review  # the draft cannot be submitted as it is


def test_every_form_checks_its_free_text() -> None:
    import importlib
    import pkgutil

    from wtforms import Form as WTForm

    import referral
    from referral.forms import SafeText

    for info in pkgutil.walk_packages(referral.__path__, "referral."):
        if ".migrations" not in info.name:
            importlib.import_module(info.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [c for c in subclasses(WTForm) if c.__module__.startswith("referral.")]
    assert len(ours) > 15
    with_text = [
        c
        for c in ours
        if any(
            getattr(f, "field_class", None).__name__
            in {"StringField", "TextAreaField", "EmailField"}
            for f in vars(c).values()
            if hasattr(f, "field_class")
        )
    ]
    unchecked = [c.__qualname__ for c in with_text if not issubclass(c, SafeText)]
    assert with_text and not unchecked


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/audit?until=9999-12-31", "until-error"),
        ("/audit?since=0001-01-01", "since-error"),
        ("/audit?page=99999999999999999999", None),
        ("/supervision?until=9999-12-31", "until-error"),
        ("/supervision?since=0001-01-01", "since-error"),
        ("/supervision/cases?panel=need&key=shelter&until=9999-12-31", None),
        ("/supervision/cases?panel=need&key=shelter&page=99999999999999999999", None),
        ("/supervision/what-if?until=9999-12-31", "until-error"),
    ],
)
def test_out_of_range_dates_and_pages_get_a_message_not_an_error_page(
    app, make_user, login, path, field
) -> None:
    client = app.test_client()
    login(client, make_user("admin", (), national=True, language="en"))
    answer = client.get(path)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200, path
    if field:
        assert f'id="{field}"' in page, path
    if path.startswith("/audit"):
        assert "between the years 1900 and 2999" in page or "no such page" in page


def test_the_csrf_page_never_echoes_a_second_factor_code(app) -> None:
    client = app.test_client()
    page = client.post(
        "/sign-in/code",
        data={"csrf_token": "stale", "code": "c0ffe-e1234"},
        headers={"Origin": "http://localhost"},
    ).get_data(as_text=True)
    assert "c0ffe-e1234" not in page
