"""Hostile input: every form and API endpoint, fuzzed with hypothesis.

Wrong types, huge strings, unicode (RTL marks, NUL, astral planes), missing and extra
fields, HTML and SQL in every text field. The rule for every answer: never a 5xx, never
the raw markup sent reflected into a page; text that is stored is shown escaped.
Example counts are bounded (about a minute per database).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import csrf_token
from tests.factories import SECTIONS, fill_all, start_draft, submit

SCRIPT = "<script>alert('ruta')</script>"
HOSTILE = [
    SCRIPT,
    '"><img src=x onerror=alert(1)>',
    "' OR '1'='1'; DROP TABLE case_file; --",
    "1; SELECT pg_sleep(10) --",
    "\u202eadnaraM\u202c",  # right-to-left override
    "مرحبا بالعالم",
    "\x00",
    "a\x00b",
    "𝕽𝖚𝖙𝖆 🧭",
    "",
    " ",
    "-1",
    "0",
    "121",
    "1e309",
    "NaN",
    "9" * 40,
    "true",
    "null",
    "[]",
    "{}",
    "%00",
    "../../../etc/passwd",
    "\r\nSet-Cookie: x=1",
    "{{ 7*7 }}",
    "%(code)s",
]
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=200),
    st.builds(lambda s, n: s * n, st.sampled_from([SCRIPT, "ñ", "x"]), st.integers(200, 4000)),
)
value = st.one_of(text, st.lists(text, max_size=4))


def form_data(fields: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Some of the form's fields (others missing), maybe extra ones, each hostile."""
    names = st.one_of(st.sampled_from(fields), st.text(min_size=1, max_size=30))
    return st.dictionaries(names, value, max_size=len(fields) + 3)


def assert_safe(response: Any) -> str:
    assert response.status_code < 500, response.get_data(as_text=True)[:2000]
    body = response.get_data(as_text=True)
    assert SCRIPT not in body, "markup sent was reflected unescaped"
    assert "<img src=x onerror" not in body
    assert "Traceback" not in body
    return body


def with_token(client: FlaskClient, token: str, data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "csrf_token": token}


INTAKE_FIELDS: dict[str, list[str]] = {
    "encounter": ["encounter", "state", "setting"],
    "person": [
        "age",
        "age_unknown",
        "clearly_adult",
        "sex",
        "nationality",
        "languages",
        "other_languages",
        "migration_status",
        "vulnerabilities",
        "companions-0-age",
        "companions-0-sex",
        "companions-9-age",
        "add_child",
        "remove_child",
    ],
    "indicators": ["q_documents_withheld", "q_commercial_sex", "sector"],
    "needs": ["needs", "immediate_danger", "cross_border", "organized_crime"],
    "legal": [
        "official_involvement",
        "complaint_filed",
        "victim_status",
        "consent_referral",
        "consent_statistics",
        "notes",
    ],
}
BUTTONS = ["next", "back", "save", "goto"]


@pytest.fixture
def screener(client: FlaskClient, make_user: Callable[..., Any], login: Callable[..., Any]) -> Any:
    user = make_user("screener", national=True)
    login(client, user)
    return user


# --- intake -------------------------------------------------------------------------------


@pytest.mark.parametrize("section", list(INTAKE_FIELDS))
def test_intake_sections_take_anything(client: FlaskClient, screener: Any, section: str) -> None:
    key = start_draft(client)
    token = csrf_token(client, f"/intake/{key}/{section}")
    fields = INTAKE_FIELDS[section] + BUTTONS + ["_section"]

    @FUZZ
    @given(data=form_data(fields))
    def post(data: dict[str, Any]) -> None:
        response = client.post(f"/intake/{key}/{section}", data=with_token(client, token, data))
        assert_safe(response)
        assert_safe(client.get(f"/intake/{key}/{section}"))

    post()
    assert_safe(client.get(f"/intake/{key}/review"))


