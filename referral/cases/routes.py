"""Cases and their referrals, for the people whose work needs them.

URL rules of this feature:
    GET   /cases                              cases.index
    GET   /cases/<code>                       cases.show
    POST  /cases/<code>/referrals             cases.refer
    POST  /cases/<code>/referrals/ad-hoc      cases.refer_ad_hoc
    POST  /referrals/<id>/status              cases.referral_status
    GET   /referrals/<id>/sheet               cases.referral_sheet
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from referral.access import Reach
from referral.audit.operations import record_audit
from referral.cases import operations as ops
from referral.cases.access import load_case, load_referral
from referral.cases.forms import AdHocReferralForm, ReferForm, StatusForm, status_choices
from referral.catalogue import current_catalogue
from referral.db import session as db_session
from referral.db import writes as db_writes
from referral.i18n import LANGUAGES
from referral.intake.operations import latest_screening
from referral.referrals import operations as referrals
from referral.referrals.models import Referral

blueprint = Blueprint("cases", __name__, template_folder="templates")
MAX_PAGE = 1_000_000


def lang() -> str:
    return str(get_locale() or "es")[:2]


def reach() -> Reach:
    return Reach.of(current_user)


@blueprint.get("/cases")
@login_required
def index() -> str:
    status = request.args.get("status") or None
    if status not in {None, "likely", "possible", "not_indicated"}:
        status = None
    code = (request.args.get("code") or "").strip()[:40] or None
    # Bounded: a huge page number would overflow the database's integer OFFSET (a 500).
    page = min(max(1, request.args.get("page", 1, type=int) or 1), MAX_PAGE)
    rows, total = ops.case_list(
        db_session(),
        reach(),
        status=status,
        code=code,
        stale_days=current_app.config["REFERRAL_STALE_DAYS"],
        page=page,
    )
    return render_template(
        "cases/index.html",
        rows=rows,
        total=total,
        status=status,
        code=code or "",
        page=page,
        page_size=ops.PAGE_SIZE,
        stale_days=current_app.config["REFERRAL_STALE_DAYS"],
        catalogue=current_catalogue(db_session()),
        lang=lang(),
    )


@blueprint.get("/cases/<code>")
@login_required
@db_writes  # the case_viewed audit event
def show(code: str) -> str:
    case = load_case(code, reach())
    session = db_session()
    catalogue = current_catalogue(session)
    screening = latest_screening(session, case)
    result, other_language = (
        ops.displayed_result(screening, catalogue, lang()) if screening else ({}, False)
    )
    case_referrals = ops.case_referrals(session, case)
    tried = {(r.need, r.service_id) for r in case_referrals}
    declined = {
        (r.need, r.service_id) for r in case_referrals if r.status in {"rejected", "failed"}
    }
    record_audit(
        session,
        "case_viewed",
        actor_id=current_user.id,
        object_kind="case",
        object_id=case.id,
        state=case.state,
    )
    return render_template(
        "cases/show.html",
        case=case,
        screening=screening,
        result=result,
        other_language=other_language,
        referrals=case_referrals,
        tried=tried,
        declined=declined,
        gaps=ops.open_gaps(session, case),
        timeline=ops.timeline(session, case),
        catalogue=catalogue,
        lang=lang(),
        refer_form=ReferForm(),
        ad_hoc_form=AdHocReferralForm(needs=catalogue.code_lists(lang())["needs"]),
        status_form=StatusForm,
        status_choices=status_choices,
        stale_days=current_app.config["REFERRAL_STALE_DAYS"],
        can_see_notes=case.screener_id == current_user.id or reach().can_see_state(case.state),
    )


REFERRAL_ERRORS = {
    "no_consent": lambda: _("The person did not agree to be referred: record their consent first."),
    "unknown_service": lambda: _("That service is not in the directory for this need."),
    "already_referred": lambda: _("This case is already referred to that service for this need."),
    "ad_hoc_needs_provider_and_reason": lambda: _("Name the provider and say why."),
    "unknown_status": lambda: _("Choose a status from the list."),
    "transition_not_allowed": lambda: _("A referral in this status cannot change to that one."),
    "reason_required": lambda: _("This status needs a reason: choose one."),
}


def referral_error(exc: referrals.ReferralError) -> str:
    return REFERRAL_ERRORS.get(exc.code, lambda: exc.code)()


@blueprint.post("/cases/<code>/referrals")
@login_required
def refer(code: str) -> Response:
    case = load_case(code, reach())
    form = ReferForm()
    if not form.validate():
        abort(400)
    try:
        referrals.refer(
            db_session(),
            case,
            need=form.need.data,
            service_id=form.service_id.data,
            catalogue=current_catalogue(db_session()),
            user_id=current_user.id,
        )
    except referrals.ReferralError as exc:
        flash(referral_error(exc), "error")
    else:
        flash(_("Referral requested."), "success")
    return redirect(url_for("cases.show", code=case.code) + "#referrals")


@blueprint.post("/cases/<code>/referrals/ad-hoc")
@login_required
def refer_ad_hoc(code: str) -> Response | str:
    case = load_case(code, reach())
    catalogue = current_catalogue(db_session())
    form = AdHocReferralForm(needs=catalogue.code_lists(lang())["needs"])
    if not form.validate():
        flash(_("Name the provider, choose the need and say why."), "error")
        return redirect(url_for("cases.show", code=case.code) + "#ad-hoc")
    try:
        referrals.refer_ad_hoc(
            db_session(),
            case,
            need=form.need.data,
            provider=form.provider.data,
            reason=form.reason.data,
            user_id=current_user.id,
        )
    except referrals.ReferralError as exc:
        flash(referral_error(exc), "error")
    else:
        flash(_("Referral outside the directory recorded, and counted as a gap."), "success")
    return redirect(url_for("cases.show", code=case.code) + "#referrals")


@blueprint.post("/referrals/<int:referral_id>/status")
@login_required
def referral_status(referral_id: int) -> Response | tuple[str, int]:
    referral, case = load_referral(referral_id, reach())
    form = StatusForm()
    catalogue = current_catalogue(db_session())
    form.status.choices = [
        (code, catalogue.label("referral_statuses", code, lang())) for code in referrals.STATUSES
    ]
    if form.version.data is not None and form.version.data != referral.version:
        return conflict_page(referral, case, form), 409
    if not form.validate():
        flash(_("Choose a status, and a reason when it needs one."), "error")
        return redirect(url_for("cases.show", code=case.code) + f"#referral-{referral.id}")
    try:
        referrals.change_status(
            db_session(),
            referral,
            status=form.status.data,
            reason_code=form.reason_code.data or None,
            expected_version=form.version.data,
            user_id=current_user.id,
        )
    except referrals.ReferralConflict as conflict:
        return conflict_page(conflict.referral, case, form), 409
    except referrals.ReferralError as exc:
        flash(referral_error(exc), "error")
    else:
        flash(_("Referral status changed."), "success")
    return redirect(url_for("cases.show", code=case.code) + f"#referral-{referral.id}")


def conflict_page(referral: Referral, case, form: StatusForm) -> str:
    """Someone changed the referral first: show both changes; nothing is lost silently."""
    return render_template(
        "cases/conflict.html",
        referral=referral,
        case=case,
        form=form,
        catalogue=current_catalogue(db_session()),
        lang=lang(),
        status_choices=status_choices,
        status_form=StatusForm,
    )


@blueprint.get("/referrals/<int:referral_id>/sheet")
@login_required
def referral_sheet(referral_id: int) -> str:
    """A sheet for the person: the service and how to reach it, nothing else about the case."""
    referral, _case = load_referral(referral_id, reach())
    sheet_lang = request.args.get("lang")
    if sheet_lang not in LANGUAGES:
        sheet_lang = lang()
    catalogue = current_catalogue(db_session())
    service = catalogue.services_by_id.get(referral.service_id or "")
    with force_locale(sheet_lang):
        return render_template(
            "cases/sheet.html",
            referral=referral,
            service=service,
            catalogue=catalogue,
            sheet_lang=sheet_lang,
        )
