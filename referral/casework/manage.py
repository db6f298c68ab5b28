"""Managing a case over its life: close, reopen, hand over, withdraw consent, erase.

URL rules of this feature (blueprint "manage"):
    GET      /cases/<code>/manage      manage.page      (who may see the case)
    POST     /cases/<code>/close       manage.close     (the case's screener; supervisors in reach)
    POST     /cases/<code>/reopen      manage.reopen    (the same)
    POST     /cases/<code>/consent     manage.consent   (the same)
    POST     /cases/<code>/handover    manage.handover  (supervisors in reach, admins)
    GET/POST /cases/<code>/erase       manage.erase     (admins: type the code to confirm)

A case out of reach answers 404, as everywhere. Bad input comes back at its field (422)
with what was typed kept; the operations live in ``referral.casework.lifecycle``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlmodel import Session, col, select
from werkzeug.wrappers import Response
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, ValidationError

from referral.access import Reach, current_reach, requires
from referral.audit.operations import record_audit
from referral.auth.models import User
from referral.casework import lifecycle
from referral.casework.models import Case, CaseClosedReason, CaseEventKind
from referral.casework.queries import load_case
from referral.db import session as db_session
from referral.db import writes as db_writes
from referral.forms import Form

blueprint = Blueprint("manage", __name__, template_folder="templates")

CLOSE_REASON_LABELS: dict[str, Any] = {
    CaseClosedReason.services_completed: _l("Services completed"),
    CaseClosedReason.person_unreachable: _l("The person cannot be reached"),
    CaseClosedReason.person_declined: _l("The person declined further help"),
    CaseClosedReason.transferred: _l("Transferred to another institution"),
    CaseClosedReason.duplicate: _l("Duplicate of another case"),
    CaseClosedReason.other: _l("Other"),
}
EVENT_LABELS: dict[str, Any] = {
    CaseEventKind.closed: _l("Case closed"),
    CaseEventKind.reopened: _l("Case reopened"),
    CaseEventKind.handed_over: _l("Handed over to another screener"),
    CaseEventKind.consent_referral_withdrawn: _l("Consent to referral withdrawn"),
    CaseEventKind.consent_statistics_withdrawn: _l("Consent to statistics withdrawn"),
}
ERASURE_REASON_LABELS: dict[str, Any] = {
    lifecycle.ErasureReason.person_request: _l("The person asked for their data to be erased"),
    lifecycle.ErasureReason.duplicate: _l("Duplicate of another case"),
    lifecycle.ErasureReason.entered_in_error: _l("Recorded in error"),
    lifecycle.ErasureReason.legal_order: _l("Ordered by a competent authority"),
}
NOTE_HINT = _l("Kept with the case, never exported. No names or contact details.")


class CloseForm(Form):
    reason = RadioField(
        _l("Why is the case closed?"),
        choices=list(CLOSE_REASON_LABELS.items()),
        validators=[InputRequired(_l("Choose why the case is closed."))],
    )
    note = TextAreaField(
        _l("Note (needed for “other”)"),
        description=NOTE_HINT,
        # No Optional(): it would stop the chain before validate_note sees a blank note.
        validators=[Length(max=lifecycle.NOTE_MAX)],
    )

    def validate_note(self, field: Any) -> None:
        if self.reason.data == CaseClosedReason.other and not (field.data or "").strip():
            raise ValidationError(_l("Say in a few words why the case is closed."))


class ReopenForm(Form):
    note = TextAreaField(
        _l("Why is the case reopened?"),
        description=NOTE_HINT,
        validators=[
            InputRequired(_l("Say why the case is reopened.")),
            Length(max=lifecycle.NOTE_MAX),
        ],
    )


class ConsentForm(Form):
    referral = BooleanField(_l("The person withdraws consent to referral"))
    statistics = BooleanField(_l("The person withdraws consent to statistics"))

    def validate_statistics(self, field: Any) -> None:
        if not field.data and not self.referral.data:
            raise ValidationError(_l("Choose which consent the person withdraws."))


class HandoverForm(Form):
    to_user = SelectField(
        _l("New screener"),
        choices=[],
        validators=[InputRequired(_l("Choose the screener who takes the case."))],
    )


class EraseForm(Form):
    reason = SelectField(
        _l("Why is the case erased?"),
        choices=[("", _l("Choose…")), *ERASURE_REASON_LABELS.items()],
        validators=[InputRequired(_l("Choose why the case is erased."))],
    )
    confirm_code = StringField(
        _l("Type the case code to confirm"),
        validators=[InputRequired(_l("Type the case code.")), Length(max=40)],
    )


def candidates(session: Session, case: Case) -> list[User]:
    """The screeners the case may be handed to: active, working in its state."""
    users = session.exec(
        select(User).where(User.role == "screener", col(User.active)).order_by(col(User.email))
    ).all()
    return [user for user in users if lifecycle.can_receive(user, case)]


def user_name(user: User | None) -> str:
    if user is None:
        return _("the server console")
    return user.display_name or user.email


def may_hand_over(reach: Reach, case: Case) -> bool:
    return reach.is_admin or (reach.is_supervisor and reach.can_see_state(case.state))


def render_page(case: Case, status: int = 200, **forms: Any) -> tuple[str, int]:
    session = db_session()
    reach = current_reach()
    handover = forms.get("handover_form") or HandoverForm(prefix="handover")
    handover.to_user.choices = [(str(u.id), user_name(u)) for u in candidates(session, case)] or [
        ("", _("No other screener works in this state"))
    ]
    history = lifecycle.history(session, case)
    people = {
        u.id: u
        for u in session.exec(
            select(User).where(
                col(User.id).in_(
                    {e.by_user_id for e in history}
                    | {e.from_user_id for e in history}
                    | {e.to_user_id for e in history}
                    | {case.screener_id, case.closed_by} - {None}
                )
            )
        ).all()
    }
    page = render_template(
        "cases/manage.html",
        case=case,
        history=history,
        people=people,
        user_name=user_name,
        open_referrals=lifecycle.open_referrals(session, case),
        close_form=forms.get("close_form") or CloseForm(prefix="close"),
        reopen_form=forms.get("reopen_form") or ReopenForm(prefix="reopen"),
        consent_form=forms.get("consent_form") or ConsentForm(prefix="consent"),
        handover_form=handover,
        may_hand_over=may_hand_over(reach, case),
        is_admin=reach.is_admin,
        can_see_notes=case.screener_id == current_user.id or reach.can_see_state(case.state),
        close_labels=CLOSE_REASON_LABELS,
        event_labels=EVENT_LABELS,
    )
    return page, status


def back(case: Case) -> Response:
    return redirect(url_for("manage.page", code=case.code))


@blueprint.get("/cases/<code>/manage")
@login_required
@db_writes  # the case_viewed audit event (the page shows the case's notes)
def page(code: str) -> tuple[str, int]:
    case = load_case(code, current_reach())
    record_audit(
        db_session(),
        "case_viewed",
        actor_id=current_user.id,
        object_kind="case",
        object_id=case.id,
        state=case.state,
    )
    return render_page(case)


LIFECYCLE_ERRORS = {
    "already_closed": lambda: _("This case is closed already."),
    "not_closed": lambda: _("This case is open: there is nothing to reopen."),
    "no_referral_consent": lambda: _("The person had not agreed to be referred."),
    "no_statistics_consent": lambda: _("The person had withdrawn consent to statistics already."),
    "cannot_receive": lambda: _("Choose an active screener who works in the case's state."),
}


def lifecycle_error(exc: lifecycle.LifecycleError) -> str:
    return LIFECYCLE_ERRORS.get(exc.code, lambda: exc.code)()


@blueprint.post("/cases/<code>/close")
@login_required
def close(code: str) -> Response | tuple[str, int]:
    case = load_case(code, current_reach())
    form = CloseForm(prefix="close")
    if not form.validate():
        return render_page(case, 422, close_form=form)
    try:
        lifecycle.close_case(
            db_session(),
            case,
            reason=form.reason.data,
            note=form.note.data,
            user_id=current_user.id,
        )
    except lifecycle.LifecycleError as exc:
        flash(lifecycle_error(exc), "error")
    else:
        flash(_("Case closed. It has left the working lists."), "success")
    return back(case)


@blueprint.post("/cases/<code>/reopen")
@login_required
def reopen(code: str) -> Response | tuple[str, int]:
    case = load_case(code, current_reach())
    form = ReopenForm(prefix="reopen")
    if not form.validate():
        return render_page(case, 422, reopen_form=form)
    try:
        lifecycle.reopen_case(db_session(), case, note=form.note.data, user_id=current_user.id)
    except lifecycle.LifecycleError as exc:
        flash(lifecycle_error(exc), "error")
    else:
        flash(_("Case reopened."), "success")
    return back(case)


@blueprint.post("/cases/<code>/consent")
@login_required
def consent(code: str) -> Response | tuple[str, int]:
    case = load_case(code, current_reach())
    form = ConsentForm(prefix="consent")
    if not form.validate():
        return render_page(case, 422, consent_form=form)
    try:
        cancelled = lifecycle.withdraw_consent(
            db_session(),
            case,
            referral=bool(form.referral.data),
            statistics=bool(form.statistics.data),
            user_id=current_user.id,
        )
    except lifecycle.LifecycleError as exc:
        flash(lifecycle_error(exc), "error")
    else:
        flash(_("The withdrawal of consent is recorded."), "success")
        if cancelled:
            flash(
                _("Open referrals cancelled: %(count)d.", count=len(cancelled)),
                "success",
            )
    return back(case)


@blueprint.post("/cases/<code>/handover")
@requires("supervisor", "admin")
def handover(code: str) -> Response | tuple[str, int]:
    reach = current_reach()
    case = load_case(code, reach)
    if not may_hand_over(reach, case):  # a supervisor's own case of another state
        abort(403)
    session = db_session()
    form = HandoverForm(prefix="handover")
    form.to_user.choices = [(str(u.id), user_name(u)) for u in candidates(session, case)]
    if not form.validate():
        return render_page(case, 422, handover_form=form)
    to_user = session.get(User, int(form.to_user.data))
    from_user = session.get(User, case.screener_id)
    try:
        lifecycle.hand_over(session, case, to_user, from_user=from_user, by_user_id=current_user.id)
    except lifecycle.LifecycleError as exc:
        flash(lifecycle_error(exc), "error")
    else:
        flash(_("Case handed over to %(name)s.", name=user_name(to_user)), "success")
    return back(case)


@blueprint.route("/cases/<code>/erase", methods=["GET", "POST"])
@requires("admin")
def erase(code: str) -> Response | tuple[str, int]:
    case = load_case(code, current_reach())
    form = EraseForm()
    if form.is_submitted():
        valid = form.validate()
        if valid and (form.confirm_code.data or "").strip().upper() != case.code.upper():
            form.confirm_code.errors = [_("The code typed is not this case's code.")]
            valid = False
        if valid:
            erased = lifecycle.erase_case(
                db_session(), case, reason=form.reason.data, actor_id=current_user.id
            )
            flash(_("Case %(code)s erased.", code=erased.code), "success")
            return redirect(url_for("cases.index"))
        return render_template("cases/erase.html", case=case, form=form), 422
    return render_template("cases/erase.html", case=case, form=form), 200
