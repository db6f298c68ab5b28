"""The screener's intake: a draft filled section by section, then a case with its routing.

URL rules of this feature:
    GET      /intake                        intake.start        (drafts in progress)
    POST     /intake                        intake.new_draft
    GET/POST /intake/<key>/<section>        intake.section
    POST     /intake/<key>/autosave         intake.autosave     (JSON, from app.js)
    POST     /intake/<key>/submit           intake.submit
    GET      /intake/<key>/discard          intake.confirm_discard (asks first)
    POST     /intake/<key>/discard          intake.discard
    POST     /cases/<code>/rescreen         intake.rescreen
and of the case pages (blueprint "cases"), among them:
    POST     /cases/<code>/route-again      cases.route_again   (same answers, today's rules)
    GET      /cases/<code>/rights           cases.rights        (the person's rights sheet)
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from referral.access import current_reach
from referral.audit.operations import record_audit
from referral.casework import drafts, forms, queries, workflow
from referral.casework.case_page import case_page, rights_sheet
from referral.casework.forms import AdHocReferralForm, ReferForm, StatusForm, status_choices
from referral.casework.models import Case, Draft, Referral
from referral.casework.queries import latest_screening, load_case, load_referral
from referral.casework.screening import CaseDetails
from referral.casework.screening import route_again as route_stored_answers
from referral.db import session as db_session
from referral.db import writes as db_writes
from referral.directory.catalogue import LATEST_CHANGE, current_catalogue
from referral.directory.confidential import CONTACT_THROUGH, shows_location
from referral.i18n import current_language, languages
from referral.rules import RecordInvalid
from referral.rules.contract import DECLINED_STATUSES

intake_blueprint = Blueprint("intake", __name__, template_folder="templates")
DRAFTS_LISTED = 20  # the most recent unfinished screenings a screener is offered to resume


def own_draft(key: str) -> Draft:
    """The signed-in user's draft with this key, or 404 (a draft is never shared)."""
    draft = db_session().exec(select(Draft).where(Draft.key == key)).first()
    if draft is None or draft.user_id != current_user.id:
        abort(404)
    return draft


def build_form(section: str, draft: Draft, formdata: MultiDict | None) -> Any:
    form_class = forms.SECTION_FORMS[section]
    catalogue = current_catalogue(db_session())
    data = forms.draft_to_form_data(draft.data, section, catalogue.indicators)
    if section == "person" and formdata is None:
        # FieldList needs one entry per stored child to show them.
        form = form_class(formdata=None, data=data)
    else:
        form = form_class(formdata=formdata, data=data)
    forms.set_choices(form, catalogue, current_language())
    return form


@intake_blueprint.get("/intake")
@login_required
def start() -> str:
    unfinished = (
        db_session()
        .exec(
            select(Draft)
            .where(Draft.user_id == current_user.id, Draft.submitted_case_id.is_(None))  # type: ignore[union-attr]
            .order_by(Draft.updated_at.desc())  # type: ignore[attr-defined]
            .limit(DRAFTS_LISTED)
        )
        .all()
    )
    return render_template(
        "intake/start.html",
        drafts=[drafts.draft_summary(d) for d in unfinished],
        sections=drafts.SECTIONS,
        titles=forms.SECTION_TITLES,
    )


@intake_blueprint.post("/intake")
@login_required
def new_draft() -> Response:
    draft = drafts.start_draft(db_session(), current_user.id)
    return redirect(url_for("intake.section", key=draft.key, section="encounter"))


def neighbours(section: str) -> tuple[str | None, str | None]:
    index = drafts.SECTIONS.index(section)
    previous = drafts.SECTIONS[index - 1] if index > 0 else None
    following = drafts.SECTIONS[index + 1] if index + 1 < len(drafts.SECTIONS) else None
    return previous, following


