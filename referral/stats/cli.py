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
from referral.directory.catalogue import catalogue_cache, current_catalogue
from referral.i18n import LANGUAGES, gettext_for
from referral.stats import export, releases
from referral.stats.microdata import (
    DEFAULT_K,
    DEFAULT_L,
    MicrodataExport,
    data_dictionary,
    write_csv,
    write_dictionary,
    write_json,
)
from referral.stats.operations import SUMMARY_STEPS, Scope
from referral.stats.regions import regions_for
from referral.stats.synthetic import SYNTHETIC, synthetic_compute, write_synthetic

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
@click.option(
    "--public",
    is_flag=True,
    help="The differentially private release (made once, then stored; spends budget).",
)
@click.option(
    "--epsilon",
    type=click.FloatRange(0.01, 100),
    default=None,
    help="Privacy-loss parameter of the release (default: the app's, 2).",
)
@click.option(
    "--update",
    is_flag=True,
    help="Make a new edition where cases arrived after the release (spends budget again).",
)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), default=None)
@click.option("--lang", type=click.Choice(LANGUAGES), default="es", show_default=True)
@click.option("--state", "states", multiple=True, help="Limit to these states (ISO 3166-2:MX).")
def summary_command(
    year: int,
    fmt: str,
    public: bool,
    epsilon: float | None,
    update: bool,
    out: str | None,
    lang: str,
    states: tuple[str, ...],
) -> None:
    """The annual summary of victims, referrals, gaps and screenings."""
    check_states(states)
    scope = scope_of(states)
    database = get_db()
    default_epsilon, budget = export.privacy_settings(current_app.config)
    gettext = gettext_for(lang)
    if public:
        chosen = epsilon or default_epsilon
        request = releases.Request(year, releases.units_of(scope.states), "summary", chosen, update)
        all_states = releases.ledger_states(s.code for s in catalogue_cache().states)
        with database.transaction() as writer:
            catalogue = current_catalogue(writer)
            with click.progressbar(
                length=len(request.units), label=gettext("Counting"), file=sys.stderr
            ) as bar:
                try:
                    summary, _outcome = export.public_summary(
                        database,
                        writer,
                        catalogue,
                        request,
                        all_states=all_states,
                        budget=budget,
                        actor_id=None,
                        lang=lang,
                        progress=lambda _step: bar.update(1),
                    )
                except releases.BudgetSpent as refused:
                    raise click.ClickException(
                        export.budget_message(refused, catalogue, lang)
                    ) from None
            assert summary is not None
            document = export.render_summary(
                summary, fmt, catalogue, lang, lambda s, t: render_html(s, t, lang)
            )
            export.audit_export(writer, None, export.summary_code(year, fmt, chosen), scope)
    else:
        with database.transaction(write=False, snapshot=True) as session:
            catalogue = current_catalogue(session)
            with click.progressbar(
                length=len(SUMMARY_STEPS), label=gettext("Counting"), file=sys.stderr
            ) as bar:
                summary = export.summary_export(
                    session, catalogue, year, scope, lang=lang, progress=lambda _s: bar.update(1)
                )
            document = export.render_summary(
                summary, fmt, catalogue, lang, lambda s, t: render_html(s, t, lang)
            )
        with database.transaction() as session:
            export.audit_export(session, None, export.summary_code(year, fmt, None), scope)
    if out:
        Path(out).write_text(document, encoding="utf-8")
    else:
        click.echo(document, nl=False)


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
@click.option(
    "--l",
    "l",
    type=click.IntRange(1, 5),
    default=DEFAULT_L,
    show_default=True,
    help="Distinct forms of exploitation every published class must hold (l-diversity).",
)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), default=None)
@click.option("--dictionary", type=click.Path(dir_okay=False, writable=True), default=None)
@click.option("--lang", type=click.Choice(LANGUAGES), default="es", show_default=True)
@click.option("--state", "states", multiple=True, help="Limit to these states (ISO 3166-2:MX).")
def microdata_command(
    fmt: str,
    k: int,
    l: int,  # noqa: E741
    out: str | None,
    dictionary: str | None,
    lang: str,
    states: tuple[str, ...],
) -> None:
    """One row per consenting case (likely or possible), CTDC column names; k-anonymous and
    l-diverse on the forms of exploitation, rows sorted by their written values."""
    check_states(states)
    scope = scope_of(states)
    gettext = gettext_for(lang)
    database = get_db()
    regions = regions_for(current_app.config["SEEDS_DIR"])
    with database.transaction(write=False, snapshot=True) as session:
        catalogue = current_catalogue(session)
        dimensions = {i.code: i.dimension for i in catalogue.seeds.indicators}
        run = MicrodataExport(session, regions, dimensions, scope, k=k, l=l)
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
        export.audit_export(session, None, export.microdata_code(fmt, k, l), scope)


@stats_cli.command("synthetic")
@click.option("--year", type=click.IntRange(1900, 2999), required=True)
@click.option("--epsilon", type=click.FloatRange(0.01, 100), default=None)
@click.option(
    "--update",
    is_flag=True,
    help="Make a new edition where cases arrived after the release (spends budget again).",
)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), default=None)
@click.option("--lang", type=click.Choice(LANGUAGES), default="es", show_default=True)
@click.option("--state", "states", multiple=True, help="Limit to these states (ISO 3166-2:MX).")
def synthetic_command(
    year: int,
    epsilon: float | None,
    update: bool,
    out: str | None,
    lang: str,
    states: tuple[str, ...],
) -> None:
    """Differentially private synthetic microdata of one year (CTDC columns), drawn from
    marginals released on the privacy ledger (made once, then stored)."""
    check_states(states)
    scope = scope_of(states)
    database = get_db()
    default_epsilon, budget = export.privacy_settings(current_app.config)
    chosen = epsilon or default_epsilon
    regions = regions_for(current_app.config["SEEDS_DIR"])
    request = releases.Request(year, releases.units_of(scope.states), SYNTHETIC, chosen, update)
    all_states = releases.ledger_states(s.code for s in catalogue_cache().states)
    with database.transaction() as writer:
        catalogue = current_catalogue(writer)
        dimensions = {i.code: i.dimension for i in catalogue.seeds.indicators}
        try:
            outcome = releases.obtain(
                database,
                writer,
                request,
                all_states,
                budget,
                synthetic_compute(regions, dimensions),
                None,
            )
        except releases.BudgetSpent as refused:
            raise click.ClickException(export.budget_message(refused, catalogue, lang)) from None
        for release in outcome.releases:
            if release.scope in outcome.created:
                export.audit_release(writer, None, release)
        with ExitStack() as stack:
            target: IO[str] = (
                stack.enter_context(Path(out).open("w", encoding="utf-8", newline=""))
                if out
                else sys.stdout
            )
            rows = write_synthetic(target, outcome.releases, regions, lambda: None)
            target.flush()
        export.audit_export(writer, None, f"synthetic:{year}:csv:e{chosen:g}", scope)
    click.echo(
        json.dumps({"rows": rows, "epsilon": chosen, "newer_cases": bool(outcome.newer)}),
        err=True,
    )


def init_app(app: Any) -> None:
    app.cli.add_command(stats_cli)
