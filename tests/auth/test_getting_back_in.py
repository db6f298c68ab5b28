"""Getting back in (issue 16): an admin's one-time, expiring password-reset link, on the web
and at the console, that ends the user's sessions and tokens; a user's own sessions page."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import select

from referral.audit.models import AuditEvent
from referral.auth import operations as ops
from referral.auth.models import PasswordResetToken, UserSession
from referral.db import get_db
from tests.conftest import csrf_token

NEW = "a new and long passphrase"


def actions(app, action: str) -> list[AuditEvent]:
    with get_db(app).transaction(write=False) as session:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return list(session.exec(query).all())


def set_password(client, path: str, password: str = NEW):
    token = csrf_token(client, path)
    return client.post(path, data={"csrf_token": token, "password": password, "confirm": password})


def test_an_admin_issues_a_reset_link_that_works_once_and_ends_everything(
    app, make_user, login, api_token
) -> None:
    admin = make_user("admin", (), national=True)
    user = make_user("screener")
    their_browser = app.test_client()
    login(their_browser, user)
    bearer = {"Authorization": f"Bearer {api_token(user)}"}
    admin_client = app.test_client()
    login(admin_client, admin)
    token = csrf_token(admin_client, f"/admin/users/{user.id}")
    page = admin_client.post(
        f"/admin/users/{user.id}/reset-link", data={"csrf_token": token}
    ).get_data(as_text=True)
    link = re.search(r'<code class="reset-link">http://localhost(/reset/[^<]+)</code>', page)
    assert link, page[:2000]
    path = link.group(1)
    [issued] = actions(app, "reset_link_issued")
    assert (issued.actor_id, issued.object_id) == (admin.id, str(user.id))

    stranger = app.test_client()
    form = stranger.get(path).get_data(as_text=True)
    assert user.email in form
    short = set_password(stranger, path, "short")
    assert short.status_code == 200 and "12" in short.get_data(as_text=True)
    done = set_password(stranger, path)
    assert done.headers["Location"] == "/sign-in"
    assert their_browser.get("/account").status_code == 302  # their session ended
    assert app.test_client().get("/api/v1/codes", headers=bearer).status_code == 401
    assert stranger.get(path).status_code == 404  # works once
    login(app.test_client(), user, password=NEW)
    assert [e.actor_id for e in actions(app, "password_reset")] == [user.id]


def test_a_reset_link_expires(app, make_user) -> None:
    user = make_user("screener")
    with app.app_context(), get_db(app).transaction() as session:
        token = ops.issue_reset_link(session, user, actor_id=None, minutes=60)
    with get_db(app).transaction() as session:
        row = session.exec(select(PasswordResetToken)).one()
        row.expires_at = ops.utcnow() - timedelta(seconds=1)
    page = app.test_client().get(f"/reset/{token}")
    assert page.status_code == 404
    assert app.test_client().get("/reset/not-a-token").status_code == 404


def test_the_console_issues_a_reset_link(app, runner, make_user, login) -> None:
    user = make_user("supervisor", ("MX-CHP",), email="lost@example.org")
    result = runner.invoke(
        args=["users", "reset-link", "lost@example.org", "--base-url", "https://ruta.example.org/"]
    )
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert re.fullmatch(r"https://ruta\.example\.org/reset/[\w-]{40,}", url)
    client = app.test_client()
    assert set_password(client, url.removeprefix("https://ruta.example.org")).status_code == 302
    login(app.test_client(), user, password=NEW)
    [event] = actions(app, "reset_link_issued")
    assert event.actor_id is None
    assert runner.invoke(args=["users", "reset-link", "nobody@example.org"]).exit_code == 2


def test_a_user_sees_their_sessions_and_ends_them(app, make_user, login) -> None:
    user = make_user("screener")
    other_user = make_user("screener")
    laptop, phone, tablet = app.test_client(), app.test_client(), app.test_client()
    for client, agent in ((laptop, "Laptop browser"), (phone, "Phone browser"), (tablet, "Tab")):
        client.environ_base["HTTP_USER_AGENT"] = agent
        login(client, user)
    stranger = app.test_client()
    login(stranger, other_user)
    page = laptop.get("/account/sessions").get_data(as_text=True)
    assert "Laptop browser" in page and "Phone browser" in page and "Tab" in page
    assert page.count("<tr>") == 4  # the header and three sessions; not the other user's
    with get_db(app).transaction(write=False) as session:
        rows = {r.user_agent: r.id for r in session.exec(select(UserSession)).all() if r.user_agent}
        theirs = session.exec(
            select(UserSession.id).where(UserSession.user_id == other_user.id)
        ).one()
    token = csrf_token(laptop, "/account/sessions")
    ended = laptop.post(
        f"/account/sessions/{rows['Phone browser']}/end", data={"csrf_token": token}
    )
    assert ended.headers["Location"] == "/account/sessions"
    assert phone.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 200
    # Someone else's session is not within reach: 404, and it goes on.
    assert (
        laptop.post(f"/account/sessions/{theirs}/end", data={"csrf_token": token}).status_code
        == 404
    )
    assert stranger.get("/account").status_code == 200
    laptop.post("/account/sessions/end-others", data={"csrf_token": token})
    assert tablet.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 200
    assert len(actions(app, "session_ended")) == 2
    # Ending this very session signs this browser out.
    out = laptop.post(f"/account/sessions/{rows['Laptop browser']}/end", data={"csrf_token": token})
    assert out.headers["Location"] == "/"
    assert laptop.get("/account").status_code == 302