@intake_blueprint.route("/intake/<key>/<section>", methods=["GET", "POST"])
@login_required
def section(key: str, section: str) -> Response | str:
    if section not in drafts.SECTIONS:
        abort(404)
    draft = own_draft(key)
    if draft.submitted_case_id is not None:
        case = db_session().get(Case, draft.submitted_case_id)
        if case is not None:
            return redirect(url_for("cases.show", code=case.code))
    if section == "review":
        return review(draft)
    if request.method == "POST":
        form = build_form(section, draft, request.form)
        if "add_child" in request.form or "remove_child" in request.form:
            return change_children(draft, form, section)
        valid = form.validate()
        drafts.save_draft(
            db_session(),
            draft,
            section,
            forms.section_values(form, section),
            fingerprint=fingerprint_of(section) if valid else None,
        )
        previous, following = neighbours(section)
        if "back" in request.form and previous:
            return redirect(url_for("intake.section", key=key, section=previous))
        target = request.form.get("goto")
        if target in drafts.SECTIONS:
            return redirect(url_for("intake.section", key=key, section=target))
        if "save" in request.form:
            flash(_("Draft saved."), "success")
            return redirect(url_for("intake.section", key=key, section=section))
        if valid and following:
            return redirect(url_for("intake.section", key=key, section=following))
        return render_section(draft, section, form), 200  # type: ignore[return-value]
    form = build_form(section, draft, None)
    return render_section(draft, section, form)


def change_children(draft: Draft, form: Any, section: str) -> Response:
    values = forms.section_values(form, section)
    children = list(values.get("companions") or [])
    if "add_child" in request.form and len(children) < forms.MAX_COMPANIONS:
        children.append({"age": None, "sex": ""})
    elif "remove_child" in request.form:
        index = request.form.get("remove_child", type=int)
        if index is not None and 0 <= index < len(children):
            children.pop(index)
    values["companions"] = children
    drafts.save_draft(db_session(), draft, section, values)
    return redirect(url_for("intake.section", key=draft.key, section=section) + "#children")


def render_section(draft: Draft, section: str, form: Any) -> str:
    previous, following = neighbours(section)
    rescreen = db_session().get(Case, draft.rescreen_case_id) if draft.rescreen_case_id else None
    return render_template(
        f"intake/section_{section}.html",
        draft=draft,
        form=form,
        section=section,
        sections=drafts.SECTIONS,
        titles=forms.SECTION_TITLES,
        previous=previous,
        following=following,
        rescreen=rescreen,
        saved_at=drafts.saved_at(draft),
        answer_labels=forms.ANSWER_LABELS,
    )


def review(draft: Draft) -> str:
    problems = section_problems(draft)
    catalogue = current_catalogue(db_session())
    record = forms.record_from_draft(draft.data, catalogue.indicators)
    rescreen = db_session().get(Case, draft.rescreen_case_id) if draft.rescreen_case_id else None
    return render_template(
        "intake/section_review.html",
        answers=forms.draft_answers(draft.data, catalogue.indicators),
        answer_labels=forms.ANSWER_LABELS,
        consent={
            key: {"yes": _("Yes"), "no": _("No")}.get(str(draft.data.get(key)), "—")
            for key in ("consent_referral", "consent_statistics")
        },
        notes=(draft.data.get("notes") or "").strip(),
        draft=draft,
        form=forms.ReviewForm(),
        section="review",
        sections=drafts.SECTIONS,
        titles=forms.SECTION_TITLES,
        previous="legal",
        following=None,
        record=record,
        problems=problems,
        rescreen=rescreen,
    )


def fingerprint_of(section: str) -> Any:
    """The fingerprint a valid section's values are saved with (see ``Draft.checked``)."""
    catalogue = current_catalogue(db_session())
    digest = catalogue.seeds_digest
    return lambda data: forms.section_fingerprint(data, section, digest, catalogue.indicators)


def section_problems(draft: Draft) -> dict[str, list[str]]:
    """Every section's validation messages for the stored draft, section by section.

    A section saved valid whose values have not changed since is not validated again."""
    problems: dict[str, list[str]] = {}
    catalogue = current_catalogue(db_session())
    checked = draft.checked or {}
    digest = catalogue.seeds_digest
    for section in drafts.SECTIONS[:-1]:
        stamp = checked.get(section)
        if stamp and stamp == forms.section_fingerprint(
            draft.data, section, digest, catalogue.indicators
        ):
            continue
        form_class = forms.SECTION_FORMS[section]
        data = forms.draft_to_form_data(draft.data, section, catalogue.indicators)
        formdata = to_formdata(data)
        form = form_class(formdata=formdata, meta={"csrf": False})
        forms.set_choices(form, catalogue, current_language())
        if not form.validate():
            problems[section] = [
                f"{form[name].label.text}: {' '.join(str(e) for e in flatten(errors))}"
                for name, errors in form.errors.items()
            ]
    return problems


