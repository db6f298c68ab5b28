"""The supervision pages: the gap dashboard, the cases behind each number, and what-if.

URL rules of this feature:
    GET  /supervision              supervision.dashboard   (supervisors: their states; admins)
    GET  /supervision/cases        supervision.cases       (the cases behind one number)
    GET  /supervision/what-if      supervision.whatif_page (a draft directory change, compared)
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.validators import NumberRange, Optional

from referral import db
from referral.access import Reach, current_reach, requires
from referral.audit.operations import as_code, record_audit
from referral.casework import queries as case_queries
from referral.clocks.queries import Settings as ClockSettings
from referral.db import utcnow
from referral.directory.catalogue import catalogue_cache, current_catalogue
from referral.directory.forms import MultiCheckboxField, error_message
from referral.forms import MAX_PAGE, QueryForm, SelectChoice, date_in_range
from referral.i18n import by_label, current_language
from referral.labels import reason_label
from referral.rules import Catalogue, SeedErrors
from referral.seeds.loader import seed_store
from referral.seeds.recommendations import Recommendation, gap_reason_codes
from referral.supervision import aggregates, loop, queries, whatif

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
    "open_for": {
        "open_under_7": _l("Open less than 7 days"),
        "open_7_30": _l("Open 7 to 30 days"),
        "open_31_90": _l("Open 31 to 90 days"),
        "open_over_90": _l("Open more than 90 days"),
        "closed": _l("Closed"),
    },
}
CHART_LABEL_WIDTH = 26  # characters per line of a chart's label: wrapped, never cut
NONE_LABEL = _l("No screening or no form")
GAP_ENDING_LABELS = {
    "open": _l("Still open"),
    "accepted": _l("Closed: a referral was accepted"),
    "rerouted": _l("Closed: a new routing found an option"),
    "case_closed": _l("Closed: the case was closed"),
}
AGE_BAND_LABELS = {
    "0-11": _l("0 to 11 years"),
    "12-17": _l("12 to 17 years"),
    "18-29": _l("18 to 29 years"),
    "30-59": _l("30 to 59 years"),
    "60+": _l("60 years or more"),
    "unknown": _l("Age not known"),
}


class DashboardFilters(QueryForm):
    """Filters from the query string (a GET form: nothing changes, so no CSRF token)."""

    since = DateField(_l("From (date)"), validators=[Optional(), date_in_range])
    until = DateField(_l("To (date)"), validators=[Optional(), date_in_range])
    state = SelectField(_l("State"), choices=[], validators=[Optional()])
    need = SelectField(_l("Need"), choices=[], validators=[Optional()])
    reason = SelectField(_l("Reason"), choices=[], validators=[Optional()])
    kind = SelectField(_l("Kind of gap"), choices=[], validators=[Optional()])


def state_choices(user_reach: Reach, catalogue: Catalogue, language: str) -> list[str]:
    """The states a user may filter on: their own, or every state (and "unknown")."""

    def name(code: str) -> str:
        return catalogue.label("states", code, language)

    if user_reach.sees_every_state:
        return [*by_label(catalogue.state_names, language, name), "unknown"]
    return by_label(user_reach.states, language, name)


def reason_choices(catalogue: Catalogue, language: str) -> list[SelectChoice]:
    """One choice per reason: codes that read the same in Spanish (the seeds' first language)
    are one choice in every language, so a filter's link means the same in both."""
    groups: dict[str, list[str]] = {}
    for code in gap_reason_codes(catalogue.seeds):
        groups.setdefault(reason_label(catalogue, code, "es"), []).append(code)
    return [
        SelectChoice(",".join(codes), reason_label(catalogue, codes[0], language))
        for codes in groups.values()
    ]


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
    form.reason.choices = [anything, *reason_choices(catalogue, language)]
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
    return seed_store(current_app.config["SEEDS_DIR"]).recommendations


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    count: int
    href: str
    recommendation: Recommendation | None = None

    @property
    def lines(self) -> list[str]:
        """The label in lines that fit beside the bars (whole words; a long word alone)."""
        return textwrap.wrap(self.label, CHART_LABEL_WIDTH, break_long_words=False) or [""]


def dimension_label(panel: str, key: str, catalogue: Catalogue, language: str) -> str:
    if key == queries.NONE:
        return str(NONE_LABEL)
    if panel in FIXED_LABELS:
        return str(FIXED_LABELS[panel].get(key, key))
    if panel == "age_band":
        return str(AGE_BAND_LABELS.get(key, key))
    if panel in ("reason", "rejection_reason"):
        return reason_label(catalogue, queries.reason_codes(key)[0] if key else key, language)
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


def merged_reasons(rows: list[tuple[str, int]], catalogue: Catalogue) -> list[tuple[str, int]]:
    """Reasons that read the same in Spanish are one bar in every language, like the filter's
    choice: their codes joined by commas, their counts summed."""
    choice_of = {
        code: choice.value
        for choice in reason_choices(catalogue, "es")
        for code in queries.reason_codes(choice.value)
    }
    totals: dict[str, int] = {}
    for key, count in rows:
        choice = choice_of.get(key, key)
        totals[choice] = totals.get(choice, 0) + count
    return sorted(totals.items(), key=lambda p: (-p[1], p[0]))


def bars(
    panel: str, rows: list[tuple[str, int]], filters: queries.Filters, catalogue: Catalogue
) -> list[Bar]:
    language = current_language()
    is_reason = panel in ("reason", "rejection_reason")
    recs = recommendations() if is_reason else {}
    scope: dict[str, Any] = dict(filters.as_args())
    return [
        Bar(
            key=key,
            label=dimension_label(panel, key, catalogue, language),
            count=count,
            href=url_for("supervision.cases", panel=panel, key=key, **scope),
            recommendation=next(
                (recs[code] for code in queries.reason_codes(key) if code in recs), None
            ),
        )
        for key, count in (merged_reasons(rows, catalogue) if is_reason else rows)
    ]


@blueprint.get("/supervision")
@requires("supervisor", "admin")
def dashboard() -> str:
    user_reach = current_reach()
    session = db.session()
    catalogue = current_catalogue(session)
    language = current_language()
    form, filters = build_filters(catalogue, user_reach, language)
    numbers = aggregates.read_dashboard(user_reach, filters)
    gap_panels = {
        panel: bars(panel, numbers.gap_panels[panel], filters, catalogue)
        for panel in queries.GAP_PANELS
    }
    profile_panels = {
        panel: bars(panel, numbers.gap_panels[panel], filters, catalogue)
        for panel in queries.PROFILE_PANELS
    }
    referral_panels = {
        panel: bars(panel, numbers.referral_panels[panel], filters, catalogue)
        for panel in queries.REFERRAL_PANELS
    }
    encounters = numbers.encounters
    now = utcnow()
    open_and_closed = queries.gaps_open_and_closed(
        session, user_reach, filters, now, closed=numbers.closed_gaps
    )
    oldest = open_and_closed.oldest_open
    return render_template(
        "supervision/dashboard.html",
        open_for=bars("open_for", open_and_closed.counts, filters, catalogue),
        open_count=sum(n for key, n in open_and_closed.counts if key != "closed"),
        oldest_open_days=(now - oldest).days if oldest is not None else None,
        v4_since=case_queries.v4_reasons_since(session),
        form=form,
        filters=filters,
        total=numbers.total,
        gap_endings=[(GAP_ENDING_LABELS[key], count) for key, count in numbers.gap_endings],
        gap_panels=gap_panels,
        profile_panels=profile_panels,
        profile_titles=PROFILE_TITLES,
        referral_panels=referral_panels,
        outcomes=numbers.outcomes,
        encounters=[
            (row, dimension_label("encounter", row.encounter, catalogue, language))
            for row in encounters
        ],
        format_percent=format_percent,
        loop=loop.loop_panel(session, user_reach, filters, loop_settings(), utcnow()),
    )


@blueprint.get("/supervision/cases")
@requires("supervisor", "admin")
@db.writes  # the case_list_viewed audit event
def cases() -> str:
    user_reach = current_reach()
    session = db.session()
    catalogue = current_catalogue(session)
    language = current_language()
    _form, filters = build_filters(catalogue, user_reach, language)
    panel = request.args.get("panel", "")
    key = request.args.get("key", "")[:80]
    if panel not in (*queries.PANELS, "total"):
        abort(404)
    # Bounded: a huge page number would overflow the database's integer OFFSET.
    page = min(max(1, request.args.get("page", 1, type=int) or 1), MAX_PAGE)
    listing = queries.cases_behind(session, user_reach, filters, panel, key, page=page)
    return cases_page(
        f"supervision:{panel}:{key}",
        listing,
        panel=panel,
        key=key,
        key_label=dimension_label(panel, key, catalogue, language) if panel != "total" else "",
        filters=filters,
        page=page,
        endpoint="supervision.cases",
    )


def cases_page(
    audit_name: str,
    listing: Any,
    *,
    panel: str,
    key: str,
    key_label: str,
    filters: queries.Filters,
    page: int,
    endpoint: str,
    anchor: str = "",
) -> str:
    """One page of the cases behind a number (the gap panels' or the loop panel's), its
    viewing audited: ``endpoint`` pages through them, ``anchor`` is the dashboard's panel."""
    user_reach = current_reach()
    record_audit(
        db.session(),
        "case_list_viewed",
        actor_id=user_reach.user_id,
        object_kind="case_list",
        object_id=as_code(f"{audit_name}:page:{page}"),
    )
    return render_template(
        "supervision/cases.html",
        listing=listing,
        panel=panel,
        key=key,
        key_label=key_label,
        filters=filters,
        page=page,
        page_size=50,
        endpoint=endpoint,
        anchor=anchor,
    )


class WhatIfForm(QueryForm):
    """The period, and one drafted new service and/or one drafted change (a GET form)."""

    since = DateField(_l("From (date)"), validators=[Optional(), date_in_range])
    until = DateField(_l("To (date)"), validators=[Optional(), date_in_range])
    state = SelectField(_l("Screenings in state"), choices=[], validators=[Optional()])
    add_need = SelectField(_l("New service for the need"), choices=[], validators=[Optional()])
    add_state = SelectField(_l("Serving"), choices=[], validators=[Optional()])
    add_sexes = MultiCheckboxField(_l("Sexes it would accept"), choices=[], validators=[Optional()])
    add_min_age = IntegerField(_l("Minimum age"), validators=[Optional(), NumberRange(0, 120)])
    add_max_age = IntegerField(_l("Maximum age"), validators=[Optional(), NumberRange(0, 120)])
    add_foreign = SelectField(
        _l("Accepts foreign nationals"),
        choices=[("yes", _l("Yes")), ("no", _l("No"))],
        validators=[Optional()],
    )
    add_languages = StringField(_l("Languages spoken"), validators=[Optional()])
    change_service = SelectField(_l("Change the service"), choices=[], validators=[Optional()])
    change_min_age = IntegerField(
        _l("New minimum age"), validators=[Optional(), NumberRange(0, 120)]
    )
    change_max_age = IntegerField(
        _l("New maximum age"), validators=[Optional(), NumberRange(0, 120)]
    )
    change_male_max_age = IntegerField(
        _l("New age limit for males"), validators=[Optional(), NumberRange(0, 120)]
    )
    change_no_male_limit = BooleanField(_l("Remove the age limit for males"))
    change_add_sex = SelectField(_l("Also accept"), choices=[], validators=[Optional()])
    change_add_state = SelectField(_l("Also serve"), choices=[], validators=[Optional()])
    change_add_language = StringField(_l("Add a language"), validators=[Optional()])
    change_capacity = IntegerField(_l("Free places"), validators=[Optional(), NumberRange(min=0)])


def _whatif_form(catalogue: Catalogue, user_reach: Reach, language: str) -> WhatIfForm:
    form = WhatIfForm(request.args)
    none = SelectChoice("", str(_l("None")))
    states = [
        SelectChoice(c, catalogue.label("states", c, language))
        for c in by_label(
            catalogue.state_names, language, lambda c: catalogue.label("states", c, language)
        )
    ]
    form.state.choices = [SelectChoice("", str(_l("Any")))] + [
        SelectChoice(c, catalogue.label("states", c, language))
        for c in state_choices(user_reach, catalogue, language)
    ]
    form.add_need.choices = [none] + [
        SelectChoice(c, catalogue.label("needs", c, language)) for c in catalogue.need_order
    ]
    form.add_state.choices = [SelectChoice("national", str(_l("The whole country"))), *states]
    sexes = [(c, catalogue.label("sexes", c, language)) for c in ("female", "male", "intersex")]
    form.add_sexes.choices = sexes
    form.change_service.choices = [none] + [
        SelectChoice(s.id, f"{s.name[language]} ({s.id})")
        for s in by_label(catalogue.services, language, lambda s: s.name[language])
    ]
    form.change_add_sex.choices = [none] + [SelectChoice(c, label) for c, label in sexes]
    form.change_add_state.choices = [none, *states]
    form.validate()
    return form


def _languages(text: str | None) -> list[str]:
    return [x.strip().lower() for x in (text or "").split(",") if x.strip()]


def draft_changes(form: WhatIfForm) -> list[whatif.DraftChange]:
    changes: list[whatif.DraftChange] = []
    if form.add_need.data and not form.add_need.errors:
        changes.append(
            whatif.DraftChange(
                kind="add",
                values={
                    "id": "draft-new-service",
                    "name": {"es": "Servicio nuevo (borrador)", "en": "New service (draft)"},
                    "need": form.add_need.data,
                    "status": "active",
                    "operator": "ngo",
                    "coverage": [form.add_state.data or "national"],
                    "min_age": form.add_min_age.data,
                    "max_age": form.add_max_age.data,
                    "sexes": list(form.add_sexes.data or ["female", "male", "intersex"]),
                    "male_max_age": None,
                    "accepts_foreign": form.add_foreign.data != "no",
                    "languages": _languages(form.add_languages.data) or ["es"],
                    "capacity_available": None,
                    "requires_complaint": False,
                    "requires_victim_status": False,
                    "accepts_companions": True,
                    "companion_max_age_male": None,
                    "specializations": [],
                    "tags": [],
                    "source": "what-if draft",
                },
            )
        )
    if form.change_service.data and not form.change_service.errors:
        values: dict[str, Any] = {}
        for name in ("min_age", "max_age", "male_max_age"):
            value = getattr(form, f"change_{name}").data
            if value is not None:
                values[name] = value
        if form.change_no_male_limit.data:
            values["male_max_age"] = None
        if form.change_capacity.data is not None:
            values["capacity_available"] = form.change_capacity.data
        extra: dict[str, list[str]] = {}
        if form.change_add_sex.data:
            extra["sexes"] = [form.change_add_sex.data]
        if form.change_add_state.data:
            extra["coverage"] = [form.change_add_state.data]
        if form.change_add_language.data:
            extra["languages"] = _languages(form.change_add_language.data)
        changes.append(
            whatif.DraftChange(
                kind="change",
                service_id=form.change_service.data,
                values=values,
                add_to_lists=extra,
            )
        )
    return changes


@blueprint.get("/supervision/what-if")
@requires("supervisor", "admin")
def whatif_page() -> str:
    user_reach = current_reach()
    session = db.session()
    catalogue = current_catalogue(session)
    language = current_language()
    form = _whatif_form(catalogue, user_reach, language)
    comparison = None
    problems: list[str] = []
    changes = draft_changes(form) if request.args.get("run") else []
    if request.args.get("run") and not changes:
        problems.append(_("Draft a new service or a change to an existing one first."))
    elif changes:
        try:
            draft = whatif.draft_catalogue(catalogue, changes, catalogue_cache().rules)
        except SeedErrors as exc:
            problems = sorted({f"{e.field}: {error_message(e)}" for e in exc.errors})
        else:
            records = whatif.stored_records(
                session,
                user_reach,
                form.since.data if not form.since.errors else None,
                form.until.data if not form.until.errors else None,
                form.state.data or None if not form.state.errors else None,
            )
            comparison = whatif.compare(records, catalogue, draft)
    tables = {}
    if comparison is not None:
        for dimension in whatif.DIMENSIONS:
            tables[dimension] = [
                (dimension_label(dimension, value, catalogue, language), today, draft)
                for value, today, draft in comparison.by(dimension)
            ]
    return render_template(
        "supervision/whatif.html",
        form=form,
        comparison=comparison,
        tables=tables,
        titles={
            "need": _l("By need"),
            "state": _l("By state"),
            "sex": _l("By sex"),
            "age_band": _l("By age band"),
            "minor": _l("Minors and adults"),
            "foreign": _l("Nationals and foreign nationals"),
        },
        closed=[
            (catalogue.label("needs", need, language), n)
            for need, n in sorted(comparison.closed.items())
        ]
        if comparison
        else [],
        opened=[
            (catalogue.label("needs", need, language), n)
            for need, n in sorted(comparison.opened.items())
        ]
        if comparison
        else [],
        problems=problems,
    )


def loop_settings() -> ClockSettings:
    return ClockSettings.of(current_app.config)


@blueprint.get("/supervision/loop/cases")
@requires("supervisor", "admin")
@db.writes  # the case_list_viewed audit event
def loop_cases() -> str:
    """The cases behind one number of the loop panel (issue 14)."""
    user_reach = current_reach()
    session = db.session()
    catalogue = current_catalogue(session)
    _form, filters = build_filters(catalogue, user_reach, current_language())
    panel = request.args.get("panel", "")
    key = request.args.get("key", "")[:160]
    if panel not in loop.LOOP_PANELS:
        abort(404)
    page = min(max(1, request.args.get("page", 1, type=int) or 1), MAX_PAGE)
    ids = loop.loop_case_ids(session, user_reach, filters, loop_settings(), utcnow(), panel, key)
    listing = loop.cases_listing(session, user_reach, ids, page=page)
    return cases_page(
        f"supervision:loop:{panel}:{key}",
        listing,
        panel=panel,
        key=key,
        key_label=loop_label(panel, key, catalogue, current_language()),
        filters=filters,
        page=page,
        endpoint="supervision.loop_cases",
        anchor="loop",
    )


def loop_label(panel: str, key: str, catalogue: Catalogue, language: str) -> str:
    """What the number counted, in words."""
    if panel == "answer_time":
        service, _sep, state = key.partition("|")
        svc = catalogue.services_by_id.get(service)
        name = svc.name.get(language) or svc.name["es"] if svc else _("Outside the directory")
        return _(
            "Referrals to %(service)s in %(state)s answered by the service",
            service=name,
            state=catalogue.label("states", state, language),
        )
    if panel == "answered_by":
        if key == "service":
            return _("First answers given by the service itself")
        return _("First answers recorded by the screener")
    if panel == "unanswered":
        return _("Referrals with no answer after %(days)s days", days=key)
    if panel == "child_notice":
        return _("Child-protection notices overdue")
    if key == "ended":
        return _("Reflection periods ended")
    return _("Reflection periods ending soon")
