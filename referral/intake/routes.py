"""The screener's intake: a draft filled section by section, then a case with its routing.

URL rules of this feature:
    GET      /intake                        intake.start        (drafts in progress)
    POST     /intake                        intake.new_draft
    GET/POST /intake/<key>/<section>        intake.section
    POST     /intake/<key>/autosave         intake.autosave     (JSON, from app.js)
    POST     /intake/<key>/submit           intake.submit
    POST     /intake/<key>/discard          intake.discard
    POST     /cases/<code>/rescreen         intake.rescreen
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from referral.access import Reach
from referral.cases.access import load_case
from referral.catalogue import current_catalogue
from referral.db import session as db_session
from referral.intake import forms
from referral.intake import operations as ops
from referral.intake.models import Case, Draft
from referral.rules import RecordInvalid

blueprint = Blueprint("intake", __name__, template_folder="templates")
DRAFTS_LISTED = 20  # the most recent unfinished screenings a screener is offered to resume


def lang() -> str:
    return str(get_locale() or "es")[:2]


def own_draft(key: str) -> Draft:
    """The signed-in user's draft with this key, or 404 (a draft is never shared)."""
    draft = db_session().exec(select(Draft).where(Draft.key == key)).first()
    if draft is None or draft.user_id != current_user.id:
        abort(404)
    return draft


def build_form(section: str, draft: Draft, formdata: MultiDict | None) -> Any:
    form_class = forms.SECTION_FORMS[section]
    data = forms.draft_to_form_data(draft.data, section)
    if section == "person" and formdata is None:
        # FieldList needs one entry per stored child to show them.
        form = form_class(formdata=None, data=data)
    else:
        form = form_class(formdata=formdata, data=data)
    forms.set_choices(form, current_catalogue(db_session()), lang())
    return form


@blueprint.get("/intake")
@login_required
def start() -> str:
    drafts = (
        db_session()
        .exec(
            select(Draft)
            .where(Draft.user_id == current_user.id, Draft.submitted_case_id.is_(None))  # type: ignore[union-attr]
            .order_by(Draft.updated_at.desc())  # type: ignore[attr-defined]
            .limit(DRAFTS_LISTED)
        )
        .all()
    )
    return render_template("intake/start.html", drafts=drafts)


@blueprint.post("/intake")
@login_required
def new_draft() -> Response:
    draft = ops.start_draft(db_session(), current_user.id)
    return redirect(url_for("intake.section", key=draft.key, section="encounter"))


def neighbours(section: str) -> tuple[str | None, str | None]:
    index = ops.SECTIONS.index(section)
    previous = ops.SECTIONS[index - 1] if index > 0 else None
    following = ops.SECTIONS[index + 1] if index + 1 < len(ops.SECTIONS) else None
    return previous, following


@blueprint.route("/intake/<key>/<section>", methods=["GET", "POST"])
@login_required
def section(key: str, section: str) -> Response | str:
    if section not in ops.SECTIONS:
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
        ops.save_draft(db_session(), draft, section, forms.section_values(form, section))
        previous, following = neighbours(section)
        if "back" in request.form and previous:
            return redirect(url_for("intake.section", key=key, section=previous))
        target = request.form.get("goto")
        if target in ops.SECTIONS:
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
    ops.save_draft(db_session(), draft, section, values)
    return redirect(url_for("intake.section", key=draft.key, section=section) + "#children")


def render_section(draft: Draft, section: str, form: Any) -> str:
    catalogue = current_catalogue(db_session())
    previous, following = neighbours(section)
    rescreen = db_session().get(Case, draft.rescreen_case_id) if draft.rescreen_case_id else None
    return render_template(
        f"intake/section_{section}.html",
        draft=draft,
        form=form,
        section=section,
        sections=ops.SECTIONS,
        titles=forms.SECTION_TITLES,
        previous=previous,
        following=following,
        catalogue=catalogue,
        lang=lang(),
        rescreen=rescreen,
        saved_at=ops.saved_at(draft),
    )


