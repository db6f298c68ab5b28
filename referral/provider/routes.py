"""The receiving service's pages, its answer link, and the screener's copy for the service.

URL rules of this feature:
    GET   /provider                                 provider.inbox          (providers)
    GET   /provider/referrals/<id>                  provider.referral       (providers)
    POST  /provider/referrals/<id>/status           provider.status         (providers)
    POST  /provider/services/<id>/capacity          provider.capacity       (providers)
    GET   /provider/services/<id>                   provider.entry          (providers)
    POST  /provider/services/<id>                   provider.entry_save     (providers)
    GET   /directory/<id>/service-edits             provider.entry_edits    (admins)
    POST  /directory/service-edits/<edit>/undo      provider.entry_undo     (admins)
    GET   /r/<token>                                answer.link             (anyone with it)
    POST  /r/<token>                                answer.link_answer      (anyone with it)
    GET   /referrals/<id>/service-copy              answer.service_copy     (the case's reach)
    POST  /referrals/<id>/service-copy              answer.service_copy_new (the case's reach)
    POST  /referrals/<id>/service-copy/revoke       answer.service_copy_revoke
A provider reaches only these pages (and its account's): every other page answers 404.
"""

from __future__ import annotations

from typing import Any

import segno
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from referral.access import current_reach, requires
from referral.audit.operations import record_audit
from referral.casework import workflow
from referral.casework.models import Case, Referral
from referral.casework.queries import load_referral
from referral.casework.routes import referral_error
from referral.db import session as db_session
from referral.db import utcnow
from referral.directory import operations as directory_ops
from referral.directory.catalogue import catalogue_cache, current_catalogue
from referral.directory.forms import error_message as directory_error_message
from referral.directory.models import Service as ServiceRow
from referral.directory.routes import verification
from referral.i18n import current_language
from referral.provider import operations as ops
from referral.provider.forms import (
    LINK_STATUSES,
    PROVIDER_STATUSES,
    AnswerForm,
    CapacityForm,
    EntryForm,
    LinkAnswerForm,
    provider_choices,
    reason_choices,
)
from referral.provider.models import ServiceEntryEdit
from referral.provider.views import MinimalReferral, minimal_views
from referral.rules import SeedErrors

blueprint = Blueprint("provider", __name__, template_folder="templates")
answer_blueprint = Blueprint("answer", __name__, template_folder="templates")

# What a signed-in provider may open; everything else answers 404 (access.requires' rule).
PROVIDER_BLUEPRINTS = frozenset({"provider", "answer", "auth", "site", "api"})


def my_services() -> frozenset[str]:
    return ops.provider_services(db_session(), current_user.id)


def one_view(referral: Referral) -> MinimalReferral:
    session = db_session()
    case = session.get(Case, referral.case_id)
    assert case is not None
    return minimal_views(session, [referral], current_catalogue(session))[0]


def _prepare(form: AnswerForm, referral: Referral, allowed: tuple[str, ...]) -> AnswerForm:
    catalogue = current_catalogue(db_session())
    lang = current_language()
    form.status.choices = provider_choices(referral, catalogue, lang, allowed)
    form.reason_code.choices = reason_choices(catalogue, lang)
    if request.method == "GET":
        form.version.data = str(referral.version)
    return form


def service_rows(services: frozenset[str]) -> list[ServiceRow]:
    session = db_session()
    return [row for sid in sorted(services) if (row := session.get(ServiceRow, sid))]


# --- the provider's pages -----------------------------------------------------------------


@blueprint.get("/provider")
@requires("provider")
def inbox() -> str:
    services = my_services()
    session = db_session()
    rows = minimal_views(session, ops.inbox(session, services), current_catalogue(session))
    return render_template(
        "provider/inbox.html",
        rows=rows,
        services=service_rows(services),
        capacity_form=CapacityForm,
    )


