"""Error pages in the base layout and the reader's language; JSON under /api/.

400, 403, 404, 405, 413, 429 (a rate limit), 500 and 503 (the database is not answering),
and a page for a missing or stale CSRF token that keeps what was typed (passwords excepted)
so it can be sent again with one click.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import InternalServerError
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response

from referral.i18n import DEFAULT_LANGUAGE, LANGUAGE_COOKIE, languages

ERROR_TEXTS: dict[int, tuple[Any, Any]] = {
    400: (_l("The request could not be understood"), _l("Check what you sent and try again.")),
    403: (_l("Not allowed"), _l("You do not have permission to do this.")),
    404: (
        _l("Page not found"),
        _l("There is nothing here, or it is not within your reach. Check the address."),
    ),
    405: (
        _l("Not allowed this way"),
        _l(
            "This address does not accept this kind of request. Go back and use the page's buttons."
        ),
    ),
    413: (
        _l("What you sent is too large"),
        _l("The request is larger than this server accepts. Send less at a time."),
    ),
    429: (
        _l("Too many attempts from here"),
        _l("Wait a minute before trying again. Other people and places are not affected."),
    ),
    503: (
        _l("The database is not answering"),
        _l(
            "Your draft is saved, and nothing from this request was stored. "
            "Please try again in a moment."
        ),
    ),
    500: (
        _l("Something went wrong on our side"),
        _l("Nothing you typed was stored by this request. Please try again in a moment."),
    ),
}

# Never echoed back on the CSRF page.
_SECRET_FIELDS = ("csrf_token", "password", "confirm", "current", "token", "code")


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def render_error(code: int) -> tuple[Response | str, int]:
    if _wants_json():
        return jsonify(error=HTTP_STATUS_CODES.get(code, "Error"), status=code), code
    title, explanation = ERROR_TEXTS.get(code, ERROR_TEXTS[500])
    try:
        page = render_template("errors/error.html", code=code, title=title, explanation=explanation)
    except Exception:  # the layout itself failed (database down): a bare page, never a traceback
        current_app.logger.exception("error page %s: the layout failed", code)
        try:
            words = f"<h1>{escape(str(title))}</h1><p>{escape(str(explanation))}</p>"
        except Exception:  # not even the language could be chosen
            words = f"<h1>{code}</h1>"
        page = f"<!doctype html><title>{code}</title>{words}"
    return page, code


def kept_fields() -> list[tuple[str, str]]:
    """The posted values a person typed, without secrets."""
    return [
        (name, value)
        for name, values in request.form.lists()
        if not any(secret in name.lower() for secret in _SECRET_FIELDS)
        for value in values
    ][:500]


def same_origin() -> bool:
    """Only a request from our own pages gets a "send again" button (never a cross-site post)."""
    if request.headers.get("Sec-Fetch-Site") == "same-origin":
        return True
    origin = request.headers.get("Origin")
    if not origin:
        return False
    ours = urlsplit(request.host_url)
    theirs = urlsplit(origin)
    return (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc)


def csrf_page(_exc: CSRFError) -> tuple[Response | str, int]:
    if _wants_json():
        return jsonify(error="csrf", status=400), 400
    fields = kept_fields()
    return render_template(
        "errors/csrf.html",
        fields=fields,
        resend=same_origin() and bool(fields),
        action=request.full_path if request.query_string else request.path,
    ), 400


def discard_request_work() -> None:
    """Roll back the request's session now, so the commit after the error page keeps nothing."""
    db_session = g.get("db_session")
    if db_session is not None:
        try:
            db_session.rollback()
        except Exception:  # the connection is gone: nothing to keep either way
            current_app.logger.warning("rollback failed", exc_info=True)


def database_unreachable(exc: BaseException | None) -> bool:
    """The database is down or the connection broke (not a bad statement)."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def database_down_page(_exc: BaseException | None = None) -> tuple[Response | str, int]:
    """503 in the reader's language without asking the database (it is the one not answering)."""
    discard_request_work()
    if "_login_user" not in g:  # the account could not be loaded: show the page signed out
        g._login_user = current_app.login_manager.anonymous_user()  # type: ignore[attr-defined]
        chosen = request.cookies.get(LANGUAGE_COOKIE)
        g.forced_language = (
            chosen if chosen in languages() else request.accept_languages.best_match(languages())
        ) or DEFAULT_LANGUAGE
    return render_error(503)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, csrf_page)
    for code in ERROR_TEXTS:
        if code in (500, 503):
            continue
        app.register_error_handler(code, lambda exc, _code=code: render_error(_code))

    @app.errorhandler(OverflowError)
    def _too_big(exc: OverflowError) -> tuple[Response | str, int]:
        # A number typed in a URL or form beyond the database's integers (?page=99…9).
        current_app.logger.warning("refused input: %s", exc)
        discard_request_work()
        return render_error(400)

    @app.errorhandler(DBAPIError)
    def _database_error(exc: DBAPIError) -> tuple[Response | str, int]:
        if isinstance(exc, DataError):  # the database refused a value sent (out of range, NUL)
            current_app.logger.warning("refused input: %s", exc.orig)
            discard_request_work()
            return render_error(400)
        if not database_unreachable(exc):
            raise exc  # a real bug: Flask logs it and answers with the 500 page
        current_app.logger.warning("database unreachable: %s", exc.orig)
        return database_down_page(exc)

    @app.errorhandler(InternalServerError)
    def _server_error(exc: InternalServerError) -> tuple[Response | str, int]:
        # The commit after the view (referral/db.py) fails here, not in the view.
        if database_unreachable(getattr(exc, "original_exception", None)):
            return database_down_page(exc)  # Flask logged it already
        return render_error(500)
