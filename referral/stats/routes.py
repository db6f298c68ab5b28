"""The statistics page and its downloads, for supervisors and admins.

URL rules of this feature:
    GET  /stats                         stats.index               summary of a year, on screen
    POST /stats/releases                stats.make_release        make (or fetch) a public release
    POST /stats/summary.<fmt>           stats.summary_download    json | csv | html
    GET  /stats/ledger                  stats.ledger              the privacy ledger (admins)
    POST /stats/synthetic.csv           stats.synthetic_download  DP synthetic microdata
    POST /stats/microdata.csv           stats.microdata_download  k-anonymous, l-diverse microdata
    POST /stats/dictionary.csv          stats.dictionary_download the microdata's columns

Downloads are POSTs with a CSRF token: a top-level GET from another site carries the Lax
session cookie, a POST from there does not (and has no token). Settings stay in the query.

A supervisor always gets the public version for their states: a differentially private
release, made once by a POST (it spends privacy budget) and then read by every download. An
admin chooses the scope, and either the exact internal summary or a public release. Every
download and every new release is audited.
"""

from __future__ import annotations

import io
import tempfile
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response as BaseResponse

from referral import db
from referral.access import Reach, current_reach, requires
from referral.auth.models import User
from referral.directory.catalogue import catalogue_cache, current_catalogue
from referral.i18n import by_label, current_language, gettext_for, local_timezone
from referral.stats import export, releases
from referral.stats.forms import ReleaseForm
from referral.stats.microdata import (
    DEFAULT_K,
    DEFAULT_L,
    MicrodataExport,
    MicrodataReport,
    data_dictionary,
    write_csv,
    write_dictionary,
)
from referral.stats.operations import Scope, years_with_cases
from referral.stats.regions import regions_for
from referral.stats.synthetic import SYNTHETIC, synthetic_compute, write_synthetic

blueprint = Blueprint("stats", __name__, template_folder="templates")
FORMATS = {"json": "application/json", "csv": "text/csv", "html": "text/html"}


def _known_states() -> set[str]:
    return {s.code for s in catalogue_cache().states}


def _scope(reach: Reach, state: str | None = None) -> Scope:
    """A supervisor's states (all of them when national); an admin's choice."""
    if reach.is_admin:
        chosen = request.args.get("state") or "" if state is None else state
        return Scope((chosen,)) if chosen in _known_states() else Scope()
    return Scope() if reach.national else Scope(tuple(sorted(reach.states)))


def _epsilon(reach: Reach, chosen: str | None) -> float:
    """The release's privacy-loss parameter: the app's for supervisors, a choice for admins."""
    default, _budget = export.privacy_settings(current_app.config)
    if reach.is_admin and chosen:
        try:
            value = float(chosen)
        except ValueError:
            return default
        if value in releases.EPSILON_CHOICES:
            return value
    return default


def _public(reach: Reach) -> bool:
    """Supervisors always get the public release; admins choose."""
    return not reach.is_admin or request.args.get("public") == "1"


def _year(years: list[int]) -> int:
    year = request.args.get("year", type=int)
    if year is None or not 1900 <= year <= 2999:
        return years[0] if years else datetime.now(local_timezone()).year
    return year


def _attachment(body: Any, filename: str, mimetype: str) -> Response:
    response = send_file(body, mimetype=mimetype, as_attachment=True, download_name=filename)
    return response


def _ledger_states() -> tuple[str, ...]:
    return releases.ledger_states(_known_states())


def _public_summary(
    reach: Reach, year: int, scope: Scope, epsilon: float, catalogue: Any
) -> tuple[dict[str, Any] | None, releases.Outcome]:
    """The stored release of this scope (read only: a GET never spends budget)."""
    _epsilon_default, budget = export.privacy_settings(current_app.config)
    request_ = releases.Request(year, releases.units_of(scope.states), releases.SUMMARY, epsilon)
    return export.public_summary(
        db.get_db(),
        None,
        catalogue,
        request_,
        all_states=_ledger_states(),
        budget=budget,
        actor_id=reach.user_id,
        lang=current_language(),
    )


def _page_args(reach: Reach, year: int, scope: Scope, public: bool, epsilon: float) -> dict:
    args: dict[str, Any] = {"year": year}
    if reach.is_admin:
        if scope.states:
            args["state"] = scope.states[0]
        if public:
            args.update(public="1", epsilon=f"{epsilon:g}")
    return args


