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
from sqlalchemy import Table, and_, func, or_
from sqlmodel import SQLModel, col, select
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

    user = StringField(_l("Person (email or name)"), validators=[Optional()])
    action = SelectField(_l("Action"), choices=[], validators=[Optional()])
    object_kind = SelectField(_l("Object"), choices=[], validators=[Optional()])
    object_id = StringField(
        _l("Object (case code, email, service id or number)"), validators=[Optional()]
    )
    since = DateField(_l("From (date)"), validators=[Optional(), date_in_range])
    until = DateField(_l("To (date)"), validators=[Optional(), date_in_range])
    page = IntegerField(validators=[Optional(), page_in_range])


def _day_start(day: Any) -> datetime:
    return datetime.combine(day, time.min, tzinfo=local_timezone())


def accounts() -> Table:
    """The accounts table, found by name: auth records audit events, so audit cannot import it."""
    return SQLModel.metadata.tables["user_account"]


def cases() -> Table:
    """The cases table, found by name (casework records audit events)."""
    return SQLModel.metadata.tables["case_file"]


def referrals() -> Table:
    return SQLModel.metadata.tables["referral"]


# The changed fields the log names, with their labels (a service's fields keep the names of
# the directory's import format, which its administrators write).
FIELD_LABELS: dict[str, Any] = {
    "status": _l("Status"),
    "reason_code": _l("Reason"),
    "role": _l("Role"),
    "states": _l("States"),
    "national": _l("National"),
    "language": _l("Language"),
    "display_name": _l("Name"),
    "active": _l("Active"),
    "state": _l("State"),
    "consent_referral": _l("Consent to referral"),
    "consent_statistics": _l("Consent to statistics"),
    "notes": _l("Notes"),
    "latest_status": _l("Screening result"),
    "screening": _l("Screening"),
}


# The roles' names (the same texts as the user form's; auth records events, so not imported).
ROLE_NAMES: dict[str, Any] = {
    "screener": _l("Screener"),
    "supervisor": _l("Supervisor"),
    "admin": _l("Administrator"),
}


def _ids(rows: Any, kind: str) -> set[int]:
    return {
        int(event.object_id)
        for event, _email in rows
        if event.object_kind == kind and (event.object_id or "").isdigit()
    }


def object_names(session: Any, rows: Any) -> dict[tuple[str, str], dict[str, str]]:
    """What people call each object on the page: a case's code, a referral's case code and
    need, a user's email and name (the events keep row ids, which nobody reads)."""
    names: dict[tuple[str, str], dict[str, str]] = {}
    case_ids, referral_ids, user_ids = (
        _ids(rows, "case"),
        _ids(rows, "referral"),
        _ids(rows, "user"),
    )
    if case_ids:
        table = cases()
        for row in session.execute(
            select(table.c.id, table.c.code).where(table.c.id.in_(case_ids))
        ):
            names[("case", str(row.id))] = {"code": row.code}
    if referral_ids:
        table, case_table = referrals(), cases()
        query = (
            select(table.c.id, table.c.need, table.c.service_id, case_table.c.code)
            .join(case_table, case_table.c.id == table.c.case_id)
            .where(table.c.id.in_(referral_ids))
        )
        for row in session.execute(query):
            names[("referral", str(row.id))] = {
                "code": row.code,
                "need": row.need,
                "service": row.service_id or "",
            }
    if user_ids:
        table = accounts()
        for row in session.execute(
            select(table.c.id, table.c.email, table.c.display_name).where(table.c.id.in_(user_ids))
        ):
            names[("user", str(row.id))] = {"email": row.email, "name": row.display_name}
    return names


def _object_condition(session: Any, text: str) -> Any:
    """Events about the object people name by ``text``: a case code (the case and its
    referrals), a user's email, a service id, or an event's own object id."""
    kind, object_id = col(AuditEvent.object_kind), col(AuditEvent.object_id)
    conditions: list[Any] = [object_id == text]
    case_table, users = cases(), accounts()
    case_id = session.execute(
        select(case_table.c.id).where(func.upper(case_table.c.code) == text.upper())
    ).scalar()
    if case_id is not None:
        table = referrals()
        referral_ids = [
            str(value)
            for value in session.execute(select(table.c.id).where(table.c.case_id == case_id))
            .scalars()
            .all()
        ]
        conditions.append(and_(kind == "case", object_id == str(case_id)))
        if referral_ids:
            conditions.append(
                and_(
                    kind == "referral",
                    object_id.in_(referral_ids),
                )
            )
    user_id = session.execute(select(users.c.id).where(users.c.email == text.lower())).scalar()
    if user_id is not None:
        conditions.append(and_(kind == "user", object_id == str(user_id)))
    return or_(*conditions)


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
    session = db.session()
    if form.user.data and not form.user.errors:
        person = form.user.data.strip()
        query = query.where(
            or_(
                users.c.email == person.lower(),
                func.lower(users.c.display_name).contains(person.lower(), autoescape=True),
            )
        )
    if form.action.data and not form.action.errors:
        query = query.where(AuditEvent.action == form.action.data)
    if form.object_kind.data and not form.object_kind.errors:
        query = query.where(AuditEvent.object_kind == form.object_kind.data)
    if form.object_id.data and form.object_id.data.strip():
        query = query.where(_object_condition(session, form.object_id.data.strip()))
    if form.since.data and not form.since.errors:
        query = query.where(AuditEvent.at >= _day_start(form.since.data))
    if form.until.data and not form.until.errors:
        query = query.where(AuditEvent.at < _day_start(form.until.data + timedelta(days=1)))
    page = max(1, form.page.data or 1) if not form.page.errors else 1
    rows = session.exec(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())  # type: ignore[attr-defined, union-attr]
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    more = len(rows) > PAGE_SIZE
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "audit/events.html",
        form=form,
        rows=rows[:PAGE_SIZE],
        names=object_names(session, rows[:PAGE_SIZE]),
        fields=FIELD_LABELS,
        roles=ROLE_NAMES,
        actions=ACTIONS,
        kinds=OBJECT_KINDS,
        page=page,
        more=more,
        args=args,
        format_datetime=format_datetime,
    )
