"""The statistics page and its downloads, for supervisors and admins.

URL rules of this feature:
    GET /stats                         stats.index               summary of a year, on screen
    GET /stats/summary.<fmt>           stats.summary_download    json | csv | html
    GET /stats/microdata.csv           stats.microdata_download  k-anonymous microdata
    GET /stats/dictionary.csv          stats.dictionary_download the microdata's columns

A supervisor always gets the public (disclosure-controlled) version for their states; an
admin chooses the scope, and whether to apply disclosure control. Every download is audited.
"""

from __future__ import annotations

import io
import tempfile
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, send_file
from flask_babel import get_locale
from flask_login import current_user, login_required

from referral import db
from referral.access import Reach, require_supervisor_or_admin
from referral.directory.catalogue import catalogue_cache, current_catalogue
from referral.i18n import gettext_for
from referral.stats import export
from referral.stats.microdata import (
    DEFAULT_K,
    MicrodataExport,
    data_dictionary,
    write_csv,
    write_dictionary,
)
from referral.stats.operations import MEXICO_CITY, Scope, years_with_cases
from referral.stats.regions import regions_for

blueprint = Blueprint("stats", __name__, template_folder="templates")
FORMATS = {"json": "application/json", "csv": "text/csv", "html": "text/html"}


def lang() -> str:
    return str(get_locale() or "es")[:2]


def _reach() -> Reach:
    reach = Reach.of(current_user)
    require_supervisor_or_admin(reach)
    return reach


def _scope(reach: Reach) -> Scope:
    """A supervisor's states (all of them when national); an admin's choice."""
    if reach.is_admin:
        state = request.args.get("state") or ""
        known = {s.code for s in catalogue_cache().states}
        return Scope((state,)) if state in known else Scope()
    return Scope() if reach.national else Scope(tuple(sorted(reach.states)))


def _settings(reach: Reach) -> tuple[bool, int]:
    """(public, threshold): always public at the default threshold for supervisors."""
    if not reach.is_admin:
        return True, export.DEFAULT_THRESHOLD
    public = request.args.get("public") == "1"
    threshold = request.args.get("threshold", type=int) or export.DEFAULT_THRESHOLD
    return public, min(max(threshold, 2), 1000)


def _year(years: list[int]) -> int:
    year = request.args.get("year", type=int)
    if year is None or not 1900 <= year <= 2999:
        return years[0] if years else datetime.now(MEXICO_CITY).year
    return year


def _attachment(body: Any, filename: str, mimetype: str) -> Response:
    response = send_file(body, mimetype=mimetype, as_attachment=True, download_name=filename)
    return response


@blueprint.get("/stats")
@login_required
def index() -> str:
    reach = _reach()
    session = db.session()
    catalogue = current_catalogue(session)
    years = years_with_cases(session)
    year = _year(years)
    if year not in years:
        years = sorted({*years, year}, reverse=True)
    scope = _scope(reach)
    public, threshold = _settings(reach)
    summary = export.summary_export(
        session, catalogue, year, scope, public=public, threshold=threshold, lang=lang()
    )
    args: dict[str, Any] = {"year": year}
    scope_args: dict[str, Any] = {}
    if reach.is_admin:
        if scope.states:
            args["state"] = scope_args["state"] = scope.states[0]
        if public:
            args.update(public="1", threshold=threshold)
    states = [(s.code, catalogue.label("states", s.code, lang())) for s in catalogue_cache().states]
    return render_template(
        "stats/index.html",
        reach=reach,
        summary=summary,
        tables=export.summary_tables(summary, catalogue, lang()),
        year=year,
        years=years,
        states=states,
        chosen_states=scope.states or (),
        public=public,
        threshold=threshold,
        args=args,
        scope_args=scope_args,
    )


@blueprint.get("/stats/summary.<fmt>")
@login_required
@db.writes
def summary_download(fmt: str) -> Response:
    """Counted in a read transaction; only the audit event takes the write lock, at the end."""
    reach = _reach()
    if fmt not in FORMATS:
        abort(404)
    scope = _scope(reach)
    public, threshold = _settings(reach)
    with db.get_db().transaction(write=False) as session:
        catalogue = current_catalogue(session)
        year = _year(years_with_cases(session))
        summary = export.summary_export(
            session, catalogue, year, scope, public=public, threshold=threshold, lang=lang()
        )
    document = export.render_summary(
        summary,
        fmt,
        catalogue,
        lang(),
        lambda s, t: render_template("stats/summary_export.html", summary=s, tables=t, lang=lang()),
    )
    export.audit_export(
        db.session(), reach.user_id, export.summary_code(year, fmt, public, threshold), scope
    )
    kind = "public" if public else "internal"
    return _attachment(
        io.BytesIO(document.encode("utf-8")), f"ruta-summary-{year}-{kind}.{fmt}", FORMATS[fmt]
    )


@blueprint.get("/stats/microdata.csv")
@login_required
@db.writes
def microdata_download() -> Response:
    """Written to a spooled temporary file (memory up to 8 MB, then disk), then sent."""
    reach = _reach()
    scope = _scope(reach)
    regions = regions_for(current_app.config["SEEDS_DIR"])
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    text = io.TextIOWrapper(spool, encoding="utf-8", newline="", write_through=True)
    from referral.db import get_db

    with get_db().transaction(write=False, snapshot=True) as session:
        catalogue = current_catalogue(session)
        dimensions = {i.code: i.dimension for i in catalogue.seeds.indicators}
        run = MicrodataExport(session, regions, dimensions, scope, k=DEFAULT_K)
        run.prepare()
        write_csv(text, run.rows(), lambda: None)
    text.flush()
    text.detach()
    spool.seek(0)
    export.audit_export(db.session(), reach.user_id, export.microdata_code("csv", DEFAULT_K), scope)
    return _attachment(spool, "ruta-microdata.csv", "text/csv")


@blueprint.get("/stats/dictionary.csv")
@login_required
def dictionary_download() -> Response:
    _reach()
    language = lang()
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
    return _attachment(
        io.BytesIO(out.getvalue().encode("utf-8")), "ruta-microdata-dictionary.csv", "text/csv"
    )