def review(draft: Draft) -> str:
    catalogue = current_catalogue(db_session())
    problems = section_problems(draft)
    record = forms.record_from_draft(draft.data)
    rescreen = db_session().get(Case, draft.rescreen_case_id) if draft.rescreen_case_id else None
    return render_template(
        "intake/section_review.html",
        draft=draft,
        form=forms.ReviewForm(),
        section="review",
        sections=ops.SECTIONS,
        titles=forms.SECTION_TITLES,
        previous="legal",
        following=None,
        record=record,
        problems=problems,
        catalogue=catalogue,
        lang=lang(),
        rescreen=rescreen,
    )


def section_problems(draft: Draft) -> dict[str, list[str]]:
    """Every section's validation messages for the stored draft, section by section."""
    problems: dict[str, list[str]] = {}
    for section in ops.SECTIONS[:-1]:
        form_class = forms.SECTION_FORMS[section]
        data = forms.draft_to_form_data(draft.data, section)
        formdata = to_formdata(data)
        form = form_class(formdata=formdata, meta={"csrf": False})
        forms.set_choices(form, current_catalogue(db_session()), lang())
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


@blueprint.post("/intake/<key>/autosave")
@login_required
def autosave(key: str) -> tuple[Response, int] | Response:
    """Save a section's fields while the screener types (app.js); never validates away data."""
    draft = own_draft(key)
    section = request.form.get("_section", "")
    if section not in ops.SECTIONS[:-1] or draft.submitted_case_id is not None:
        return jsonify(saved=False), 409
    form = build_form(section, draft, request.form)
    form.validate()
    ops.save_draft(db_session(), draft, section, forms.section_values(form, section))
    return jsonify(saved=True, at=ops.saved_at(draft))


@blueprint.post("/intake/<key>/submit")
@login_required
def submit(key: str) -> Response | str:
    draft = own_draft(key)
    form = forms.ReviewForm()
    if not form.validate():
        abort(400)
    problems = section_problems(draft)
    if problems:
        first = next(iter(problems))
        flash(_("Some answers are missing or need a correction."), "error")
        return redirect(url_for("intake.section", key=key, section=first))
    catalogue = current_catalogue(db_session())
    details = ops.CaseDetails(
        consent_referral=draft.data.get("consent_referral") == "yes",
        consent_statistics=draft.data.get("consent_statistics") == "yes",
        notes=(draft.data.get("notes") or "").strip(),
    )
    try:
        case = ops.submit_draft(
            db_session(),
            draft,
            forms.record_from_draft(draft.data),
            details,
            catalogue,
            lang=lang(),
        )
    except ops.DraftAlreadySubmitted as done:
        return redirect(url_for("cases.show", code=done.case.code))
    except RecordInvalid as invalid:
        first_field = next(iter(invalid.errors), "")
        section = forms.FIELD_SECTION.get(first_field.split("[")[0], "encounter")
        flash(_("Some answers are missing or need a correction."), "error")
        return redirect(url_for("intake.section", key=key, section=section))
    flash(_("Screening saved. Case %(code)s.", code=case.code), "success")
    return redirect(url_for("cases.show", code=case.code))


@blueprint.post("/intake/<key>/discard")
@login_required
def discard(key: str) -> Response:
    draft = own_draft(key)
    if draft.submitted_case_id is None:
        db_session().delete(draft)
        flash(_("Draft discarded."), "success")
    return redirect(url_for("intake.start"))


@blueprint.post("/cases/<code>/rescreen")
@login_required
def rescreen(code: str) -> Response:
    case = load_case(code, Reach.of(current_user))
    latest = ops.latest_screening(db_session(), case)
    catalogue = current_catalogue(db_session())
    known = {row["code"] for row in catalogue.code_lists("es")["languages"]}
    data = forms.draft_from_record(latest.record, known) if latest else {}
    data["consent_referral"] = "yes" if case.consent_referral else "no"
    data["consent_statistics"] = "yes" if case.consent_statistics else "no"
    draft = ops.start_draft(db_session(), current_user.id, rescreen=case, data=data)
    return redirect(url_for("intake.section", key=draft.key, section="encounter"))
