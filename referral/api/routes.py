"""The JSON API, version 1. Errors are JSON (CONTRACT section 6), never HTML pages."""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint, g, jsonify, request
from flask_babel import force_locale
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from referral.access import Reach
from referral.auth.bearer import require_api_token
from referral.casework import workflow
from referral.casework.models import Referral
from referral.casework.queries import load_referral
from referral.casework.routes import referral_error
from referral.casework.routing import MSG_NOT_JSON, InputError, route_data
from referral.db import session
from referral.directory.catalogue import current_catalogue
from referral.i18n import DEFAULT_LANGUAGE, gettext_for, languages
from referral.provider import operations as provider_ops
from referral.provider.forms import NOTE_MAX, PROVIDER_STATUSES
from referral.provider.views import MinimalReferral, minimal_views
from referral.rules.errors import N_

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


# --- referrals (issue 14): FHIR Task-like, for the systems services and teams already have ---

API_PAGE_MAX = 500
MSG_UNKNOWN_STATUS = N_("Choose a status from the list.")
MSG_UNKNOWN_REASON = N_("Choose a reason code from the list.")
MSG_VERSION = N_("Give the version of the referral you read (a whole number).")
MSG_NOTE = N_("A note is text of at most %(max)d characters.")
MSG_UNKNOWN_FIELD = N_("This field is not part of a status change.")
MSG_REQUIRED = N_("This field is required.")
MSG_NOT_ALLOWED = N_("A receiving service cannot give a referral this status.")


class StatusChange(BaseModel):
    """The body of POST /api/v1/referrals/<id>/status."""

    model_config = ConfigDict(extra="forbid", strict=True)
    status: str
    reason: str | None = None
    note: Annotated[str, Field(max_length=NOTE_MAX)] | None = None
    version: int


def _field_errors(exc: ValidationError, lang: str) -> dict[str, list[str]]:
    gettext = gettext_for(lang)
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or ""
        if error["type"] == "extra_forbidden":
            message = gettext(MSG_UNKNOWN_FIELD)
        elif error["type"] == "missing":
            message = gettext(MSG_REQUIRED)
        elif name == "version":
            message = gettext(MSG_VERSION)
        elif name == "note":
            message = gettext(MSG_NOTE) % {"max": NOTE_MAX}
        elif name == "reason":
            message = gettext(MSG_UNKNOWN_REASON)
        else:
            message = gettext(MSG_UNKNOWN_STATUS)
        errors.setdefault(name, []).append(message)
    return errors


def _api_reach() -> tuple[Reach, frozenset[str] | None]:
    """The API user's reach, and a provider's services (None for other roles)."""
    user = g.api_user
    if user.role == "provider":
        return Reach.of(user), provider_ops.provider_services(session(), user.id)
    return Reach.of(user), None


def _referral_json(referral: Referral, minimal: bool) -> dict[str, Any]:
    view = minimal_views(session(), [referral], current_catalogue(session()))[0]
    return _listed(view, minimal)


def _listed(view: MinimalReferral, minimal: bool) -> dict[str, Any]:
    full = view.to_json()
    if minimal:
        return full
    return {key: full[key] for key in LIST_FIELDS}


LIST_FIELDS = ("id", "case_code", "need", "service", "status", "reason", "version", "updated_at")


@blueprint.get("/referrals")
def referrals() -> tuple[Response, int] | Response:
    """Referrals in the token's reach, newest first: a provider's with the minimal view."""
    lang = request_language()
    status = request.args.get("status") or None
    if status is not None and status not in workflow.STATUSES:
        return jsonify(errors={"status": [gettext_for(lang)(MSG_UNKNOWN_STATUS)]}), 422
    limit = min(max(1, request.args.get("limit", 100, type=int) or 100), API_PAGE_MAX)
    page = min(max(1, request.args.get("page", 1, type=int) or 1), 100_000)
    reach, services = _api_reach()
    offset = (page - 1) * limit
    if services is not None:
        rows = provider_ops.inbox(session(), services, status=status, limit=limit, offset=offset)
    else:
        rows = provider_ops.referrals_in_reach(
            session(), reach, status=status, limit=limit, offset=offset
        )
    views = minimal_views(session(), rows, current_catalogue(session()))
    return jsonify(referrals=[_listed(v, services is not None) for v in views])


@blueprint.post("/referrals/<int:referral_id>/status")
def referral_status(referral_id: int) -> tuple[Response, int] | Response:
    """Change a referral's status (CONTRACT 5); 409 with both versions when it is stale."""
    lang = request_language()
    reach, services = _api_reach()
    db = session()
    if services is not None:
        found = provider_ops.referral_of_service(db, referral_id, services)
    else:
        found, _case = load_referral(referral_id, reach)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(errors={"": [gettext_for(lang)(MSG_NOT_JSON)]}), 422
    try:
        change = StatusChange.model_validate(data)
    except ValidationError as exc:
        return jsonify(errors=_field_errors(exc, lang)), 422
    gettext = gettext_for(lang)
    errors: dict[str, list[str]] = {}
    if change.status not in workflow.STATUSES:
        errors["status"] = [gettext(MSG_UNKNOWN_STATUS)]
    elif services is not None and change.status not in PROVIDER_STATUSES:
        errors["status"] = [gettext(MSG_NOT_ALLOWED)]
    if change.reason is not None and change.reason not in workflow.REASONS:
        errors["reason"] = [gettext(MSG_UNKNOWN_REASON)]
    if errors:
        return jsonify(errors=errors), 422
    if change.version != found.version:
        return _conflict(found, change.version, services is not None)
    channel = workflow.EventChannel.api if services is not None else workflow.EventChannel.screener
    try:
        workflow.change_status(
            db,
            found,
            status=change.status,
            reason_code=change.reason,
            expected_version=change.version,
            user_id=g.api_user.id,
            answer=workflow.Answer(channel=channel, note=change.note),
        )
    except workflow.ReferralConflict as clash:
        return _conflict(clash.referral, change.version, services is not None)
    except workflow.ReferralError as exc:
        with force_locale(lang):
            message = referral_error(exc)
        field = "reason" if exc.code == "reason_required" else "status"
        return jsonify(errors={field: [message]}), 422
    provider_ops.close_links_if_final(db, found, g.api_user.id)
    return jsonify(_referral_json(found, services is not None))


def _conflict(referral: Referral, yours: int, minimal: bool) -> tuple[Response, int]:
    body = {
        "error": "conflict",
        "status": 409,
        "your_version": yours,
        "current_version": referral.version,
        "referral": _referral_json(referral, minimal),
    }
    return jsonify(body), 409
