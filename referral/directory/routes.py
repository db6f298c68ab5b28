"""The service directory pages: supervisors read, admins create, edit, retire, set capacity.

URL rules of this feature:
    GET       /directory                      directory.index     (supervisors, admins)
    GET       /directory/<id>                 directory.show      (supervisors, admins)
    GET POST  /directory/new                  directory.new       (admins)
    GET POST  /directory/<id>/edit            directory.edit      (admins)
    POST      /directory/<id>/capacity        directory.capacity  (admins)
    POST      /directory/<id>/retire          directory.retire    (admins)
    POST      /directory/confirmation         directory.confirmation (admins)

Every signed-in page carries the demonstration banner until an admin confirms the directory
or imports one (``directory_is_demonstration`` in templates).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlmodel import col, or_, select
from werkzeug.wrappers import Response

from referral import db
from referral.access import current_reach, requires
from referral.audit.operations import record_audit
from referral.directory import operations as ops
from referral.directory.catalogue import catalogue_cache, current_catalogue
from referral.directory.confidential import CONTACT_THROUGH
from referral.directory.forms import (
    CapacityForm,
    ConfirmDirectoryForm,
    RetireForm,
    ServiceForm,
    entry_from_form,
    error_message,
    fill_from_entry,
    form_field,
    prepare,
)
from referral.directory.models import Service as ServiceRow
from referral.i18n import by_label, current_language
from referral.rules import SeedErrors

blueprint = Blueprint("directory", __name__, template_folder="templates")
PAGE_SIZE = 100


def load_service(service_id: str) -> ServiceRow:
    row = db.session().get(ServiceRow, service_id)
    if row is None:
        abort(404)
    return row


@blueprint.app_context_processor
def demonstration_banner() -> dict[str, Any]:
    def directory_is_demonstration() -> bool:
        return not ops.directory_confirmed(db.session())

    return {"directory_is_demonstration": directory_is_demonstration}


def verification(entry: dict[str, Any], today: dt.date | None = None) -> tuple[str | None, bool]:
    """The last verification date (ISO) and whether it is missing or over 180 days old."""
    verified = entry.get("last_verified")
    if not verified:
        return None, True
    age = ((today or dt.date.today()) - dt.date.fromisoformat(verified)).days
    return verified, age > ops.STALE_AFTER_DAYS


@blueprint.get("/directory")
@requires("supervisor", "admin")
def index() -> str:
    session = db.session()
    catalogue = current_catalogue(session)
    q = (request.args.get("q") or "").strip()[:100]
    need = request.args.get("need") or ""
    status = request.args.get("status") or ""
    state = request.args.get("state") or ""
    query = select(ServiceRow)
    if need in catalogue.need_order:
        query = query.where(ServiceRow.need == need)
    if status in catalogue.seeds.codes("service_statuses"):
        query = query.where(ServiceRow.status == status)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(
            or_(
                col(ServiceRow.id).like(pattern),
                col(ServiceRow.name_es).ilike(pattern),
                col(ServiceRow.name_en).ilike(pattern),
            )
        )
    rows = list(session.exec(query.order_by(col(ServiceRow.id))).all())
    english = current_language() == "en"
    rows = by_label(rows, current_language(), lambda r: r.name_en if english else r.name_es)
    if state in catalogue.state_names:  # coverage lives in the entry document
        rows = [
            r for r in rows if state in r.entry["coverage"] or "national" in r.entry["coverage"]
        ]
    page = max(1, request.args.get("page", 1, type=int) or 1)
    total = len(rows)
    rows = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return render_template(
        "directory/index.html",
        rows=[(r, *verification(r.entry)) for r in rows],
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        q=q,
        need=need,
        status=status,
        state=state,
        capacity_form=CapacityForm,
        confirm_form=ConfirmDirectoryForm(),
        confirmed=ops.directory_confirmed(session),
        args={
            k: v for k, v in {"q": q, "need": need, "status": status, "state": state}.items() if v
        },
    )


def audit_location_read(row: ServiceRow) -> None:
    """An administrator is about to see a confidential service's location: audited."""
    if row.entry.get("confidential") and current_reach().is_admin:
        record_audit(
            db.session(),
            "service_location_viewed",
            actor_id=current_user.id,
            object_kind="service",
            object_id=row.id,
            state=ops.audit_state(row.entry),
        )


