"""The JSON API, version 1. Errors are JSON (CONTRACT section 6), never HTML pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from referral.auth.bearer import require_api_token
from referral.casework.routing import MSG_NOT_JSON, InputError, route_data
from referral.db import session
from referral.directory.catalogue import current_catalogue
from referral.i18n import DEFAULT_LANGUAGE, gettext_for, languages

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
require_api_token(blueprint)  # every route: Authorization: Bearer <token>, 401 JSON without


def request_language() -> str:
    chosen = request.args.get("lang")
    if chosen in languages():
        return str(chosen)
    return request.accept_languages.best_match(languages()) or DEFAULT_LANGUAGE


@blueprint.post("/route")
def route() -> tuple[Response, int] | Response:
    """Route one screening record without storing anything."""
    lang = request_language()
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the JSON parser goes: no record either
        data = None
    if data is None:
        return jsonify(errors={"": [gettext_for(lang)(MSG_NOT_JSON)]}), 422
    try:
        return jsonify(route_data(data, session(), lang).to_json(lang))
    except InputError as exc:
        return jsonify(errors=exc.errors), 422


@blueprint.get("/codes")
def codes() -> Response:
    """Every code list with its labels in the request's language."""
    return jsonify(current_catalogue(session()).code_lists(request_language()))


@blueprint.errorhandler(HTTPException)
def json_error(exc: HTTPException) -> tuple[Response, int]:
    body: dict[str, Any] = {"error": exc.name, "status": exc.code}
    return jsonify(body), exc.code or 500
