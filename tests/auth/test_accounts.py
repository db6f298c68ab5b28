"""Accounts: sign-in and out, sessions, throttling, passwords, first-run setup, admin pages,
and the audit record each action leaves."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from referral.audit.models import AuditEvent
from referral.auth import operations as ops
from referral.auth.models import SetupToken, User, UserSession
from referral.db import get_db
from tests.conftest import PASSWORD, csrf_token


def audit_actions(app, action: str | None = None) -> list[AuditEvent]:
    with get_db(app).transaction(write=False) as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            query = query.where(AuditEvent.action == action)
        return list(session.exec(query).all())


def reload(app, user: User) -> User:
    with get_db(app).transaction(write=False) as session:
        found = session.get(User, user.id)
        assert found is not None
        return found


def sign_in(client, email: str, password: str):
    token = csrf_token(client, "/sign-in")
    return client.post("/sign-in", data={"csrf_token": token, "email": email, "password": password})


def test_sign_in_and_out_are_audited(app, client, make_user, login) -> None:
    user = make_user("screener")
    response = login(client, user)
    assert response.headers["Location"] == "/cases"  # a screener lands on the cases
    assert client.get("/account").status_code == 200
    [event] = audit_actions(app, "sign_in")
    assert (event.actor_id, event.object_kind, event.object_id) == (user.id, "user", str(user.id))
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/account").headers["Location"].startswith("/sign-in")
    assert [e.actor_id for e in audit_actions(app, "sign_out")] == [user.id]


def test_wrong_password_is_refused_and_audited(app, client, make_user) -> None:
    user = make_user("screener")
    page = sign_in(client, user.email, "not the password at all").get_data(as_text=True)
    assert "El correo electrónico o la contraseña no son correctos." in page
    assert f'value="{user.email}"' in page  # what was typed is kept
    assert client.get("/account").status_code == 302
    [event] = audit_actions(app, "sign_in_failed")
    assert event.actor_id == user.id


def test_sign_in_follows_a_safe_next_only(client, make_user) -> None:
    user = make_user("admin", (), national=True)
    token = csrf_token(client, "/sign-in?next=/admin/users")
    data = {"csrf_token": token, "email": user.email, "password": PASSWORD}
    response = client.post("/sign-in?next=/admin/users", data=data)
    assert response.headers["Location"] == "/admin/users"
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        data["csrf_token"] = csrf_token(client, "/sign-in")
        response = client.post("/sign-in", query_string={"next": target}, data=data)
        assert response.headers["Location"] == "/admin/users", target  # the admin's landing
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})


def test_session_id_changes_at_sign_in_and_the_old_one_is_dead(
    app, client, make_user, login
) -> None:
    user = make_user("screener")
    with client.session_transaction() as cookie:
        cookie["sid"] = "planted-by-an-attacker"
        cookie["_user_id"] = str(user.id)
    assert client.get("/account").status_code == 302  # a planted id is not a session
    login(client, user)
    with client.session_transaction() as cookie:
        new_sid = cookie["sid"]
    assert new_sid != "planted-by-an-attacker"
    # Sign-out ends the server-side record: a copy of the old cookie is useless afterwards.
    stolen = client.get_cookie("session")
    assert stolen is not None
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    thief = app.test_client()
    thief.set_cookie("session", stolen.value)
    assert thief.get("/account").status_code == 302
    with get_db(app).transaction(write=False) as session:
        record = session.exec(select(UserSession).where(UserSession.user_id == user.id)).one()
        assert record.ended_at is not None


def test_two_sign_ins_make_two_different_sessions(app, make_user, login) -> None:
    user = make_user("screener")
    first, second = app.test_client(), app.test_client()
    login(first, user)
    login(second, user)
    with first.session_transaction() as a, second.session_transaction() as b:
        assert a["sid"] != b["sid"]


def test_idle_timeout_and_absolute_lifetime(app, client, make_user, login) -> None:
    user = make_user("screener")
    login(client, user)
    assert client.get("/account").status_code == 200
    idle = app.config["SESSION_IDLE_MINUTES"]
    with get_db(app).transaction() as session:
        record = session.exec(select(UserSession)).one()
        record.last_seen_at = ops.utcnow() - timedelta(minutes=idle + 1)
    response = client.get("/account")
    assert response.headers["Location"].startswith("/sign-in")
    login(client, user)
    with get_db(app).transaction() as session:
        record = session.exec(select(UserSession).order_by(UserSession.id.desc())).first()
        record.created_at = ops.utcnow() - timedelta(
            hours=app.config["SESSION_MAX_HOURS"], minutes=1
        )
        record.last_seen_at = ops.utcnow()
    assert client.get("/account").headers["Location"].startswith("/sign-in")


def from_address(client, address: str):
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_throttling_locks_one_account_from_one_address_not_everyone(
    app, client, make_user, login
) -> None:
    victim = make_user("screener", email="victim@example.org")
    bystander = make_user("screener", email="bystander@example.org")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        sign_in(client, victim.email, "wrong password, again")
    page = sign_in(client, victim.email, PASSWORD).get_data(as_text=True)
    assert "bloqueada" in page
    assert client.get("/account").status_code == 302  # the right password does not get in now
    assert audit_actions(app, "sign_in_locked")
    login(app.test_client(), bystander)  # another account signs in from the same place
    # An unknown email is throttled the same way, so a lock reveals nothing.
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        sign_in(client, "nobody@example.org", "wrong password, again")
    assert "bloqueada" in sign_in(client, "nobody@example.org", "x" * 12).get_data(as_text=True)


def test_a_stranger_cannot_keep_the_owner_out(app, make_user, login) -> None:
    """Issue 16: failures from one address lock that address out, not the owner elsewhere."""
    # A delay long enough that a loaded machine cannot let it pass between two requests.
    app.config.update(LOGIN_DELAY_SECONDS=30, LOGIN_DELAY_MAX_SECONDS=120)
    owner = make_user("admin", (), national=True, email="owner@example.org")
    stranger = from_address(app.test_client(), "198.51.100.7")
    for _ in range(app.config["LOGIN_MAX_FAILURES"] * 4):  # and again whenever it could
        sign_in(stranger, owner.email, "a guess that is wrong")
    assert "bloqueada" in sign_in(stranger, owner.email, PASSWORD).get_data(as_text=True)
    # The account is only slowed down: once its short delay has passed, the owner gets in.
    with get_db(app).transaction(write=False) as session:
        wait = ops.delayed_until(session, owner.email)
    assert wait is not None
    assert wait - ops.utcnow() <= timedelta(seconds=app.config["LOGIN_DELAY_SECONDS"])
    early = sign_in(from_address(app.test_client(), "203.0.113.20"), owner.email, PASSWORD)
    assert "espere" in early.get_data(as_text=True) or "wait" in early.get_data(as_text=True)
    assert audit_actions(app, "sign_in_delayed")
    with get_db(app).transaction() as session:  # the delay passes
        row = session.get(ops.LoginThrottle, ops.throttle_key(owner.email))
        row.last_failure_at = ops.utcnow() - timedelta(seconds=app.config["LOGIN_DELAY_SECONDS"])
    owner_client = from_address(app.test_client(), "203.0.113.20")
    login(owner_client, owner)
    assert owner_client.get("/admin/users").status_code == 200


def test_the_account_delay_doubles_to_a_maximum_and_refused_attempts_do_not_count(app) -> None:
    app.config.update(LOGIN_DELAY_SECONDS=2, LOGIN_DELAY_MAX_SECONDS=20, LOGIN_MAX_FAILURES=3)
    email = "someone@example.org"
    with app.app_context(), get_db(app).transaction() as session:
        start = ops.utcnow()
        waits = []
        for n in range(8):
            now = start + timedelta(minutes=n)
            ops.record_failure(session, email, f"192.0.2.{n}", now=now)
            until = ops.delayed_until(session, email, now=now)
            waits.append(round((until - now).total_seconds()) if until else 0)
        assert waits == [0, 0, 2, 4, 8, 16, 20, 20]
        # Knocking during the delay is refused before any password check: nothing counted.
        with pytest.raises(ops.SignInDelayed):
            ops.authenticate(session, email, PASSWORD, "192.0.2.99")
        row = session.get(ops.LoginThrottle, ops.throttle_key(email))
        assert row.failures == 8


def test_a_forged_forwarded_for_header_is_ignored_without_a_trusted_proxy(
    app, make_user, login
) -> None:
    user = make_user("screener")
    client = app.test_client()
    for n in range(app.config["LOGIN_MAX_FAILURES"] + 2):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"10.9.9.{n}"  # a new address each time?
        sign_in(client, user.email, "wrong password, again")
    assert "bloqueada" in sign_in(client, user.email, PASSWORD).get_data(as_text=True)


def test_behind_one_trusted_proxy_the_forwarded_address_is_the_client(tmp_path) -> None:
    from referral import create_app

    proxied = create_app(
        {"TRUSTED_PROXIES": 1, "INSTANCE_PATH": str(tmp_path), "AUTO_SETUP": False}
    )

    @proxied.get("/address-for-test")
    def address() -> str:
        from flask import request

        return f"{request.remote_addr} {request.scheme}"

    answer = proxied.test_client().get(
        "/address-for-test",
        headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
    )
    assert answer.get_data(as_text=True) == "203.0.113.9 https"


def test_sign_in_has_a_per_address_rate_limit(limited_app, make_user) -> None:
    limited_app.config["SIGN_IN_RATE_LIMIT"] = "3 per minute"
    user = make_user("screener")
    here = from_address(limited_app.test_client(), "192.0.2.50")
    answers = [sign_in(here, user.email, "wrong password, again").status_code for _ in "abcd"]
    assert answers == [200, 200, 200, 429]
    refused = sign_in(here, user.email, PASSWORD)
    assert refused.status_code == 429
    assert "Demasiados intentos" in refused.get_data(as_text=True) or "Too many" in (
        refused.get_data(as_text=True)
    )
    elsewhere = from_address(limited_app.test_client(), "192.0.2.51")
    assert sign_in(elsewhere, user.email, PASSWORD).status_code == 302


def test_lock_ends_after_its_time(app, make_user, login) -> None:
    user = make_user("screener")
    with app.app_context(), get_db(app).transaction() as session:
        past = ops.utcnow() - timedelta(minutes=app.config["LOGIN_LOCK_MINUTES"] + 1)
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            ops.record_failure(session, user.email, "127.0.0.1", now=past)
        assert ops.locked_until(session, user.email, "127.0.0.1") is None
    login(app.test_client(), user)


def test_password_is_argon2id_and_rehashed_when_parameters_change(
    app, client, make_user, login
) -> None:
    user = make_user("screener")
    assert reload(app, user).password_hash.startswith("$argon2id$")
    assert "m=8192" in reload(app, user).password_hash
    app.config["ARGON2_MEMORY_COST"] = 16384
    login(client, user)
    rehashed = reload(app, user).password_hash
    assert "m=16384" in rehashed
    assert PasswordHasher().verify(rehashed, PASSWORD)


@pytest.mark.parametrize("length", [11, 129])
def test_password_length_is_12_to_128(app, length) -> None:
    with app.app_context(), pytest.raises(ops.PasswordLengthError):
        ops.hash_password("x" * length)


def test_account_page_changes_language_and_password(app, client, make_user, login) -> None:
    user = make_user("screener", language="es")
    login(client, user)
    assert '<html lang="es"' in client.get("/account").get_data(as_text=True)
    token = csrf_token(client, "/account")
    client.post("/account/language", data={"csrf_token": token, "language": "en"})
    assert reload(app, user).language == "en"
    page = client.get("/account", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert '<html lang="en"' in page  # the saved preference outranks the browser
    other = app.test_client()
    login(other, user)
    new = "a brand new passphrase"
    token = csrf_token(client, "/account")
    bad = client.post(
        "/account/password",
        data={"csrf_token": token, "current": "wrong wrong wrong", "password": new, "confirm": new},
    )
    assert bad.status_code == 400
    response = client.post(
        "/account/password",
        data={"csrf_token": token, "current": PASSWORD, "password": new, "confirm": new},
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # this session stays
    assert other.get("/account").status_code == 302  # every other session ended
    login(app.test_client(), user, password=new)
    assert audit_actions(app, "password_changed")


def test_admin_creates_edits_and_deactivates_a_user(
    app, client, make_user, login, api_token
) -> None:
    admin = make_user("admin", (), national=True)
    login(client, admin)
    token = csrf_token(client, "/admin/users/new")
    form = {
        "csrf_token": token,
        "email": "New.Screener@Example.org",
        "display_name": "Ana",
        "role": "screener",
        "states": ["MX-CHP", "MX-OAX"],
        "language": "en",
        "active": "y",
        "password": "long enough password",
        "confirm": "long enough password",
    }
    assert client.post("/admin/users/new", data=form).status_code == 302
    with get_db(app).transaction(write=False) as session:
        created = session.exec(select(User).where(User.email == "new.screener@example.org")).one()
    assert (created.role, created.states, created.language) == (
        "screener",
        ["MX-CHP", "MX-OAX"],
        "en",
    )
    # A bad form keeps what was typed and says what is wrong.
    bad = client.post("/admin/users/new", data={**form, "email": "other@example.org", "states": []})
    assert bad.status_code == 400
    assert 'value="other@example.org"' in bad.get_data(as_text=True)
    assert "Elija al menos un estado, o nacional." in bad.get_data(as_text=True)
    duplicate = client.post("/admin/users/new", data=form)
    assert "Ya existe una cuenta con este correo electrónico." in duplicate.get_data(as_text=True)

    screener_client = app.test_client()
    login(screener_client, created, password="long enough password")
    token_value = api_token(created)
    edit = {
        "csrf_token": csrf_token(client, f"/admin/users/{created.id}"),
        "display_name": "Ana",
        "role": "supervisor",
        "states": ["MX-CHP"],
        "language": "en",
        "active": "y",
    }
    assert client.post(f"/admin/users/{created.id}", data=edit).status_code == 302
    assert reload(app, created).role == "supervisor"
    del edit["active"]
    assert client.post(f"/admin/users/{created.id}", data=edit).status_code == 302
    assert reload(app, created).active is False
    assert screener_client.get("/account").status_code == 302  # their session ended
    headers = {"Authorization": f"Bearer {token_value}"}
    assert client.get("/api/v1/codes", headers=headers).status_code == 401  # token revoked
    actions = [e.action for e in audit_actions(app) if e.object_id == str(created.id)]
    for expected in (
        "user_created",
        "user_changed",
        "user_deactivated",
        "token_issued",
        "token_revoked",
    ):
        assert expected in actions


def test_the_last_admin_cannot_be_demoted(app, client, make_user, login) -> None:
    admin = make_user("admin", (), national=True)
    login(client, admin)
    edit = {
        "csrf_token": csrf_token(client, f"/admin/users/{admin.id}"),
        "role": "screener",
        "states": ["MX-CHP"],
        "language": "es",
        "active": "y",
    }
    page = client.post(f"/admin/users/{admin.id}", data=edit).get_data(as_text=True)
    assert "última cuenta de administración" in page
    assert reload(app, admin).role == "admin"


# --- first run --------------------------------------------------------------------------------


def setup_link(app, caplog) -> str:
    with caplog.at_level("WARNING"):
        app.test_client().get("/")
    match = re.search(r"http://localhost/setup/(\S+)", caplog.text)
    assert match, "no setup link in the console log"
    return match.group(1)


def test_first_run_link_creates_the_first_admin_once(app, caplog) -> None:
    token = setup_link(app, caplog)
    client = app.test_client()
    assert "Crear la primera cuenta de administración" in client.get(f"/setup/{token}").get_data(
        as_text=True
    )
    password = "first admin passphrase"
    data = {
        "csrf_token": csrf_token(client, f"/setup/{token}"),
        "email": "boss@example.org",
        "display_name": "Boss",
        "language": "es",
        "password": password,
        "confirm": password,
    }
    response = client.post(f"/setup/{token}", data=data)
    assert response.status_code == 302
    assert client.get("/admin/users").status_code == 200  # signed in as the new admin
    with get_db(app).transaction(write=False) as session:
        admin = session.exec(select(User)).one()
    assert (admin.role, admin.national) == ("admin", True)
    again = app.test_client()
    assert again.get(f"/setup/{token}").status_code == 404  # works once
    assert [e.object_id for e in audit_actions(app, "user_created")] == [str(admin.id)]


def test_setup_link_expires(app, caplog) -> None:
    token = setup_link(app, caplog)
    with get_db(app).transaction() as session:
        row = session.exec(select(SetupToken)).one()
        row.expires_at = ops.utcnow() - timedelta(seconds=1)
    assert app.test_client().get(f"/setup/{token}").status_code == 404


def test_no_setup_link_once_an_admin_exists(app, make_user, caplog) -> None:
    make_user("admin", (), national=True)
    with caplog.at_level("WARNING"):
        app.test_client().get("/")
    assert "/setup/" not in caplog.text


def test_sign_in_page_tells_a_newcomer_where_the_setup_link_is(client) -> None:
    page = client.get("/sign-in").get_data(as_text=True)
    assert "Todavía no existe ninguna cuenta de administración" in page


@pytest.mark.parametrize(
    ("role", "landing", "heading"),
    [
        ("screener", "/cases", "Casos"),
        ("supervisor", "/supervision", "Brechas en la canalización"),
        ("admin", "/admin/users", "Cuentas"),
    ],
)
def test_sign_in_lands_each_role_on_its_work(client, make_user, role, landing, heading) -> None:
    user = make_user(role, ("MX-CHP",), national=role == "admin")
    response = sign_in(client, user.email, PASSWORD)
    assert response.headers["Location"] == landing
    page = client.get(landing)
    assert page.status_code == 200 and heading in page.get_data(as_text=True)
    # Signed in already, the sign-in page sends to the same place; a safe next still wins.
    assert client.get("/sign-in").headers["Location"] == landing
    assert client.get("/sign-in?next=/account").headers["Location"] == "/account"