def flatten(errors: Any) -> list[str]:
    if isinstance(errors, dict):
        return [e for value in errors.values() for e in flatten(value)]
    if isinstance(errors, list):
        return [e for value in errors for e in flatten(value)]
    return [str(errors)]


def to_formdata(data: dict[str, Any]) -> MultiDict:
    """Draft values as posted form data, to validate a section that is not on screen."""
    pairs: list[tuple[str, Any]] = []
    for name, value in data.items():
        if name == "companions":
            for index, child in enumerate(value or []):
                age = child.get("age")
                pairs.append((f"companions-{index}-age", "" if age is None else str(age)))
                pairs.append((f"companions-{index}-sex", child.get("sex") or ""))
        elif isinstance(value, list):
            pairs.extend((name, v) for v in value)
        elif isinstance(value, bool):
            if value:
                pairs.append((name, "y"))
        elif value is not None:
            pairs.append((name, str(value)))
    return MultiDict(pairs)


@intake_blueprint.post("/intake/<key>/autosave")
@login_required
def autosave(key: str) -> tuple[Response, int] | Response:
    """Save a section's fields while the screener types (app.js); never validates away data."""
    draft = own_draft(key)
    section = request.form.get("_section", "")
    if section not in drafts.SECTIONS[:-1] or draft.submitted_case_id is not None:
        return jsonify(saved=False), 409
    form = build_form(section, draft, request.form)
    valid = form.validate()
    drafts.save_draft(
        db_session(),
        draft,
        section,
        forms.section_values(form, section),
        fingerprint=fingerprint_of(section) if valid else None,
    )
    return jsonify(saved=True, at=drafts.saved_at(draft))


@intake_blueprint.post("/intake/<key>/submit")
@login_required
def submit(key: str) -> Response | str:
    # One query: the draft with its lock (two submits of one draft make one case) and the
    # directory's newest change, so the catalogue's version check is not a query of its own.
    found = drafts.lock_draft_by_key(db_session(), key, LATEST_CHANGE)
    if found is None or found[0].user_id != current_user.id:
        abort(404)
    draft, latest = found
    catalogue = current_catalogue(db_session(), latest=latest)
    form = forms.ReviewForm()
    if not form.validate():
        abort(400)
    problems = section_problems(draft)
    if problems:
        first = next(iter(problems))
        flash(_("Some answers are missing or need a correction."), "error")
        return redirect(url_for("intake.section", key=key, section=first))
    details = CaseDetails(
        consent_referral=draft.data.get("consent_referral") == "yes",
        consent_statistics=draft.data.get("consent_statistics") == "yes",
        notes=(draft.data.get("notes") or "").strip(),
        answers=forms.draft_answers(draft.data, catalogue.indicators),
    )
    try:
        case = drafts.submit_draft(
            db_session(),
            draft,
            forms.record_from_draft(draft.data, catalogue.indicators),
            details,
            catalogue,
            lang=current_language(),
            locked=True,
        )
    except drafts.DraftAlreadySubmitted as done:
        return redirect(url_for("cases.show", code=done.case.code))
    except RecordInvalid as invalid:
        first_field = next(iter(invalid.errors), "")
        section = forms.FIELD_SECTION.get(first_field.split("[")[0], "encounter")
        flash(_("Some answers are missing or need a correction."), "error")
        return redirect(url_for("intake.section", key=key, section=section))
    flash(_("Screening saved. Case %(code)s.", code=case.code), "success")
    return redirect(url_for("cases.show", code=case.code))