@blueprint.get("/provider/referrals/<int:referral_id>")
@requires("provider")
def referral(referral_id: int) -> str:
    found = ops.referral_of_service(db_session(), referral_id, my_services())
    form = _prepare(AnswerForm(), found, PROVIDER_STATUSES)
    return render_template(
        "provider/referral.html",
        view=one_view(found),
        form=form,
        action=url_for("provider.status", referral_id=found.id),
    )


@blueprint.post("/provider/referrals/<int:referral_id>/status")
@requires("provider")
def status(referral_id: int) -> Response | str | tuple[str, int]:
    found = ops.referral_of_service(db_session(), referral_id, my_services())
    form = _prepare(AnswerForm(), found, PROVIDER_STATUSES)
    version = form.version_number()
    if version is not None and version != found.version:
        return conflict(found, form, url_for("provider.status", referral_id=found.id)), 409
    if not form.validate():
        return render_template(
            "provider/referral.html",
            view=one_view(found),
            form=form,
            action=url_for("provider.status", referral_id=found.id),
        ), 400
    try:
        workflow.change_status(
            db_session(),
            found,
            status=form.status.data,
            reason_code=form.reason_code.data or None,
            expected_version=version or 0,
            user_id=current_user.id,
            answer=workflow.Answer(
                channel=workflow.EventChannel.provider, note=form.note.data or None
            ),
        )
    except workflow.ReferralConflict as clash:
        return conflict(clash.referral, form, url_for("provider.status", referral_id=found.id)), 409
    except workflow.ReferralError as exc:
        flash(referral_error(exc), "error")
    else:
        ops.close_links_if_final(db_session(), found, current_user.id)
        flash(_("Your answer was recorded."), "success")
    return redirect(url_for("provider.referral", referral_id=found.id))


def conflict(referral: Referral, form: AnswerForm, action: str) -> str:
    """Someone changed the referral first: casework's conflict page, posting back here."""
    from referral.casework.forms import StatusForm, status_choices

    case = db_session().get(Case, referral.case_id)
    return render_template(
        "cases/conflict.html",
        referral=referral,
        case=case,
        form=form,
        status_choices=status_choices,
        status_form=StatusForm,
        status_action=action,
        back_url=url_for("provider.inbox") if current_user.is_authenticated else None,
    )


@blueprint.post("/provider/services/<service_id>/capacity")
@requires("provider")
def capacity(service_id: str) -> Response:
    if service_id not in my_services():
        abort(404)
    row = db_session().get(ServiceRow, service_id)
    if row is None:
        abort(404)
    form = CapacityForm()
    if not form.validate():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(url_for("provider.inbox") + "#places")
    try:
        directory_ops.set_capacity(
            db_session(),
            row,
            form.capacity_available.data,
            form.capacity_maximum.data,
            actor_id=current_user.id,
        )
    except SeedErrors:
        flash(_("Free places must be a whole number, 0 or more."), "error")
    else:
        flash(_("Free places saved."), "success")
    return redirect(url_for("provider.inbox") + "#places")


# --- the service keeps its own entry true -------------------------------------------------


def own_service(service_id: str) -> ServiceRow:
    row = db_session().get(ServiceRow, service_id)
    if row is None or service_id not in my_services():
        abort(404)
    return row


def _entry_page(row: ServiceRow, form: EntryForm) -> str:
    verified, stale = verification(row.entry)
    return render_template(
        "provider/entry.html", row=row, form=form, verified=verified, stale=stale
    )


@blueprint.get("/provider/services/<service_id>")
@requires("provider")
def entry(service_id: str) -> str:
    row = own_service(service_id)
    return _entry_page(row, EntryForm.of_entry(row.entry))