def test_autosave_and_submit_take_anything(client: FlaskClient, screener: Any) -> None:
    key = start_draft(client)
    token = csrf_token(client, f"/intake/{key}/encounter")
    every_field = [name for names in INTAKE_FIELDS.values() for name in names]

    @FUZZ
    @given(
        data=form_data(every_field),
        section=st.one_of(st.sampled_from([*INTAKE_FIELDS, "review"]), text),
    )
    def autosave(data: dict[str, Any], section: str) -> None:
        response = client.post(
            f"/intake/{key}/autosave", data=with_token(client, token, {**data, "_section": section})
        )
        assert_safe(response)
        if response.status_code == 200:
            assert response.get_json()["saved"] is True
        assert_safe(client.post(f"/intake/{key}/submit", data={"csrf_token": token}))

    autosave()


def test_hostile_text_is_stored_and_shown_escaped(
    app: Flask, client: FlaskClient, screener: Any
) -> None:
    key = fill_all(
        client,
        # Bidirectional controls are refused at the field (tests/test_security.py, issue 16).
        {"legal": {"notes": SCRIPT + " ' OR 1=1 --"}, "person": {"other_languages": ""}},
    )
    assert_safe(client.get(f"/intake/{key}/review"))
    done = submit(client, key)
    assert done.status_code == 302
    case_page = assert_safe(client.get(done.headers["Location"]))
    assert "&lt;script&gt;alert(" in case_page
    from sqlmodel import select

    from referral.casework.models import Case
    from referral.db import get_db

    with app.app_context(), get_db(app).transaction() as session:
        stored = session.exec(select(Case.notes)).all()
    assert stored == [SCRIPT + " ' OR 1=1 --"], "stored as typed, escaped only on output"


def test_a_typed_language_code_in_an_error_is_escaped(client: FlaskClient, screener: Any) -> None:
    """Regression: the message quoting a bad language code was a lazy string, which Jinja
    treats as safe markup, so the code typed was put into the page as HTML."""
    key = start_draft(client)
    token = csrf_token(client, f"/intake/{key}/person")
    values = {**SECTIONS["person"], "other_languages": SCRIPT, "csrf_token": token, "next": "1"}
    page = assert_safe(client.post(f"/intake/{key}/person", data=values))
    assert "&lt;script&gt;alert(" in page and "no es un código de idioma" in page


def test_unknown_drafts_and_sections_are_404(client: FlaskClient, screener: Any) -> None:
    @FUZZ
    @given(key=text, section=text)
    def visit(key: str, section: str) -> None:
        path = "/intake/" + re.sub(r"[/?#%]", "", key or "k") + "/" + re.sub(r"[/?#%]", "", section)
        assert_safe(client.get(path))

    visit()


# --- cases and referrals ------------------------------------------------------------------


@pytest.fixture
def case_code(client: FlaskClient, screener: Any) -> str:
    key = fill_all(client)
    response = submit(client, key)
    assert response.status_code == 302
    return response.headers["Location"].rsplit("/", 1)[-1]


def test_referral_forms_take_anything(app: Flask, client: FlaskClient, case_code: str) -> None:
    token = csrf_token(client, f"/cases/{case_code}")
    ad_hoc = client.post(
        f"/cases/{case_code}/referrals/ad-hoc",
        data={"csrf_token": token, "need": "shelter", "provider": SCRIPT, "reason": SCRIPT},
    )
    assert ad_hoc.status_code == 302
    page = assert_safe(client.get(f"/cases/{case_code}"))
    assert "&lt;script&gt;alert(" in page
    ids = [int(m) for m in re.findall(r"/referrals/(\d+)/", page)]
    assert ids, "the referral is listed on the case page"

    @FUZZ
    @given(
        target=st.sampled_from(["refer", "ad_hoc", "status"]),
        data=form_data(["need", "service_id", "provider", "reason", "status", "reason_code"]),
        version=st.one_of(text, st.integers(-(2**63), 2**63)),
        referral=st.one_of(st.sampled_from(ids), st.integers(0, 2**31)),
    )
    def post(target: str, data: dict[str, Any], version: Any, referral: int) -> None:
        path = {
            "refer": f"/cases/{case_code}/referrals",
            "ad_hoc": f"/cases/{case_code}/referrals/ad-hoc",
            "status": f"/referrals/{referral}/status",
        }[target]
        response = client.post(path, data=with_token(client, token, {**data, "version": version}))
        assert_safe(response)

    post()
    assert_safe(client.get(f"/cases/{case_code}"))
    assert_safe(client.get(f"/referrals/{ids[0]}/sheet?lang=%00"))


