"""First run: while no active admin exists, print a one-time setup link to the console.

The link is issued on the first request a process serves (so it carries the address the
newcomer used) and again whenever the previous one expired. Only that link, or
`flask --app referral users create` at the server's console, can make the first admin.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, request
from sqlalchemy.exc import SQLAlchemyError

from referral.auth import operations as ops
from referral.db import get_db

STATE_KEY = "referral_admin_exists"
LINK_KEY = "referral_setup_link_expires"


def announce_setup_link(app: Flask, base_url: str) -> str | None:
    """Issue and log a setup link when no admin exists and no live link was issued here."""
    if app.extensions.get(STATE_KEY):
        return None
    now = ops.utcnow()
    expires = app.extensions.get(LINK_KEY)
    if expires is not None and expires > now:
        return None
    minutes = int(app.config["SETUP_LINK_MINUTES"])
    try:
        with get_db(app).transaction() as session:
            if ops.admin_exists(session):
                app.extensions[STATE_KEY] = True
                return None
            token = ops.issue_setup_token(session, minutes, now)
    except SQLAlchemyError:  # tables not there yet (auto setup off and not migrated)
        return None
    app.extensions[LINK_KEY] = now + timedelta(minutes=minutes)
    url = base_url.rstrip("/") + "/setup/" + token
    # The console is read by whoever installs the app: both languages, the link once.
    app.logger.warning(
        "\n\n  Todavía no hay administrador. Para crear el primero, abra este enlace de un solo"
        "\n  uso (válido %d minutos) / No administrator exists yet. To create the first one,"
        "\n  open this one-time link (valid for %d minutes, works once):\n\n    %s\n\n"
        "  o, en esta consola / or, at this console:\n"
        "    flask --app referral users create --role admin --national --email you@example.org\n",
        minutes,
        minutes,
        url,
    )
    return url


def init_app(app: Flask) -> None:
    @app.before_request
    def _first_run_link() -> None:
        if request.endpoint == "static" or current_app.extensions.get(STATE_KEY):
            return
        announce_setup_link(current_app._get_current_object(), request.host_url)  # type: ignore[attr-defined]