@blueprint.get("/stats")
@requires("supervisor", "admin")
def index() -> str:
    reach = current_reach()
    session = db.session()
    catalogue = current_catalogue(session)
    years = years_with_cases(session)
    year = _year(years)
    if year not in years:
        years = sorted({*years, year}, reverse=True)
    scope = _scope(reach)
    public = _public(reach)
    epsilon = _epsilon(reach, request.args.get("epsilon"))
    newer = False
    if public:
        summary, outcome = _public_summary(reach, year, scope, epsilon, catalogue)
        newer = bool(outcome.newer)
    else:
        summary = export.summary_export(session, catalogue, year, scope, lang=current_language())
    synthetic = releases.find(
        db.get_db(),
        releases.Request(year, releases.units_of(scope.states), SYNTHETIC, epsilon),
    )
    synthetic_ready = len(synthetic.releases) == len(releases.units_of(scope.states))
    args = _page_args(reach, year, scope, public, epsilon)
    scope_args: dict[str, Any] = (
        {"state": scope.states[0]} if reach.is_admin and scope.states else {}
    )
    states = by_label(
        [
            (s.code, catalogue.label("states", s.code, current_language()))
            for s in catalogue_cache().states
        ],
        current_language(),
        lambda pair: pair[1],
    )
    form = ReleaseForm(
        formdata=None,
        year=year,
        state=scope.states[0] if reach.is_admin and scope.states else "",
        epsilon=f"{epsilon:g}",
    )
    return render_template(
        "stats/index.html",
        summary=summary,
        tables=export.summary_tables(summary, catalogue, current_language()) if summary else [],
        year=year,
        years=years,
        states=states,
        chosen_states=scope.states or (),
        public=public,
        epsilon=epsilon,
        epsilon_choices=[f"{e:g}" for e in releases.EPSILON_CHOICES],
        newer=newer,
        synthetic_ready=synthetic_ready,
        synthetic_args=_page_args(reach, year, scope, True, epsilon),
        form=form,
        args=args,
        scope_args=scope_args,
    )


@blueprint.post("/stats/releases")
@requires("supervisor", "admin")
def make_release() -> BaseResponse:
    """Make the public release of a year for the reader's scope (or fetch it if made)."""
    reach = current_reach()
    form = ReleaseForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(url_for("stats.index"))
    year = int(form.year.data or 0)
    scope = _scope(reach, form.state.data or "")
    epsilon = _epsilon(reach, form.epsilon.data)
    _default, budget = export.privacy_settings(current_app.config)
    session = db.session()
    catalogue = current_catalogue(session)
    table = SYNTHETIC if form.table.data == SYNTHETIC else releases.SUMMARY
    wanted = releases.Request(
        year, releases.units_of(scope.states), table, epsilon, bool(form.update.data)
    )
    back = url_for("stats.index", **_page_args(reach, year, scope, True, epsilon))
    try:
        if table == SYNTHETIC:
            dimensions = {i.code: i.dimension for i in catalogue.seeds.indicators}
            regions = regions_for(current_app.config["SEEDS_DIR"])
            outcome = releases.obtain(
                db.get_db(),
                session,
                wanted,
                _ledger_states(),
                budget,
                synthetic_compute(regions, dimensions),
                reach.user_id,
            )
            for release in outcome.releases:
                if release.scope in outcome.created:
                    export.audit_release(session, reach.user_id, release)
        else:
            _summary, outcome = export.public_summary(
                db.get_db(),
                session,
                catalogue,
                wanted,
                all_states=_ledger_states(),
                budget=budget,
                actor_id=reach.user_id,
                lang=current_language(),
            )
    except releases.BudgetSpent as refused:
        flash(export.budget_message(refused, catalogue, current_language()), "error")
        return redirect(back)
    if outcome.created:
        flash(
            _(
                "The release is made (privacy-loss parameter %(epsilon)s). Its numbers are "
                "stored: everyone who asks for it gets the same numbers.",
                epsilon=f"{epsilon:g}",
            ),
            "success",
        )
    else:
        flash(_("This release was already made: here it is, and no budget was spent."), "info")
    return redirect(back)


@blueprint.post("/stats/summary.<fmt>")
@requires("supervisor", "admin")
@db.writes
def summary_download(fmt: str) -> BaseResponse:
    """The stored public release, or (admins) the exact internal summary, counted in a read
    transaction; only the audit event takes the write lock, at the end."""
    reach = current_reach()
    if fmt not in FORMATS:
        abort(404)
    scope = _scope(reach)
    public = _public(reach)
    epsilon = _epsilon(reach, request.args.get("epsilon"))
    with db.get_db().transaction(write=False) as session:
        catalogue = current_catalogue(session)
        year = _year(years_with_cases(session))
        if not public:
            summary: dict[str, Any] | None = export.summary_export(
                session, catalogue, year, scope, lang=current_language()
            )
    if public:
        summary, _outcome = _public_summary(reach, year, scope, epsilon, catalogue)
        if summary is None:
            flash(
                _("There is no public release of %(year)s yet: make it first.", year=year), "info"
            )
            return redirect(url_for("stats.index", **_page_args(reach, year, scope, True, epsilon)))
    assert summary is not None
    document = export.render_summary(
        summary,
        fmt,
        catalogue,
        current_language(),
        lambda s, t: render_template("stats/summary_export.html", summary=s, tables=t),
    )
    export.audit_export(
        db.session(),
        reach.user_id,
        export.summary_code(year, fmt, epsilon if public else None),
        scope,
    )
    kind = "public" if public else "internal"
    return _attachment(
        io.BytesIO(document.encode("utf-8")), f"ruta-summary-{year}-{kind}.{fmt}", FORMATS[fmt]
    )