@intake_blueprint.get("/intake/<key>/discard")
@login_required
def confirm_discard(key: str) -> Response | str:
    """Discarding cannot be undone: it is asked on its own page first."""
    draft = own_draft(key)
    if draft.submitted_case_id is not None:
        return redirect(url_for("intake.start"))
    return render_template(
        "intake/discard.html",
        summary=drafts.draft_summary(draft),
        sections=drafts.SECTIONS,
        titles=forms.SECTION_TITLES,
    )


@intake_blueprint.post("/intake/<key>/discard")
@login_required
def discard(key: str) -> Response:
    draft = own_draft(key)
    if draft.submitted_case_id is None:
        db_session().delete(draft)
        flash(_("Draft discarded."), "success")
    return redirect(url_for("intake.start"))


@intake_blueprint.post("/cases/<code>/rescreen")
@login_required
def rescreen(code: str) -> Response:
    case = load_case(code, current_reach())
    latest = queries.latest_screening(db_session(), case)
    catalogue = current_catalogue(db_session())
    known = {row["code"] for row in catalogue.code_lists("es")["languages"]}
    data = (
        forms.draft_from_record(latest.record, known, catalogue.indicators, latest.answers)
        if latest
        else {}
    )
    data["consent_referral"] = "yes" if case.consent_referral else "no"
    data["consent_statistics"] = "yes" if case.consent_statistics else "no"
    data["notes"] = case.notes or ""  # submitting the draft writes them back: never lost
    draft = drafts.start_draft(db_session(), current_user.id, rescreen=case, data=data)
    return redirect(url_for("intake.section", key=draft.key, section="encounter"))


blueprint = Blueprint("cases", __name__, template_folder="templates")
MAX_PAGE = 1_000_000


@blueprint.get("/cases")
@login_required
@db_writes  # the case_list_viewed audit event
def index() -> str:
    filters = case_filters(request.args)
    # Bounded: a huge page number would overflow the database's integer OFFSET (a 500).
    page = min(max(1, request.args.get("page", 1, type=int) or 1), MAX_PAGE)
    rows, total = queries.case_list(
        db_session(),
        current_reach(),
        filters=filters,
        stale_days=current_app.config["REFERRAL_STALE_DAYS"],
        page=page,
    )
    record_audit(
        db_session(),
        "case_list_viewed",
        actor_id=current_user.id,
        object_kind="case_list",
        object_id=f"cases:page:{page}",
    )
    # Filters and sort as query parameters, for the pager's links (empty ones left out).
    defaults = {"sort": "activity", "show": "open"}
    params = {k: v for k, v in vars(filters).items() if v and defaults.get(k) != v}
    return render_template(
        "cases/index.html",
        rows=rows,
        total=total,
        filters=filters,
        params=params,
        status=filters.status,
        code=filters.code or "",
        page=page,
        page_size=queries.PAGE_SIZE,
        stale_days=current_app.config["REFERRAL_STALE_DAYS"],
        age_bands=[*queries.AGE_BANDS, queries.AGE_UNKNOWN],
        sorts=queries.SORTS,
        questions=len(current_catalogue(db_session()).indicators),
    )


def case_filters(args: MultiDict) -> queries.CaseFilters:
    """The case list's query parameters, each kept only when it is one of its list's codes."""
    lists = current_catalogue(db_session()).code_lists(current_language())

    def one_of(name: str, allowed: Any) -> str | None:
        value = (args.get(name) or "").strip()
        return value if value in allowed else None

    def codes(list_name: str) -> set[str]:
        return {row["code"] for row in lists[list_name]}

    return queries.CaseFilters(
        status=one_of("status", {"likely", "possible", "not_indicated"}),
        code=(args.get("code") or "").strip()[:40] or None,
        state=one_of("state", codes("states")),
        encounter=one_of("encounter", codes("encounters")),
        sex=one_of("sex", codes("sexes")),
        age_band=one_of("age_band", {*queries.AGE_BANDS, queries.AGE_UNKNOWN}),
        nationality=one_of("nationality", codes("nationalities")),
        attention=one_of("attention", queries.ATTENTION),
        sort=one_of("sort", queries.SORTS) or "activity",
        show=one_of("show", queries.CASE_LISTS) or "open",
    )


