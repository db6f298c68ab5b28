"""API authentication: bearer tokens only, never the session cookie.

Without a valid token the API answers 401 with a JSON error, never a redirect.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from werkzeug.wrappers import Response

from referral import db
from referral.auth import operations as ops
from referral.rules.errors import N_

MSG_TOKEN_REQUIRED = N_("A valid API token is required: Authorization: Bearer <token>.")


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def require_api_token(blueprint: Blueprint) -> None:
    """Every route of ``blueprint`` needs ``Authorization: Bearer <token>``; CSRF does not apply."""
    from referral.security import csrf

    csrf.exempt(blueprint)

    @blueprint.before_request
    def _authenticate() -> tuple[Response, int] | None:
        user = ops.user_for_token(db.session(), bearer_token())
        if user is None:
            from referral.i18n import DEFAULT_LANGUAGE, gettext_for, languages

            offered = languages()
            lang = request.args.get("lang") or request.accept_languages.best_match(offered)
            text = gettext_for(lang if lang in offered else DEFAULT_LANGUAGE)(MSG_TOKEN_REQUIRED)
            response = jsonify(error="unauthorized", status=401, message=text)
            response.headers["WWW-Authenticate"] = 'Bearer realm="ruta"'
            return response, 401
        g.api_user = user
        return None