@blueprint.post("/stats/synthetic.csv")
@requires("supervisor", "admin")
@db.writes
def synthetic_download() -> BaseResponse:
    """The stored synthetic microdata of a year for the reader's scope (never made here)."""
    reach = current_reach()
    scope = _scope(reach)
    epsilon = _epsilon(reach, request.args.get("epsilon"))
    with db.get_db().transaction(write=False) as session:
        year = _year(years_with_cases(session))
    wanted = releases.Request(year, releases.units_of(scope.states), SYNTHETIC, epsilon)
    found = releases.find(db.get_db(), wanted)
    if len(found.releases) < len(wanted.units):
        flash(
            _("There is no synthetic microdata of %(year)s yet: make it first.", year=year), "info"
        )
        return redirect(url_for("stats.index", **_page_args(reach, year, scope, True, epsilon)))
    out = io.StringIO()
    write_synthetic(out, found.releases, regions_for(current_app.config["SEEDS_DIR"]), lambda: None)
    export.audit_export(db.session(), reach.user_id, f"synthetic:{year}:csv:e{epsilon:g}", scope)
    return _attachment(
        io.BytesIO(out.getvalue().encode("utf-8")), f"ruta-synthetic-{year}.csv", "text/csv"
    )


@blueprint.get("/stats/ledger")
@requires("admin")
def ledger() -> str:
    """The privacy ledger: every release of a year, and what each state has left."""
    session = db.session()
    catalogue = current_catalogue(session)
    years = sorted({*releases.ledger_years(session), *years_with_cases(session)}, reverse=True)
    year = _year(years)
    _default, budget = export.privacy_settings(current_app.config)
    made = releases.all_releases(session, year)
    authors = {
        r.created_by: session.get(User, r.created_by) for r in made if r.created_by is not None
    }
    names = {code: catalogue.label("states", code, current_language()) for code in _known_states()}
    return render_template(
        "stats/ledger.html",
        year=year,
        years=years or [year],
        budget=budget,
        rows=releases.budget_rows(session, year, _ledger_states(), budget),
        made=made,
        authors={k: v.email for k, v in authors.items() if v is not None},
        names=names,
    )


def _empty_microdata_message(report: MicrodataReport) -> str:
    """Why the microdata has no record: none in scope, or every class too small."""
    if report.records == 0:
        return _(
            "There is no record to publish: no case with consent to statistics was screened "
            "likely or possible in your states."
        )
    return ngettext(
        "No record can be published: every group of records sharing year, sex, age, "
        "nationality and region has fewer than %(k)s records (or fewer than %(l)s forms of "
        "exploitation), even with the coarsest values, so the only record was left out.",
        "No record can be published: every group of records sharing year, sex, age, "
        "nationality and region has fewer than %(k)s records (or fewer than %(l)s forms of "
        "exploitation), even with the coarsest values, so all %(num)s records were left out.",
        report.suppressed,
        k=report.k,
        l=report.l,
    )


@blueprint.post("/stats/microdata.csv")
@requires("supervisor", "admin")
@db.writes
def microdata_download() -> BaseResponse:
    """Written to a spooled temporary file (memory up to 8 MB, then disk), then sent."""
    reach = current_reach()
    scope = _scope(reach)
    regions = regions_for(current_app.config["SEEDS_DIR"])
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    text = io.TextIOWrapper(spool, encoding="utf-8", newline="", write_through=True)
    with db.get_db().transaction(write=False, snapshot=True) as session:
        catalogue = current_catalogue(session)
        dimensions = {i.code: i.dimension for i in catalogue.seeds.indicators}
        run = MicrodataExport(session, regions, dimensions, scope, k=DEFAULT_K, l=DEFAULT_L)
        report = run.prepare()
        if report.published == 0:  # an empty file would say nothing: say why instead
            text.close()
            flash(_empty_microdata_message(report), "info")
            return redirect(url_for("stats.index", state=request.args.get("state") or None))
        write_csv(text, run.rows(), lambda: None)
    text.flush()
    text.detach()
    spool.seek(0)
    export.audit_export(
        db.session(), reach.user_id, export.microdata_code("csv", DEFAULT_K, DEFAULT_L), scope
    )
    return _attachment(spool, "ruta-microdata.csv", "text/csv")


@blueprint.post("/stats/dictionary.csv")
@requires("supervisor", "admin")
@db.writes  # the export_made audit event
def dictionary_download() -> Response:
    reach = current_reach()
    language = current_language()
    gettext = gettext_for(language)
    catalogue = current_catalogue(db.session())
    rows = data_dictionary(
        gettext,
        lambda name, code: str(catalogue.label(name, code, language)),
        regions_for(current_app.config["SEEDS_DIR"]),
        language,
    )
    out = io.StringIO()
    write_dictionary(out, gettext, rows)
    export.audit_export(db.session(), reach.user_id, "microdata-dictionary:csv", _scope(reach))
    return _attachment(
        io.BytesIO(out.getvalue().encode("utf-8")), "ruta-microdata-dictionary.csv", "text/csv"
    )