@blueprint.get("/cases/<code>")
@login_required
@db_writes  # the case_viewed audit event
def show(code: str) -> str:
    reach = current_reach()
    case = load_case(code, reach)
    session = db_session()
    catalogue = current_catalogue(session)
    language = current_language()
    screening = latest_screening(session, case)
    case_referrals = queries.case_referrals(session, case)
    page = case_page(screening, catalogue, language, case_referrals) if screening else None
    tried = {(r.need, r.service_id) for r in case_referrals}
    declined = {(r.need, r.service_id) for r in case_referrals if r.status in DECLINED_STATUSES}
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
        page=page,
        referrals=case_referrals,
        tried=tried,
        declined=declined,
        gaps=queries.open_gaps(session, case),
        timeline=queries.timeline(session, case),
        refer_form=ReferForm(),
        ad_hoc_form=AdHocReferralForm(needs=catalogue.code_lists(language)["needs"]),
        status_form=StatusForm,
        status_choices=status_choices,
        stale_days=current_app.config["REFERRAL_STALE_DAYS"],
        can_see_notes=case.screener_id == current_user.id or reach.can_see_state(case.state),
        # A confidential service's location and line: administrators only.
        location_shown=lambda svc: shows_location(svc, is_admin=reach.is_admin),
        contact_through=_(CONTACT_THROUGH),
    )


REFERRAL_ERRORS = {
    "no_consent": lambda: _("The person did not agree to be referred: record their consent first."),
    "case_closed": lambda: _("This case is closed: reopen it before referring."),
    "unknown_service": lambda: _("That service is not in the directory for this need."),
    "already_referred": lambda: _("This case is already referred to that service for this need."),
    "ad_hoc_needs_provider_and_reason": lambda: _("Name the provider and say why."),
    "unknown_status": lambda: _("Choose a status from the list."),
    "transition_not_allowed": lambda: _("A referral in this status cannot change to that one."),
    "reason_required": lambda: _("This status needs a reason: choose one."),
    "note_required": lambda: _("The reason is “other”: say what happened in a note."),
}


def referral_error(exc: workflow.ReferralError) -> str:
    return REFERRAL_ERRORS.get(exc.code, lambda: exc.code)()


@blueprint.post("/cases/<code>/route-again")
@login_required
def route_again(code: str) -> Response:
    """Route the stored answers again under today's rules (a new screening; the old is kept)."""
    case = load_case(code, current_reach())  # CSRFProtect has checked the token before the view ran
    session = db_session()
    screening = latest_screening(session, case)
    if screening is None:
        abort(400)
    try:
        route_stored_answers(
            session,
            case,
            screening,
            current_catalogue(session),
            screener_id=current_user.id,
            lang=current_language(),
        )
    except RecordInvalid:
        flash(_("The stored answers no longer fit today's lists: screen again instead."), "error")
    else:
        flash(_("The same answers were routed again with today's rules."), "success")
    return redirect(url_for("cases.show", code=case.code))


@blueprint.post("/cases/<code>/referrals")
@login_required
def refer(code: str) -> Response:
    case = load_case(code, current_reach())
    form = ReferForm()
    if not form.validate():
        abort(400)
    try:
        workflow.refer(
            db_session(),
            case,
            need=str(form.need.data),
            service_id=str(form.service_id.data),
            catalogue=current_catalogue(db_session()),
            user_id=current_user.id,
        )
    except workflow.ReferralError as exc:
        flash(referral_error(exc), "error")
    else:
        flash(_("Referral requested."), "success")
    return redirect(url_for("cases.show", code=case.code) + "#referrals")


@blueprint.post("/cases/<code>/referrals/ad-hoc")
@login_required
def refer_ad_hoc(code: str) -> Response | str:
    case = load_case(code, current_reach())
    catalogue = current_catalogue(db_session())
    form = AdHocReferralForm(needs=catalogue.code_lists(current_language())["needs"])
    if not form.validate():
        flash(_("Name the provider, choose the need and say why."), "error")
        return redirect(url_for("cases.show", code=case.code) + "#ad-hoc")
    try:
        workflow.refer_ad_hoc(
            db_session(),
            case,
            need=str(form.need.data),
            provider=str(form.provider.data),
            reason=str(form.reason.data),
            user_id=current_user.id,
        )
    except workflow.ReferralError as exc:
        flash(referral_error(exc), "error")
    else:
        flash(_("Referral outside the directory recorded, and counted as a gap."), "success")
    return redirect(url_for("cases.show", code=case.code) + "#referrals")