def test_list_and_dashboard_queries_take_anything(
    app: Flask, make_user: Callable[..., Any], login: Callable[..., Any], case_code: str
) -> None:
    supervisor = make_user("supervisor", national=True)
    admin = make_user("admin", national=True)
    paths = [
        "/cases",
        "/supervision",
        "/supervision/cases",
        "/supervision/what-if",
        "/stats",
        "/audit",
        "/directory",
        "/admin/users",
    ]
    names = ["status", "code", "page", "panel", "key", "state", "year", "need", "threshold"]
    query_values = st.one_of(text, st.integers(-(2**70), 2**70).map(str))

    for user in (supervisor, admin):
        client = app.test_client()
        login(client, user)
        fuzz_reads(client, paths, names, query_values)


def fuzz_reads(
    client: FlaskClient, paths: list[str], names: list[str], values: st.SearchStrategy[str]
) -> None:
    @FUZZ
    @given(
        path=st.sampled_from(paths),
        params=st.dictionaries(st.sampled_from(names), values, max_size=4),
    )
    def read(path: str, params: dict[str, str]) -> None:
        assert_safe(client.get(path, query_string=params))

    read()


# --- accounts -----------------------------------------------------------------------------


def test_sign_in_takes_anything(client: FlaskClient, make_user: Callable[..., Any]) -> None:
    make_user("screener", email="target@example.org")

    @FUZZ
    @given(data=form_data(["email", "password", "next"]))
    def sign_in(data: dict[str, Any]) -> None:
        token = csrf_token(client, "/sign-in")
        assert_safe(client.post("/sign-in", data=with_token(client, token, data)))

    sign_in()
    # No token, a forged token: a clear 400, never a 500.
    assert client.post("/sign-in", data={"email": SCRIPT}).status_code == 400
    assert client.post("/sign-in", data={"csrf_token": "x" * 5000}).status_code == 400


def test_account_and_admin_forms_take_anything(
    app: Flask, client: FlaskClient, make_user: Callable[..., Any], login: Callable[..., Any]
) -> None:
    admin = make_user("admin", national=True, email="admin@example.org")
    other = make_user("screener", email="other@example.org")
    login(client, admin)
    token = csrf_token(client, "/account")
    user_fields = ["email", "display_name", "role", "national", "states", "language", "active"]

    @FUZZ
    @given(
        target=st.sampled_from(["language", "password", "new", "edit"]),
        data=form_data([*user_fields, "current", "password", "confirm"]),
    )
    def post(target: str, data: dict[str, Any]) -> None:
        if target == "password":  # never the real current password: the account stays usable
            data.pop("current", None)
        path = {
            "language": "/account/language",
            "password": "/account/password",
            "new": "/admin/users/new",
            "edit": f"/admin/users/{other.id}",
        }[target]
        assert_safe(client.post(path, data=with_token(client, token, data)))

    post()
    new = client.post(
        "/admin/users/new",
        data={
            "csrf_token": token,
            "email": "shown@example.org",
            "display_name": SCRIPT,
            "role": "screener",
            "national": "y",
            "language": "es",
            "active": "y",
            "password": "another long passphrase here",
            "confirm": "another long passphrase here",
        },
    )
    assert new.status_code in (200, 302)
    users = assert_safe(client.get("/admin/users"))
    if new.status_code == 302:
        assert "&lt;script&gt;alert(" in users


# --- API ----------------------------------------------------------------------------------

json_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False),
        text,
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(text, children, max_size=4)
    ),
    max_leaves=12,
)
RECORD_FIELDS = [
    "age",
    "clearly_adult",
    "sex",
    "nationality",
    "state",
    "setting",
    "languages",
    "migration_status",
    "encounter",
    "indicators",
    "sector",
    "vulnerabilities",
    "companions",
    "needs",
    "immediate_danger",
]


