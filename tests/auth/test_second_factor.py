"""The second factor (issue 16): TOTP required for supervisors and admins, optional for
screeners, recovery codes, re-enrolment by an admin or at the console, every step audited."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlmodel import select

from referral import ConfigurationError, create_app
from referral.audit.models import AuditEvent
from referral.auth.models import RecoveryCode, User, UserSession
from referral.db import get_db
from tests.conftest import PASSWORD, csrf_token

KEY = re.compile(r'<code class="secret-key">([A-Z2-7 ]+)</code>')


def actions(app, action: str) -> list[AuditEvent]:
    with get_db(app).transaction(write=False) as session:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return list(session.exec(query).all())


def reload(app, user: User) -> User:
    with get_db(app).transaction(write=False) as session:
        return session.get(User, user.id)


def password_step(client, user, password: str = PASSWORD):
    token = csrf_token(client, "/sign-in")
    return client.post(
        "/sign-in", data={"csrf_token": token, "email": user.email, "password": password}
    )


def next_code(secret: str) -> str:
    """A code of the next time step (within the drift allowed), never one used already."""
    return pyotp.TOTP(secret).at(int(time.time()) + 30)


def send_code(client, path: str, code: str):
    return client.post(path, data={"csrf_token": csrf_token(client, path), "code": code})


def enrol_at_sign_in(client, user) -> tuple[str, list[str]]:
    """Password, then the enrolment page: returns the secret and the recovery codes shown."""
    answer = password_step(client, user)
    assert answer.headers["Location"] == "/sign-in/enrol"
    page = client.get("/sign-in/enrol").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page  # the QR code, drawn on the server
    secret = KEY.search(page).group(1).replace(" ", "")
    done = send_code(client, "/sign-in/enrol", pyotp.TOTP(secret).now())
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>", done.get_data(True))
    return secret, codes


@pytest.fixture
def privileged(app_with):
    return app_with(SECOND_FACTOR="privileged")


def test_a_supervisor_enrols_at_the_first_sign_in_and_then_signs_in_with_a_code(
    privileged, make_user
) -> None:
    supervisor = make_user("supervisor", ("MX-CHP",))
    client = privileged.test_client()
    answer = password_step(client, supervisor)
    assert answer.headers["Location"] == "/sign-in/enrol"
    assert client.get("/audit").headers["Location"].startswith("/sign-in")  # not in yet
    client = privileged.test_client()
    secret, codes = enrol_at_sign_in(client, supervisor)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/audit").status_code == 200  # signed in now
    with get_db(privileged).transaction(write=False) as session:
        stored = session.exec(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and all(h.startswith("$argon2id$") for h in stored)
    assert not any(code.replace("-", "") in h for code in codes for h in stored)
    assert [e.actor_id for e in actions(privileged, "second_factor_enrolled")] == [supervisor.id]

    other = privileged.test_client()
    assert password_step(other, supervisor).headers["Location"] == "/sign-in/code"
    wrong = send_code(other, "/sign-in/code", "000000")
    assert "no es correcto" in wrong.get_data(True) or "not right" in wrong.get_data(True)
    assert other.get("/audit").status_code == 302
    assert actions(privileged, "second_factor_failed")
    code = next_code(secret)
    assert send_code(other, "/sign-in/code", code).headers["Location"] == "/supervision"
    assert other.get("/audit").status_code == 200
    # The same code does not work twice (someone who saw it over a shoulder).
    third = privileged.test_client()
    password_step(third, supervisor)
    assert send_code(third, "/sign-in/code", code).status_code == 200
    assert third.get("/audit").status_code == 302


def test_a_recovery_code_signs_in_once(privileged, make_user) -> None:
    admin = make_user("admin", (), national=True)
    _secret, codes = enrol_at_sign_in(privileged.test_client(), admin)
    client = privileged.test_client()
    password_step(client, admin)
    answer = send_code(client, "/sign-in/code", codes[3].upper().replace("-", " "))
    assert answer.headers["Location"] == "/admin/users"
    assert client.get("/admin/users").status_code == 200
    assert [e.actor_id for e in actions(privileged, "recovery_code_used")] == [admin.id]
    again = privileged.test_client()
    password_step(again, admin)
    assert send_code(again, "/sign-in/code", codes[3]).status_code == 200
    assert again.get("/admin/users").status_code == 302


def test_screeners_choose_and_all_asks_everyone(app_with, make_user) -> None:
    privileged = app_with(SECOND_FACTOR="privileged")
    screener = make_user("screener")
    client = privileged.test_client()
    assert password_step(client, screener).headers["Location"] == "/cases"  # optional: not asked
    page = client.get("/account/second-factor").get_data(as_text=True)
    secret = KEY.search(page).group(1).replace(" ", "")
    done = send_code(client, "/account/second-factor", pyotp.TOTP(secret).now())
    assert len(re.findall(r"<li><code>", done.get_data(True))) == 10
    asked = privileged.test_client()
    assert password_step(asked, screener).headers["Location"] == "/sign-in/code"  # chosen
    # ...and turned off again with a code: a screener may.
    off = client.post(
        "/account/second-factor/off",
        data={"csrf_token": csrf_token(client, "/account/second-factor"),
              "off-code": next_code(secret)},
    )  # fmt: skip
    assert off.headers["Location"] == "/account"
    assert reload(privileged, screener).totp_secret is None
    assert actions(privileged, "second_factor_removed")
    everyone = app_with(SECOND_FACTOR="all")
    assert password_step(everyone.test_client(), screener).headers["Location"] == ("/sign-in/enrol")


def test_a_supervisor_cannot_turn_it_off_but_renews_recovery_codes(privileged, make_user):
    supervisor = make_user("supervisor", ("MX-CHP",))
    client = privileged.test_client()
    secret, first = enrol_at_sign_in(client, supervisor)
    page = client.get("/account/second-factor").get_data(as_text=True)
    assert "/account/second-factor/off" not in page
    token = csrf_token(client, "/account/second-factor")
    refused = client.post(
        "/account/second-factor/off", data={"csrf_token": token, "off-code": next_code(secret)}
    )
    assert refused.headers["Location"] == "/account/second-factor"
    assert reload(privileged, supervisor).totp_secret == secret
    renewed = client.post(
        "/account/second-factor/recovery-codes",
        data={"csrf_token": token, "renew-code": next_code(secret)},
    )
    second = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", renewed.get_data(True))
    assert len(second) == 10 and not set(first) & set(second)
    assert actions(privileged, "recovery_codes_renewed")
    old = privileged.test_client()
    password_step(old, supervisor)
    send_code(old, "/sign-in/code", first[0])
    assert old.get("/audit").status_code == 302  # the old codes no longer work


def test_wrong_codes_are_throttled_like_passwords(privileged, make_user) -> None:
    supervisor = make_user("supervisor", ("MX-CHP",))
    secret, _codes = enrol_at_sign_in(privileged.test_client(), supervisor)
    client = privileged.test_client()
    password_step(client, supervisor)
    for _ in range(privileged.config["LOGIN_MAX_FAILURES"]):
        send_code(client, "/sign-in/code", "123456")
    page = send_code(client, "/sign-in/code", next_code(secret)).get_data(True)
    assert "bloqueada" in page
    assert client.get("/audit").status_code == 302


def test_the_code_is_asked_within_five_minutes_of_the_password(privileged, make_user) -> None:
    supervisor = make_user("supervisor", ("MX-CHP",))
    secret, _codes = enrol_at_sign_in(privileged.test_client(), supervisor)
    client = privileged.test_client()
    password_step(client, supervisor)
    with client.session_transaction() as cookie:
        waited = dict(cookie["pending_sign_in"])
        waited["at"] -= 301
        cookie["pending_sign_in"] = waited
    token = csrf_token(client, "/sign-in")
    answer = client.post("/sign-in/code", data={"csrf_token": token, "code": next_code(secret)})
    assert answer.headers["Location"] == "/sign-in"
    assert client.get("/audit").status_code == 302


def test_an_admin_resets_a_lost_second_factor_and_sessions_end(privileged, make_user) -> None:
    admin = make_user("admin", (), national=True)
    supervisor = make_user("supervisor", ("MX-CHP",))
    admin_client = privileged.test_client()
    enrol_at_sign_in(admin_client, admin)
    lost = privileged.test_client()
    enrol_at_sign_in(lost, supervisor)
    page = admin_client.get(f"/admin/users/{supervisor.id}").get_data(as_text=True)
    assert f"/admin/users/{supervisor.id}/second-factor/reset" in page
    token = csrf_token(admin_client, f"/admin/users/{supervisor.id}")
    answer = admin_client.post(
        f"/admin/users/{supervisor.id}/second-factor/reset", data={"csrf_token": token}
    )
    assert answer.headers["Location"] == f"/admin/users/{supervisor.id}"
    assert lost.get("/audit").status_code == 302  # their session ended
    assert reload(privileged, supervisor).totp_secret is None
    [event] = actions(privileged, "second_factor_reset")
    assert (event.actor_id, event.object_id) == (admin.id, str(supervisor.id))
    again = privileged.test_client()
    assert password_step(again, supervisor).headers["Location"] == "/sign-in/enrol"


def test_the_console_resets_the_last_admins_second_factor(privileged, make_user) -> None:
    admin = make_user("admin", (), national=True, email="last@example.org")
    enrol_at_sign_in(privileged.test_client(), admin)
    result = privileged.test_cli_runner().invoke(
        args=["users", "reset-second-factor", "last@example.org"]
    )
    assert result.exit_code == 0, result.output
    assert reload(privileged, admin).totp_secret is None
    [event] = actions(privileged, "second_factor_reset")
    assert event.actor_id is None  # the console
    assert password_step(privileged.test_client(), admin).headers["Location"] == "/sign-in/enrol"
    missing = privileged.test_cli_runner().invoke(
        args=["users", "reset-second-factor", "nobody@example.org"]
    )
    assert missing.exit_code == 2


def test_production_refuses_to_start_without_a_second_factor(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("REFERRAL_SECOND_FACTOR", raising=False)
    settings = {"ENV": "production", "SECRET_KEY": "k" * 32, "AUTO_SETUP": False}
    with pytest.raises(ConfigurationError, match="REFERRAL_SECOND_FACTOR=none"):
        create_app({**settings, "SECOND_FACTOR": "none", "INSTANCE_PATH": str(tmp_path)})
    with pytest.raises(ConfigurationError, match="privileged, all or none"):
        create_app({**settings, "SECOND_FACTOR": "sometimes", "INSTANCE_PATH": str(tmp_path)})
    production = create_app({**settings, "INSTANCE_PATH": str(tmp_path)})
    assert production.config["SECOND_FACTOR"] == "privileged"  # the default
    testing = create_app(
        {**settings, "SECOND_FACTOR": "none", "TESTING": True, "INSTANCE_PATH": str(tmp_path)}
    )
    assert testing.config["SECOND_FACTOR"] == "none"


def test_a_session_started_with_the_second_factor_is_recorded(privileged, make_user) -> None:
    supervisor = make_user("supervisor", ("MX-CHP",))
    client = privileged.test_client()
    client.environ_base["HTTP_USER_AGENT"] = "Firefox on a test bench"
    enrol_at_sign_in(client, supervisor)
    with get_db(privileged).transaction(write=False) as session:
        [row] = session.exec(select(UserSession).where(UserSession.user_id == supervisor.id))
    assert row.user_agent == "Firefox on a test bench" and row.address == "127.0.0.1"


def test_every_form_that_checks_a_code_or_a_link_is_rate_limited(app_with) -> None:
    from referral.auth.routes import GUESSED

    limited = app_with(RATELIMIT_ENABLED=True, SIGN_IN_RATE_LIMIT="2 per minute")
    paths = {
        "auth.sign_in_code": "/sign-in/code",
        "auth.sign_in_enrol": "/sign-in/enrol",
        "auth.reset_password": "/reset/not-a-token",
    }
    for endpoint, path in paths.items():
        assert endpoint in GUESSED
        client = limited.test_client()
        client.environ_base["REMOTE_ADDR"] = f"192.0.2.{len(path)}"
        token = csrf_token(client, "/sign-in")
        data = {"csrf_token": token, "code": "123456"}
        answers = [client.post(path, data=data).status_code for _ in range(3)]
        assert answers[-1] == 429, (path, answers)
