"""`flask --app referral stats summary|microdata`: statistics leave the app from the console.

Run at the server's console, these exports are recorded in the audit log as made by the
server console, with their scope and disclosure settings.
"""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale

from referral.db import get_db
from referral.directory.catalogue import current_catalogue
from referral.i18n import LANGUAGES, gettext_for
from referral.stats import export
from referral.stats.microdata import (
    DEFAULT_K,
    MicrodataExport,
    data_dictionary,
    write_csv,
    write_dictionary,
    write_json,
)
from referral.stats.operations import SUMMARY_STEPS, Scope
from referral.stats.regions import regions_for

stats_cli = AppGroup("stats", help="Anonymized statistics: annual summary and microdata.")


def scope_of(states: tuple[str, ...]) -> Scope:
    return Scope(tuple(sorted(set(states)))) if states else Scope()


def render_html(summary: dict[str, Any], tables: list[export.Table], lang: str) -> str:
    """The standalone HTML file; rendered without a request, so without the page's context."""
    with force_locale(lang):
        template = current_app.jinja_env.get_template("stats/summary_export.html")
        return template.render(summary=summary, tables=tables, lang=lang)


def check_states(states: tuple[str, ...]) -> None:
    known = {s.code for s in current_app.extensions["referral_catalogue"].states}
    unknown = sorted(set(states) - known)
    if unknown:
        raise click.BadParameter(", ".join(unknown), param_hint="--state")


@stats_cli.command("summary")
@click.option("--year", type=click.IntRange(1900, 2999), required=True)
@click.option("--format", "fmt", type=click.Choice(("json", "csv", "html")), default="json")
@click.option("--public", is_flag=True, help="Apply disclosure control (cell suppression).")
@click.option("--threshold", type=click.IntRange(2, 1000), default=export.DEFAULT_THRESHOLD)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), default=None)
@click.option("--lang", type=click.Choice(LANGUAGES), default="es", show_default=True)
@click.option("--state", "states", multiple=True, help="Limit to these states (ISO 3166-2:MX).")
def summary_command(
    year: int,
    fmt: str,
    public: bool,
    threshold: int,
    out: str | None,
    lang: str,
    states: tuple[str, ...],
) -> None:
    """The annual summary of victims, referrals, gaps and screenings."""
    check_states(states)
    scope = scope_of(states)
    database = get_db()
    with database.transaction(write=False, snapshot=True) as session:
        catalogue = current_catalogue(session)
        with click.progressbar(
            length=len(SUMMARY_STEPS), label=gettext_for(lang)("Counting"), file=sys.stderr
        ) as bar:
            summary = export.summary_export(
                session,
                catalogue,
                year,
                scope,
                public=public,
                threshold=threshold,
                lang=lang,
                progress=lambda _step: bar.update(1),
            )
        document = export.render_summary(
            summary, fmt, catalogue, lang, lambda s, t: render_html(s, t, lang)
        )
    if out:
        Path(out).write_text(document, encoding="utf-8")
    else:
        click.echo(document, nl=False)
    with database.transaction() as session:
        export.audit_export(session, None, export.summary_code(year, fmt, public, threshold), scope)


def dictionary_path(out: str | None, dictionary: str | None) -> Path | None:
    if dictionary:
        return Path(dictionary)
    if out:
        path = Path(out)
        return path.with_name(path.stem + ".dictionary.csv")
    return None


@stats_cli.command("microdata")
@click.option("--format", "fmt", type=click.Choice(("csv", "json")), default="csv")
@click.option("--k", "k", type=click.IntRange(2, 10_000), default=DEFAULT_K, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), default=None)
@click.option("--dictionary", type=click.Path(dir_okay=False, writable=True), default=None)
@click.option("--lang", type=click.Choice(LANGUAGES), default="es", show_default=True)
@click.option("--state", "states", multiple=True, help="Limit to these states (ISO 3166-2:MX).")
def microdata_command(
    fmt: str,
    k: int,
    out: str | None,
    dictionary: str | None,
    lang: str,
    states: tuple[str, ...],
) -> None:
    """One k-anonymous row per consenting case (likely or possible), CTDC column names."""
    check_states(states)
    scope = scope_of(states)
    gettext = gettext_for(lang)
    database = get_db()
    regions = regions_for(current_app.config["SEEDS_DIR"])
    with database.transaction(write=False, snapshot=True) as session:
        catalogue = current_catalogue(session)
        dimensions = {i.code: i.dimension for i in catalogue.seeds.indicators}
        run = MicrodataExport(session, regions, dimensions, scope, k=k)
        report = run.prepare()
        with ExitStack() as stack:
            target: IO[str] = (
                stack.enter_context(Path(out).open("w", encoding="utf-8", newline=""))
                if out
                else sys.stdout
            )
            bar = stack.enter_context(
                click.progressbar(
                    length=report.published, label=gettext("Writing"), file=sys.stderr
                )
            )
            tick = lambda: bar.update(1)  # noqa: E731
            if fmt == "csv":
                write_csv(target, run.rows(), tick)
            else:
                write_json(target, run.rows(), report, tick, gettext(export.CONSENT_NOTE))
            target.flush()
    path = dictionary_path(out, dictionary)
    if path is not None:
        with path.open("w", encoding="utf-8", newline="") as handle:
            rows = data_dictionary(
                gettext, lambda name, code: str(catalogue.label(name, code, lang)), regions, lang
            )
            write_dictionary(handle, gettext, rows)
    click.echo(json.dumps(report.as_dict()), err=True)
    with database.transaction() as session:
        export.audit_export(session, None, export.microdata_code(fmt, k), scope)


def init_app(app: Any) -> None:
    app.cli.add_command(stats_cli)
