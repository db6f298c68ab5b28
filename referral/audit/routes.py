"""The audit log page: admins see every event, supervisors the events of their states.

URL rules of this feature:
    GET /audit        audit.events   (supervisors and admins; filters in the query string)
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from sqlalchemy import Table
from sqlmodel import SQLModel, select
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import Optional

from referral import db
from referral.access import current_reach, requires
from referral.audit.models import AuditEvent
from referral.audit.operations import ACTIONS, OBJECT_KINDS
from referral.forms import QueryForm, SelectChoice, date_in_range, page_in_range
from referral.i18n import local_timezone

blueprint = Blueprint("audit", __name__, template_folder="templates")
PAGE_SIZE = 100


class AuditFilterForm(QueryForm):
    """Filters from the query string (a GET form: nothing changes, so no CSRF token)."""

    user = StringField(_l("User (email)"), validators=[Optional()])
    action = SelectField(_l("Action"), choices=[], validators=[Optional()])
    object_kind = SelectField(_l("Object"), choices=[], validators=[Optional()])
    object_id = StringField(_l("Object id"), validators=[Optional()])
    since = DateField(_l("From (date)"), validators=[Optional(), date_in_range])
    until = DateField(_l("To (date)"), validators=[Optional(), date_in_range])
    page = IntegerField(validators=[Optional(), page_in_range])


def _day_start(day: Any) -> datetime:
    return datetime.combine(day, time.min, tzinfo=local_timezone())


def accounts() -> Table:
    """The accounts table, found by name: auth records audit events, so audit cannot import it."""
    return SQLModel.metadata.tables["user_account"]


@blueprint.get("/audit")
@requires("supervisor", "admin")
def events() -> str:
    reach = current_reach()
    form = AuditFilterForm(request.args)
    any_choice = SelectChoice("", str(_l("Any")))
    form.action.choices = [any_choice] + [SelectChoice(c, str(t)) for c, t in ACTIONS.items()]
    form.object_kind.choices = [any_choice] + [
        SelectChoice(c, str(t)) for c, t in OBJECT_KINDS.items()
    ]
    form.validate()
    users = accounts()
    query = select(AuditEvent, users.c.email).outerjoin(users, users.c.id == AuditEvent.actor_id)
    if not reach.is_admin:
        query = query.where(AuditEvent.state.is_not(None))  # type: ignore[union-attr]
    query = reach.filter(query, AuditEvent.state)
    if form.user.data and not form.user.errors:
        query = query.where(users.c.email == form.user.data.strip().lower())
    if form.action.data and not form.action.errors:
        query = query.where(AuditEvent.action == form.action.data)
    if form.object_kind.data and not form.object_kind.errors:
        query = query.where(AuditEvent.object_kind == form.object_kind.data)
    if form.object_id.data:
        query = query.where(AuditEvent.object_id == form.object_id.data.strip())
    if form.since.data and not form.since.errors:
        query = query.where(AuditEvent.at >= _day_start(form.since.data))
    if form.until.data and not form.until.errors:
        query = query.where(AuditEvent.at < _day_start(form.until.data + timedelta(days=1)))
    page = max(1, form.page.data or 1) if not form.page.errors else 1
    rows = (
        db.session()
        .exec(
            query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())  # type: ignore[attr-defined, union-attr]
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        )
        .all()
    )
    more = len(rows) > PAGE_SIZE
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "audit/events.html",
        form=form,
        rows=rows[:PAGE_SIZE],
        actions=ACTIONS,
        kinds=OBJECT_KINDS,
        page=page,
        more=more,
        args=args,
        format_datetime=format_datetime,
    )