@blueprint.post("/provider/services/<service_id>")
@requires("provider")
def entry_save(service_id: str) -> Response | tuple[str, int]:
    """Save the service's texts and confirm the entry is true (last verified today)."""
    row = own_service(service_id)
    form = EntryForm()
    valid = form.validate()
    form.pair_errors()
    if not valid or any(form.errors.values()):
        return _entry_page(row, form), 422
    cache = catalogue_cache()
    try:
        ops.edit_entry(
            db_session(),
            row,
            form.changes(),
            user_id=current_user.id,
            rules=cache.rules,
            states=[s.code for s in cache.states],
        )
    except SeedErrors as exc:
        for error in exc.errors:
            flash(directory_error_message(error), "error")
        return _entry_page(row, form), 422
    flash(_("Your entry was saved and confirmed as true today."), "success")
    return redirect(url_for("provider.entry", service_id=service_id))


@blueprint.get("/directory/<service_id>/service-edits")
@requires("admin")
def entry_edits(service_id: str) -> str:
    row = db_session().get(ServiceRow, service_id)
    if row is None:
        abort(404)
    return render_template(
        "provider/entry_edits.html",
        row=row,
        edits=ops.entry_edits(db_session(), service_id),
    )


@blueprint.post("/directory/service-edits/<int:edit_id>/undo")
@requires("admin")
def entry_undo(edit_id: int) -> Response:
    edit = db_session().get(ServiceEntryEdit, edit_id)
    if edit is None:
        abort(404)
    cache = catalogue_cache()
    try:
        ops.undo_entry_edit(
            db_session(),
            edit,
            admin_id=current_user.id,
            rules=cache.rules,
            states=[s.code for s in cache.states],
        )
    except ops.EditNotUndoable:
        flash(_("The entry has changed since this edit: edit it by hand instead."), "error")
    else:
        flash(_("The service's edit was undone."), "success")
    return redirect(url_for("provider.entry_edits", service_id=edit.service_id))


# --- the answer link (no account) ---------------------------------------------------------


def link_closed_page(state: str) -> tuple[str, int]:
    """One sentence in the reader's language: 410 for a link that was valid, else 404."""
    status = 404 if state == ops.LinkState.unknown else 410
    return render_template("provider/link_closed.html", state=state), status


@answer_blueprint.get("/r/<token>")
def link(token: str) -> str | tuple[str, int]:
    """The minimal view and the answer form; opening it changes nothing (a preview is safe)."""
    check = ops.check_answer_link(db_session(), token)
    if check.state != ops.LinkState.valid or check.row is None:
        return link_closed_page(check.state)
    found = db_session().get(Referral, check.row.referral_id)
    assert found is not None
    form = _prepare(LinkAnswerForm(), found, LINK_STATUSES)
    return render_template(
        "provider/referral.html",
        view=one_view(found),
        form=form,
        action=url_for("answer.link_answer", token=token),
        through_link=True,
    )


@answer_blueprint.post("/r/<token>")
def link_answer(token: str) -> Response | str | tuple[str, int]:
    session = db_session()
    check = ops.check_answer_link(session, token)
    if check.state != ops.LinkState.valid or check.row is None:
        if check.row is not None:
            record_audit(
                session,
                "answer_link_refused",
                actor_id=None,
                object_kind="referral",
                object_id=check.row.referral_id,
            )
        return link_closed_page(check.state)
    found = session.get(Referral, check.row.referral_id)
    assert found is not None
    form = _prepare(LinkAnswerForm(), found, LINK_STATUSES)
    action = url_for("answer.link_answer", token=token)
    version = form.version_number()
    if version is not None and version != found.version:
        return conflict(found, form, action), 409
    if not form.validate():
        return render_template(
            "provider/referral.html",
            view=one_view(found),
            form=form,
            action=action,
            through_link=True,
        ), 400
    try:
        workflow.change_status(
            session,
            found,
            status=form.status.data,
            reason_code=form.reason_code.data or None,
            expected_version=version or 0,
            user_id=None,
            answer=workflow.Answer(
                channel=workflow.EventChannel.link,
                note=form.note.data or None,
                responder_name=(form.responder_name.data or "").strip(),
                responder_role=(form.responder_role.data or "").strip(),
            ),
        )
    except workflow.ReferralConflict as clash:
        return conflict(clash.referral, form, action), 409
    except workflow.ReferralError as exc:
        flash(referral_error(exc), "error")
        return redirect(action)
    if not ops.use_answer_link(session, check.row):  # another answer used it a moment before
        session.rollback()
        return link_closed_page(ops.LinkState.used)
    ops.close_links_if_final(session, found, None)
    return render_template("provider/link_thanks.html", view=one_view(found))