def test_route_api_takes_anything(client: FlaskClient, api_headers: dict[str, str]) -> None:
    good = {
        "age": 15,
        "sex": "female",
        "nationality": "HN",
        "state": "MX-CHP",
        "setting": "urban",
        "languages": ["es"],
        "migration_status": "irregular",
        "encounter": "migration_detention",
        "indicators": ["commercial_sex"],
        "needs": ["shelter"],
        "complaint_filed": False,
        "victim_status": False,
        "cross_border": False,
        "organized_crime": False,
        "official_involvement": False,
    }

    @FUZZ
    @given(
        changes=st.dictionaries(st.one_of(st.sampled_from(RECORD_FIELDS), text), json_value),
        drop=st.lists(st.sampled_from(list(good)), max_size=3),
        whole=st.one_of(st.none(), json_value),
        lang=st.one_of(st.sampled_from(["es", "en"]), text),
    )
    def route(changes: dict[str, Any], drop: list[str], whole: Any, lang: str) -> None:
        record = whole if whole is not None else {**good, **changes}
        if isinstance(record, dict):
            for name in drop:
                record.pop(name, None)
        response = client.post(
            "/api/v1/route",
            data=json.dumps(record),
            content_type="application/json",
            headers=api_headers,
            query_string={"lang": lang},
        )
        assert response.status_code in (200, 422), response.get_data(as_text=True)[:1000]
        body = response.get_json()
        assert isinstance(body, dict)
        if response.status_code == 422:
            assert body["errors"], "a refused record says why"

    route()


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"", "application/json"),
        (b"{", "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b'{"age": 1e999}', "application/json"),
        (b"[" * 5000 + b"]" * 5000, "application/json"),
        (json.dumps({"age": "x" * 100_000}).encode(), "application/json"),
        (b"age=15", "application/x-www-form-urlencoded"),
        (b"<xml/>", "text/xml"),
    ],
)
def test_route_api_refuses_broken_bodies(
    client: FlaskClient, api_headers: dict[str, str], body: bytes, content_type: str
) -> None:
    response = client.post(
        "/api/v1/route", data=body, content_type=content_type, headers=api_headers
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    assert response.get_json()["errors"]


def test_api_without_or_with_a_hostile_token_is_refused(client: FlaskClient) -> None:
    @FUZZ
    @given(token=text, path=st.sampled_from(["/api/v1/route", "/api/v1/codes"]))
    def call(token: str, path: str) -> None:
        header = "Bearer " + re.sub(r"[\r\n\x00]", "", token)
        method = client.post if path.endswith("route") else client.get
        response = method(path, headers={"Authorization": header}, json={})
        assert response.status_code == 401, response.get_data(as_text=True)[:300]
        assert response.is_json

    call()


# --- sizes beyond MAX_CONTENT_LENGTH ------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/sign-in", "/intake", "/api/v1/route", "/account/password", "/cases/X/referrals"]
)
def test_bodies_beyond_the_limit_get_a_clear_413(
    app: Flask, client: FlaskClient, screener: Any, api_headers: dict[str, str], path: str
) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    huge = "A" * (limit + 1024)
    if path.startswith("/api/"):
        response = client.post(
            path,
            data=json.dumps({"age": huge}),
            content_type="application/json",
            headers=api_headers,
        )
        assert response.status_code == 413 and response.is_json
        return
    response = client.post(path, data={"csrf_token": "x", "notes": huge})
    assert response.status_code == 413
    body = response.get_data(as_text=True)
    assert "demasiado grande" in body or "too large" in body


def test_just_under_the_limit_is_a_form_error_not_a_crash(
    app: Flask, client: FlaskClient, screener: Any
) -> None:
    key = start_draft(client)
    token = csrf_token(client, f"/intake/{key}/legal")
    notes = "ñ" * ((app.config["MAX_CONTENT_LENGTH"] - 4096) // 6)  # %C3%B1 per character
    response = client.post(
        f"/intake/{key}/legal", data={"csrf_token": token, **SECTIONS["legal"], "notes": notes}
    )
    assert_safe(response)