@blueprint.post("/directory/confirmation")
@requires("admin")
def confirmation() -> Response:
    form = ConfirmDirectoryForm()
    if not form.validate() or form.confirmed.data not in ("yes", "no"):
        abort(400)
    confirmed = form.confirmed.data == "yes"
    ops.set_directory_confirmed(db.session(), confirmed, actor_id=current_user.id)
    if confirmed:
        flash(
            _("The directory is confirmed as a real one: the demonstration notice is gone."),
            "success",
        )
    else:
        flash(_("The directory is marked as a demonstration again."), "success")
    return redirect(url_for("directory.index"))


@blueprint.get("/directory/<service_id>")
@requires("supervisor", "admin")
@db.writes  # the service_location_viewed audit event
def show(service_id: str) -> str:
    row = load_service(service_id)
    audit_location_read(row)
    verified, stale = verification(row.entry)
    return render_template(
        "directory/show.html",
        row=row,
        entry=row.entry,
        verified=verified,
        stale=stale,
        capacity_form=CapacityForm(capacity_available=row.entry.get("capacity_available")),
        retire_form=RetireForm(),
        contact_through=_(CONTACT_THROUGH),
    )


def _save(form: ServiceForm, service_id: str, *, create: bool) -> ServiceRow | None:
    """Validate through the rules core and save; put every problem at its field."""
    cache = catalogue_cache()
    entry = entry_from_form(form, service_id=service_id)
    try:
        return ops.save_service(
            db.session(),
            entry,
            rules=cache.rules,
            states=[s.code for s in cache.states],
            actor_id=current_user.id,
            create=create,
        )
    except ops.DuplicateService:
        form.id.errors = [*form.id.errors, _("Another service already has this id.")]
    except SeedErrors as exc:
        for error in exc.errors:
            target = getattr(form, form_field(error.field), None) or form.id
            target.errors = [*target.errors, error_message(error)]
    return None


def _form_page(form: ServiceForm, *, row: ServiceRow | None) -> tuple[str, int] | str:
    page = render_template("directory/form.html", form=form, row=row)
    return (page, 422) if form.errors else page


@blueprint.route("/directory/new", methods=["GET", "POST"])
@requires("admin")
def new() -> Response | str | tuple[str, int]:
    form = prepare(ServiceForm(), current_catalogue(db.session()), current_language())
    if request.method == "GET":
        form.status.data = "active"
        form.accepts_foreign.data = True
        form.accepts_companions.data = True
        form.sexes.data = ["female", "male", "intersex"]
        form.languages.data = "es"
    elif form.validate():
        service_id = (form.id.data or "").strip()
        row = _save(form, service_id, create=True)
        if row is not None:
            flash(_("Service saved. New routing uses it from now on."), "success")
            return redirect(url_for("directory.show", service_id=row.id))
    return _form_page(form, row=None)


@blueprint.route("/directory/<service_id>/edit", methods=["GET", "POST"])
@requires("admin")
@db.writes  # the service_location_viewed audit event
def edit(service_id: str) -> Response | str | tuple[str, int]:
    row = load_service(service_id)
    form = prepare(ServiceForm(), current_catalogue(db.session()), current_language())
    if request.method == "GET":
        audit_location_read(row)
        fill_from_entry(form, row.entry)
    else:
        form.id.data = row.id  # the id of a service never changes
        if form.validate():
            saved = _save(form, row.id, create=False)
            if saved is not None:
                flash(_("Service saved. New routing uses it from now on."), "success")
                return redirect(url_for("directory.show", service_id=row.id))
    return _form_page(form, row=row)


@blueprint.post("/directory/<service_id>/capacity")
@requires("admin")
def capacity(service_id: str) -> Response:
    row = load_service(service_id)
    form = CapacityForm()
    if not form.validate():
        flash(
            _("Free places must be a whole number of 0 or more, or empty when not known."), "error"
        )
    else:
        ops.update_capacity(
            db.session(), row, form.capacity_available.data, actor_id=current_user.id
        )
        flash(_("Free places updated."), "success")
    target = request.form.get("back")
    if target == "list":
        return redirect(url_for("directory.index") + f"#svc-{row.id}")
    return redirect(url_for("directory.show", service_id=row.id))


@blueprint.post("/directory/<service_id>/retire")
@requires("admin")
def retire(service_id: str) -> Response:
    row = load_service(service_id)
    if not RetireForm().validate():
        abort(400)
    ops.retire_service(db.session(), row, actor_id=current_user.id)
    flash(
        _("Service retired: it stays in the directory's history but no longer takes referrals."),
        "success",
    )
    return redirect(url_for("directory.show", service_id=row.id))
