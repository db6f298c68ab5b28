"""The clocks on the case page, and recording the child-protection notice.

URL rules of this feature:
    POST /cases/<code>/child-notice   clocks.child_notice   (whoever sees the case)

The case page includes ``cases/_tasks.html``, which asks :func:`clocks_of` (a template
global) for the case's clocks, so the page's own view need not know them.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from referral import db
from referral.access import current_reach
from referral.casework.models import Case
from referral.casework.queries import load_case
from referral.clocks import operations, queries
from referral.clocks.forms import AUTHORITY_LABELS, NOTICE_ERRORS, ChildNoticeForm
from referral.db import utcnow
from referral.i18n import local_timezone

blueprint = Blueprint("clocks", __name__, template_folder="templates")


def clocks_of(case: Case) -> queries.CaseClocks:
    """The case's clocks now (the tasks partial calls it with the ``case`` it is given)."""
    return queries.case_clocks(
        db.session(), case, queries.Settings.of(current_app.config), utcnow()
    )


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        case_clocks=clocks_of,
        child_notice_form=ChildNoticeForm,
        authority_labels=AUTHORITY_LABELS,
    )


@blueprint.post("/cases/<code>/child-notice")
@login_required
def child_notice(code: str) -> Response | tuple[str, int]:
    case = load_case(code, current_reach())
    form = ChildNoticeForm()
    if form.validate():
        day, hour = form.notified_on.data, form.notified_time.data
        assert day is not None and hour is not None  # DataRequired has checked both
        moment = datetime.combine(day, hour, tzinfo=local_timezone())
        try:
            operations.record_child_notice(
                db.session(),
                case,
                authority=form.authority.data,
                authority_other=form.authority_other.data,
                notified_at=moment,
                user_id=current_user.id,
            )
        except operations.NoticeInvalid as invalid:
            field = getattr(form, invalid.field)
            field.errors = [*field.errors, str(NOTICE_ERRORS[invalid.code])]
        else:
            flash(_("Child-protection notice recorded."), "success")
            return redirect(url_for("cases.show", code=case.code) + "#tasks")
    # What was typed stays, with the message at its field.
    return render_template("clocks/child_notice.html", case=case, form=form), 422
