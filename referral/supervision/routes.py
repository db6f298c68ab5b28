"""The supervision pages: the gap dashboard, the cases behind each number, and what-if.

URL rules of this feature:
    GET  /supervision              supervision.dashboard   (supervisors: their states; admins)
    GET  /supervision/cases        supervision.cases       (the cases behind one number)
    GET  /supervision/what-if      supervision.whatif      (a draft directory change, compared)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import format_percent, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import DateField, Form, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from referral import db
from referral.access import Reach, require_supervisor_or_admin
from referral.catalogue import catalogue_cache, current_catalogue
from referral.rules import Catalogue
from referral.supervision import queries
from referral.supervision.recommendations import (
    Recommendation,
    gap_reason_codes,
    load_recommendations,
)

blueprint = Blueprint(
    "supervision",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/supervision/static",
)

PROFILE_TITLES = {
    "sex": _l("Sex"),
    "age_band": _l("Age band"),
    "minor": _l("Minor or adult"),
    "foreign": _l("National or foreign"),
    "form": _l("Form of exploitation"),
}
FIXED_LABELS = {
    "minor": {"minor": _l("Minor"), "adult": _l("Adult")},
    "foreign": {"foreign": _l("Foreign"), "national": _l("National")},
}
NONE_LABEL = _l("No screening or no form")
AGE_BAND_LABELS = {
    "0-11": _l("0 to 11 years"),
    "12-17": _l("12 to 17 years"),
    "18-29": _l("18 to 29 years"),
    "30-59": _l("30 to 59 years"),
    "60+": _l("60 years or more"),
    "unknown": _l("Age not known"),
}


def lang() -> str:
    return str(get_locale() or "es")[:2]


def reach() -> Reach:
    return Reach.of(current_user)


class DashboardFilters(Form):
    """Filters from the query string (a GET form: nothing changes, so no CSRF token)."""

    since = DateField(_l("From (date)"), validators=[Optional()])
    until = DateField(_l("To (date)"), validators=[Optional()])
    state = SelectField(_l("State"), choices=[], validators=[Optional()])
    need = SelectField(_l("Need"), choices=[], validators=[Optional()])
    reason = SelectField(_l("Reason"), choices=[], validators=[Optional()])
    kind = SelectField(_l("Kind of gap"), choices=[], validators=[Optional()])


def state_choices(user_reach: Reach, catalogue: Catalogue, language: str) -> list[str]:
    """The states a user may filter on: their own, or every state (and "unknown")."""
    if user_reach.sees_every_state:
        return [*catalogue.state_names, "unknown"]
    return sorted(user_reach.states)


def reason_label(catalogue: Catalogue, code: str, language: str) -> str:
    for list_name in ("exclusion_reasons", "gap_reasons", "referral_reasons"):
        text = catalogue.label(list_name, code, language)
        if text != code:
            return text
    return code


def build_filters(
    catalogue: Catalogue, user_reach: Reach, language: str
) -> tuple[DashboardFilters, queries.Filters]:
    form = DashboardFilters(request.args)
    anything = SelectChoice("", str(_l("Any")))
    form.state.choices = [anything] + [
        SelectChoice(c, catalogue.label("states", c, language))
        for c in state_choices(user_reach, catalogue, language)
    ]
    form.need.choices = [anything] + [
        SelectChoice(c, catalogue.label("needs", c, language)) for c in catalogue.need_order
    ]
    form.reason.choices = [anything] + [
        SelectChoice(c, reason_label(catalogue, c, language))
        for c in gap_reason_codes(catalogue.seeds)
    ]
    form.kind.choices = [anything] + [
        SelectChoice(c, catalogue.label("gap_kinds", c, language)) for c in queries.GAP_KINDS
    ]
    form.validate()

    def value(f: Any) -> Any:
        return f.data if f.data and not f.errors else None

    filters = queries.Filters(
        since=value(form.since),
        until=value(form.until),
        state=value(form.state),
        need=value(form.need),
        reason=value(form.reason),
        kind=value(form.kind),
    )
    return form, filters


def recommendations() -> dict[str, Recommendation]:
    cache = current_app.extensions.setdefault("referral_recommendations", {})
    if "map" not in cache:
        from referral.seeds.report import load_report

        seeds_dir = Path(current_app.config["SEEDS_DIR"])
        report = load_report(seeds_dir / "report.txt")
        cache["map"] = load_recommendations(seeds_dir, report, catalogue_cache().rules)
    return cache["map"]


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    count: int
    href: str
    recommendation: Recommendation | None = None


def dimension_label(panel: str, key: str, catalogue: Catalogue, language: str) -> str:
    if key == queries.NONE:
        return str(NONE_LABEL)
    if panel in FIXED_LABELS:
        return str(FIXED_LABELS[panel].get(key, key))
    if panel == "age_band":
        return str(AGE_BAND_LABELS.get(key, key))
    if panel in ("reason", "rejection_reason"):
        return reason_label(catalogue, key, language)
    lists = {
        "need": "needs",
        "state": "states",
        "kind": "gap_kinds",
        "sex": "sexes",
        "form": "forms",
        "referral_status": "referral_statuses",
        "encounter": "encounters",
    }
    if panel in lists:
        return catalogue.label(lists[panel], key, language)
    return key


def bars(
    panel: str, rows: list[tuple[str, int]], filters: queries.Filters, catalogue: Catalogue
) -> list[Bar]:
    language = lang()
    recs = recommendations() if panel in ("reason", "rejection_reason") else {}
    return [
        Bar(
            key=key,
            label=dimension_label(panel, key, catalogue, language),
            count=count,
            href=url_for("supervision.cases", panel=panel, key=key, **filters.as_args()),
            recommendation=recs.get(key),
        )
        for key, count in rows
    ]


@blueprint.get("/supervision")
@login_required
def dashboard() -> str:
    user_reach = reach()
    require_supervisor_or_admin(user_reach)
    session = db.session()
    catalogue = current_catalogue(session)
    language = lang()
    form, filters = build_filters(catalogue, user_reach, language)
    gap_panels = {
        panel: bars(
            panel, queries.gap_counts(session, user_reach, filters, panel), filters, catalogue
        )
        for panel in queries.GAP_PANELS
    }
    profile_panels = {
        panel: bars(
            panel, queries.gap_counts(session, user_reach, filters, panel), filters, catalogue
        )
        for panel in queries.PROFILE_PANELS
    }
    referral_panels = {
        panel: bars(
            panel, queries.referral_counts(session, user_reach, filters, panel), filters, catalogue
        )
        for panel in queries.REFERRAL_PANELS
    }
    encounters = queries.screenings_by_encounter(session, user_reach, filters)
    return render_template(
        "supervision/dashboard.html",
        form=form,
        filters=filters,
        total=queries.gap_total(session, user_reach, filters),
        gap_panels=gap_panels,
        profile_panels=profile_panels,
        profile_titles=PROFILE_TITLES,
        referral_panels=referral_panels,
        outcomes=queries.outcomes(session, user_reach, filters),
        encounters=[
            (row, dimension_label("encounter", row.encounter, catalogue, language))
            for row in encounters
        ],
        catalogue=catalogue,
        lang=language,
        format_percent=format_percent,
    )


@blueprint.get("/supervision/cases")
@login_required
def cases() -> str:
    user_reach = reach()
    require_supervisor_or_admin(user_reach)
    session = db.session()
    catalogue = current_catalogue(session)
    language = lang()
    _form, filters = build_filters(catalogue, user_reach, language)
    panel = request.args.get("panel", "")
    key = request.args.get("key", "")[:80]
    if panel not in (*queries.PANELS, "total"):
        abort(404)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    listing = queries.cases_behind(session, user_reach, filters, panel, key, page=page)
    return render_template(
        "supervision/cases.html",
        listing=listing,
        panel=panel,
        key=key,
        label=dimension_label(panel, key, catalogue, language) if panel != "total" else "",
        filters=filters,
        page=page,
        page_size=50,
        catalogue=catalogue,
        lang=language,
    )


@blueprint.get("/supervision/what-if")
@login_required
def whatif() -> str:
    user_reach = reach()
    require_supervisor_or_admin(user_reach)
    return render_template("supervision/whatif.html")