@blueprint.post("/referrals/<int:referral_id>/status")
@login_required
def referral_status(referral_id: int) -> Response | tuple[str, int]:
    """Change a referral's status; a note may go with it (kept with the case, never exported)."""
    referral, case = load_referral(referral_id, current_reach())
    form = StatusForm()
    catalogue = current_catalogue(db_session())
    language = current_language()
    form.status.choices = [
        (code, catalogue.label("referral_statuses", code, language)) for code in workflow.STATUSES
    ]
    if form.version.data is not None and form.version.data != referral.version:
        return conflict_page(referral, case, form), 409
    if not form.validate():
        # Shown again with what was typed (the note too) and each problem at its field.
        page = render_template(
            "cases/status_change.html",
            referral=referral,
            case=case,
            form=form,
            choices=status_choices(referral, catalogue, language),
        )
        return page, 400
    try:
        workflow.change_status(
            db_session(),
            referral,
            status=form.status.data,
            reason_code=form.reason_code.data or None,
            expected_version=int(form.version.data or 0),
            user_id=current_user.id,
            answer=workflow.Answer(note=form.note.data),
        )
    except workflow.ReferralConflict as conflict:
        return conflict_page(conflict.referral, case, form), 409
    except workflow.ReferralError as exc:
        flash(referral_error(exc), "error")
    else:
        flash(_("Referral status changed."), "success")
    return redirect(url_for("cases.show", code=case.code) + f"#referral-{referral.id}")


def conflict_page(referral: Referral, case: Case, form: StatusForm) -> str:
    """Someone changed the referral first: show both changes; nothing is lost silently."""
    return render_template(
        "cases/conflict.html",
        referral=referral,
        case=case,
        form=form,
        status_choices=status_choices,
        status_form=StatusForm,
    )


@blueprint.get("/referrals/<int:referral_id>/sheet")
@login_required
@db_writes  # the referral_sheet_viewed audit event
def referral_sheet(referral_id: int) -> str:
    """A sheet for the person: the service and how to reach it, nothing else about the case."""
    reach = current_reach()
    referral, case = load_referral(referral_id, reach)
    record_audit(
        db_session(),
        "referral_sheet_viewed",
        actor_id=current_user.id,
        object_kind="referral",
        object_id=referral.id,
        state=case.state,
    )
    sheet_lang = request.args.get("lang")
    if sheet_lang not in languages():
        sheet_lang = current_language()
    service = current_catalogue(db_session()).services_by_id.get(referral.service_id or "")
    with force_locale(sheet_lang):  # the template's lang and label() follow
        return render_template(
            "cases/sheet.html",
            referral=referral,
            service=service,
            # A confidential service's location and line: administrators only.
            shows_location=service is None or shows_location(service, is_admin=reach.is_admin),
            contact_through=_(CONTACT_THROUGH),
        )


@blueprint.get("/cases/<code>/rights")
@login_required
def rights(code: str) -> str:
    """The rights the case's alerts name, for the person to keep (LGPSEDMTP Art. 62 II):
    in the language chosen on the page (default the screening's), nothing about the case."""
    case = load_case(code, current_reach())
    session = db_session()
    screening = latest_screening(session, case)
    sheet_lang = request.args.get("lang")
    if sheet_lang not in languages():
        sheet_lang = screening.lang if screening and screening.lang in languages() else "es"
    rights = rights_sheet(screening, current_catalogue(session), sheet_lang) if screening else ()
    with force_locale(sheet_lang):  # the template's lang and messages follow
        return render_template(
            "cases/rights.html",
            case=case,
            rights=rights,
            sheet_lang=sheet_lang,
            sheet_languages=languages(),
        )
