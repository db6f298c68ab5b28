"""The statistics page and its downloads, for supervisors and admins.

URL rules of this feature:
    GET /stats                         stats.index               summary of a year, on screen
    POST /stats/summary.<fmt>          stats.summary_download    json | csv | html
    POST /stats/microdata.csv          stats.microdata_download  k-anonymous microdata
    POST /stats/dictionary.csv         stats.dictionary_download the microdata's columns

Downloads are POSTs with a CSRF token: a top-level GET from another site carries the Lax
session cookie, a POST from there does not (and has no token). Settings stay in the query.

A supervisor always gets the public (disclosure-controlled) version for their states; an
admin chooses the scope, and whether to apply disclosure control. Every download is audited.
"""

from __future__ import annotations

import io
import tempfile
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, send_file

from referral import db
from referral.access import Reach, current_reach, requires
from referral.directory.catalogue import catalogue_cache, current_catalogue
from referral.i18n import current_language, gettext_for, local_timezone
from referral.stats import export
from referral.stats.cli import snapshot
from referral.stats.microdata import (
    DEFAULT_K,
    MicrodataExport,
    data_dictionary,
    write_csv,
    write_dictionary,
)
from referral.stats.operations import Scope, years_with_cases
from referral.stats.regions import regions_for

blueprint = Blueprint("stats", __name__, template_folder="templates")
FORMATS = {"json": "application/json", "csv": "text/csv", "html": "text/html"}


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
        return years[0] if years else datetime.now(local_timezone()).year
    return year


def _attachment(body: Any, filename: str, mimetype: str) -> Response:
    response = send_file(body, mimetype=mimetype, as_attachment=True, download_name=filename)
    return response


@blueprint.get("/stats")
@requires("supervisor", "admin")
def index() -> str:
    reach = current_reach()
    language = current_language()
    session = db.session()
    catalogue = current_catalogue(session)
    years = years_with_cases(session)
    year = _year(years)
    if year not in years:
        years = sorted({*years, year}, reverse=True)
    scope = _scope(reach)
    public, threshold = _settings(reach)
    summary = export.summary_export(
        session, catalogue, year, scope, public=public, threshold=threshold, lang=language
    )
    args: dict[str, Any] = {"year": year}
    scope_args: dict[str, Any] = {}
    if reach.is_admin:
        if scope.states:
            args["state"] = scope_args["state"] = scope.states[0]
        if public:
            args.update(public="1", threshold=threshold)
    states = [
        (s.code, catalogue.label("states", s.code, language)) for s in catalogue_cache().states
    ]
    return render_template(
        "stats/index.html",
        summary=summary,
        tables=export.summary_tables(summary, catalogue, language),
        year=year,
        years=years,
        states=states,
        chosen_states=scope.states or (),
        public=public,
        threshold=threshold,
        args=args,
        scope_args=scope_args,
    )


@blueprint.post("/stats/summary.<fmt>")
@requires("supervisor", "admin")
@db.writes
def summary_download(fmt: str) -> Response:
    """Counted in a read transaction; only the audit event takes the write lock, at the end."""
    reach = current_reach()
    language = current_language()
    if fmt not in FORMATS:
        abort(404)
    scope = _scope(reach)
    public, threshold = _settings(reach)
    with db.get_db().transaction(write=False) as session:
        catalogue = current_catalogue(session)
        year = _year(years_with_cases(session))
        summary = export.summary_export(
            session, catalogue, year, scope, public=public, threshold=threshold, lang=language
        )
    document = export.render_summary(
        summary,
        fmt,
        catalogue,
        language,
        lambda s, t: render_template("stats/summary_export.html", summary=s, tables=t),
    )
    export.audit_export(
        db.session(), reach.user_id, export.summary_code(year, fmt, public, threshold), scope
    )
    kind = "public" if public else "internal"
    return _attachment(
        io.BytesIO(document.encode("utf-8")), f"ruta-summary-{year}-{kind}.{fmt}", FORMATS[fmt]
    )


@blueprint.post("/stats/microdata.csv")
@requires("supervisor", "admin")
@db.writes
def microdata_download() -> Response:
    """Written to a spooled temporary file (memory up to 8 MB, then disk), then sent."""
    reach = current_reach()
    scope = _scope(reach)
    regions = regions_for(current_app.config["SEEDS_DIR"])
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    text = io.TextIOWrapper(spool, encoding="utf-8", newline="", write_through=True)
    from referral.db import get_db

    with get_db().transaction(write=False) as session:
        snapshot(session)
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