# --- the screener's copy for the service --------------------------------------------------


def qr_data_uri(url: str) -> str:
    """A QR code of ``url`` as an SVG data URI, drawn on the server (no script)."""
    return str(segno.make(url, error="m").svg_data_uri(scale=4, border=2))


def _copy_page(found: Referral, case: Case, token: str | None) -> str:
    link_url = url_for("answer.link", token=token, _external=True) if token else None
    return render_template(
        "provider/service_copy.html",
        view=one_view(found),
        case=case,
        referral=found,
        link_url=link_url,
        qr=qr_data_uri(link_url) if link_url else None,
        live=ops.live_answer_link(db_session(), found.id or 0),
        days=current_app.config["REFERRAL_ANSWER_LINK_DAYS"],
        closed=found.status in workflow.FINAL_STATUSES,
    )


@answer_blueprint.get("/referrals/<int:referral_id>/service-copy")
@requires("screener", "supervisor", "admin")
def service_copy(referral_id: int) -> str:
    found, case = load_referral(referral_id, current_reach())
    if found.service_id is None:
        abort(404)
    return _copy_page(found, case, None)


@answer_blueprint.post("/referrals/<int:referral_id>/service-copy")
@requires("screener", "supervisor", "admin")
def service_copy_new(referral_id: int) -> str:
    """A new link (the old one stops working): shown once, on this page, to print or copy."""
    found, case = load_referral(referral_id, current_reach())
    if found.service_id is None or found.status in workflow.FINAL_STATUSES:
        abort(404)
    token, _row = ops.issue_answer_link(
        db_session(),
        found,
        user_id=current_user.id,
        days=current_app.config["REFERRAL_ANSWER_LINK_DAYS"],
    )
    return _copy_page(found, case, token)


@answer_blueprint.post("/referrals/<int:referral_id>/service-copy/revoke")
@requires("screener", "supervisor", "admin")
def service_copy_revoke(referral_id: int) -> Response:
    found, _case = load_referral(referral_id, current_reach())
    if ops.revoke_answer_links(db_session(), found.id or 0, actor_id=current_user.id):
        flash(_("The service's answer link no longer works."), "success")
    return redirect(url_for("answer.service_copy", referral_id=found.id))


# --- wiring ------------------------------------------------------------------------------


def answer_link_limit() -> str:
    return str(current_app.config["ANSWER_LINK_RATE_LIMIT"])


def keep_providers_in_their_pages() -> None:
    """A provider reaches its pages and its account only: any other page answers 404."""
    if not current_user.is_authenticated or getattr(current_user, "role", None) != "provider":
        return
    if request.endpoint in (None, "static") or request.blueprint in PROVIDER_BLUEPRINTS:
        return
    abort(404)


@answer_blueprint.after_request
def private_link_page(response: Response) -> Response:
    """A link's page holds a referral's minimal view: never stored, never indexed."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def init_app(app: Flask) -> None:
    from referral.security import LIMITER_KEY

    app.register_blueprint(blueprint)
    app.register_blueprint(answer_blueprint)
    limiter: Any = app.extensions[LIMITER_KEY]
    for endpoint in ("answer.link", "answer.link_answer"):
        app.view_functions[endpoint] = limiter.limit(answer_link_limit)(
            app.view_functions[endpoint]
        )
    app.before_request(keep_providers_in_their_pages)
    app.context_processor(lambda: {"utcnow": utcnow})
