"""`flask --app referral users ...`."""

from __future__ import annotations

from sqlmodel import select

from referral.audit.models import AuditEvent
from referral.auth.models import ApiToken, User
from referral.db import get_db
from tests.conftest import TEST_ARGON2


def create(runner, *args: str, password: str = "console passphrase"):
    return runner.invoke(args=["users", "create", *args, "--password-stdin"], input=password + "\n")


def test_create_prints_email_and_role_and_the_user_can_sign_in(app, runner, login) -> None:
    app.config.update(TEST_ARGON2)
    result = create(
        runner,
        "--email",
        "Sup@Example.org",
        "--role",
        "supervisor",
        "--state",
        "MX-CHP",
        "--state",
        "MX-OAX",
        "--name",
        "Sup",
        "--lang",
        "en",
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sup@example.org supervisor"
    with get_db(app).transaction(write=False) as session:
        user = session.exec(select(User)).one()
    assert (user.states, user.national, user.language) == (["MX-CHP", "MX-OAX"], False, "en")
    login(app.test_client(), user, password="console passphrase")


def test_create_refuses_bad_input(app, runner) -> None:
    app.config.update(TEST_ARGON2)
    assert (
        create(
            runner, "--email", "a@example.org", "--role", "screener", "--state", "MX-XXX"
        ).exit_code
        == 2
    )
    assert (
        create(runner, "--email", "a@example.org", "--role", "screener").exit_code == 2
    )  # no state
    short = create(
        runner, "--email", "a@example.org", "--role", "admin", "--national", password="short"
    )
    assert short.exit_code == 2
    assert (
        create(runner, "--email", "a@example.org", "--role", "chief", "--national").exit_code == 2
    )
    assert (
        create(runner, "--email", "a@example.org", "--role", "admin", "--national").exit_code == 0
    )
    assert (
        create(runner, "--email", "A@example.org", "--role", "admin", "--national").exit_code == 2
    )


def test_list_deactivate_token_and_revoke(app, runner, make_user, login) -> None:
    user = make_user("screener", ("MX-CHP",), email="s@example.org")
    make_user("admin", (), national=True, email="admin@example.org")
    listing = runner.invoke(args=["users", "list"]).output
    assert "s@example.org\tscreener\tMX-CHP\tes\tactive" in listing
    assert "admin@example.org\tadmin\tnational\tes\tactive" in listing

    result = runner.invoke(args=["users", "token", "s@example.org"])
    token = result.stdout.strip()
    assert result.exit_code == 0 and token.startswith("ruta_") and "\n" not in token
    client = app.test_client()
    assert (
        client.get("/api/v1/codes", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )
    with get_db(app).transaction(write=False) as session:
        stored = session.exec(select(ApiToken)).one()
    assert token not in stored.token_hash  # only a digest is stored

    assert runner.invoke(args=["users", "revoke-token", "s@example.org"]).exit_code == 0
    assert (
        client.get("/api/v1/codes", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )

    token = runner.invoke(args=["users", "token", "s@example.org"]).stdout.strip()
    browser = app.test_client()
    login(browser, user)
    assert runner.invoke(args=["users", "deactivate", "s@example.org"]).exit_code == 0
    assert browser.get("/account").status_code == 302  # the session ended
    assert (
        client.get("/api/v1/codes", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )
    assert (
        "s@example.org\tscreener\tMX-CHP\tes\tinactive"
        in runner.invoke(args=["users", "list"]).output
    )
    assert runner.invoke(args=["users", "token", "nobody@example.org"]).exit_code == 2

    with get_db(app).transaction(write=False) as session:
        actions = [e.action for e in session.exec(select(AuditEvent)).all()]
    for expected in ("user_created", "token_issued", "token_revoked", "user_deactivated"):
        assert expected in actions


def test_console_can_create_the_first_admin(app, runner) -> None:
    app.config.update(TEST_ARGON2)
    result = create(runner, "--email", "first@example.org", "--role", "admin")
    assert result.exit_code == 0
    with get_db(app).transaction(write=False) as session:
        assert session.exec(select(User)).one().national is True
