"""Web security in one place: response headers for every page, CSRF, no-store when signed in.

Also here by configuration (referral/config.py): HttpOnly and SameSite session cookies,
Secure outside development, MAX_CONTENT_LENGTH. Sessions (regenerated at sign-in, ended
server-side at sign-out, idle timeout, absolute lifetime), login throttling and API bearer
tokens live in referral/auth; error pages, the CSRF page and the 413 page in referral/errors.py.
"""

from __future__ import annotations

from flask import Flask, Response, request, session
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

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

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        if is_private_response():
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response
