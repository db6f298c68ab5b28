"""Web security in one place: response headers for every page, CSRF, no-store when signed in,
HSTS in production, and per-address rate limits (Flask-Limiter).

Also here by configuration (referral/config.py): HttpOnly and SameSite session cookies,
Secure outside development, MAX_CONTENT_LENGTH. The client's address comes from ProxyFix when
``TRUSTED_PROXIES`` proxies stand in front (referral/__init__.py). Sessions (regenerated at
sign-in, ended server-side at sign-out, idle timeout, absolute lifetime), login throttling,
the second factor and API bearer tokens live in referral/auth; error pages, the CSRF page, the
413 and 429 pages in referral/errors.py. docs/security.md has the threat model.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
LIMITER_KEY = "referral_limiter"


def sign_in_limit() -> str:
    """The per-address limit on every form that takes a password or a code."""
    return str(current_app.config["SIGN_IN_RATE_LIMIT"])


def limit_guessing(app: Flask, *endpoints: str) -> None:
    """Put the per-address limit on the POSTs of these endpoints (forms that check a secret).

    One Flask-Limiter per app (its counters and switches are the app's own), so the views are
    wrapped here, once their blueprint is registered, rather than decorated at import time.
    """
    limiter: Limiter = app.extensions[LIMITER_KEY]
    for endpoint in endpoints:
        view: Any = app.view_functions[endpoint]
        app.view_functions[endpoint] = limiter.limit(sign_in_limit, methods=["POST"])(view)


# Pages of these blueprints are never stored by a browser or a proxy, signed in or not.
NO_STORE_BLUEPRINTS = frozenset({"api", "auth", "audit"})


def is_private_response() -> bool:
    """A signed-in page (the session names a server-side session) or an account/API page."""
    if request.endpoint == "static":
        return False
    return request.blueprint in NO_STORE_BLUEPRINTS or "sid" in session


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    # Storage and switches come from the app's RATELIMIT_* settings (memory:// by default; a
    # shared store such as redis:// when several workers must count together: README).
    app.extensions[LIMITER_KEY] = Limiter(get_remote_address, app=app)
    hsts = int(app.config["HSTS_SECONDS"]) if app.config["ENV"] == "production" else 0

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        if hsts:  # production runs behind HTTPS only: browsers never try plain http again
            response.headers["Strict-Transport-Security"] = f"max-age={hsts}"
        if is_private_response():
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response
