"""Command-line interface: `flask --app referral <command>`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from referral import migrate
from referral.db import get_db
from referral.i18n import LANGUAGES
from referral.rules import SeedErrors

db_cli = AppGroup("db", help="Database migrations.")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    database = get_db()
    with migrate.migration_lock(database.writer, current_app.instance_path):
        migrate.upgrade(database.writer, revision)
        migrate.analyze(database.writer)
    click.echo(f"Database at {migrate.current_revision(database.writer)}")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Undo migrations down to REVISION ("base" undoes them all)."""
    database = get_db()
    with migrate.migration_lock(database.writer, current_app.instance_path):
        migrate.downgrade(database.writer, revision)
    click.echo(f"Database at {migrate.current_revision(database.writer) or 'base'}")


@db_cli.command("current")
def db_current() -> None:
    """Print the database's migration revision."""
    click.echo(migrate.current_revision(get_db().writer) or "base")


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Validate seeds/ and load states and services (idempotent)."""
    from referral.directory.operations import apply_seeds
    from referral.seeds.loader import seed_store

    try:
        seeds = seed_store(current_app.config["SEEDS_DIR"]).seed_set()
    except SeedErrors as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        sys.exit(2)
    database = get_db()
    with migrate.migration_lock(database.writer, current_app.instance_path):
        migrate.upgrade(database.writer)
    with database.transaction() as session:
        report = apply_seeds(session, seeds)
    click.echo(
        f"States: {report.states_added} added, {report.states_updated} updated. "
        f"Services: {report.services_added} added, {report.services_updated} updated."
    )
    if report.directory_version is not None:
        click.echo(f"New directory version {report.directory_version}.")
    for service_id in report.differs:
        click.echo(f"Kept the admin's edit of {service_id}: it differs from seeds/services.yaml.")


@click.command("route")
@with_appcontext
@click.argument("source", type=click.File("r", encoding="utf-8"))
@click.option("--lang", type=click.Choice(LANGUAGES), default="es", show_default=True)
def route_command(source: TextIO, lang: str) -> None:
    """Route the screening record(s) in SOURCE ("-" reads standard input) and print JSON.

    One JSON object gives one indented result; JSON Lines give one compact result a line.
    Bad input prints {"errors": ...} and exits with status 2.
    """
    import gc

    from referral.casework.routing import InputError, route_text

    # What start-up built lives as long as this process: the collector need not walk it again
    # at each full collection while thousands of results are made (a fifth of the CPU time).
    gc.freeze()

    def text(json_lines: bool, result: Any) -> str:
        if json_lines:
            return str(result.dumps(lang, ensure_ascii=False, separators=(",", ":")))
        return str(result.dumps(lang, ensure_ascii=False, indent=2))

    database = get_db()
    try:
        with database.transaction(write=False) as session:
            _json_lines, texts = route_text(source.read(), session, lang, text)
    except InputError as exc:
        click.echo(json.dumps({"errors": exc.errors}, ensure_ascii=False))
        sys.exit(2)
    # One write for the whole output: click.echo flushes after every call.
    click.echo("\n".join(texts))


# Commands that need only the database, the directory and the rules core: the Flask CLI runs
# them without importing the features' models, forms and views (issue 17: start-up).
LIGHT_COMMANDS = frozenset({"route"})


class DeferredGroup(AppGroup):
    """The app's commands while the Flask CLI looks one up: ``finish`` (every feature) runs
    before any command but a light one is looked up, and before the commands are listed."""

    def __init__(self, app: Flask, group: click.Group, finish: Callable[[Flask], None]) -> None:
        super().__init__(group.name, commands=group.commands)
        self.app = app
        self.finish: Callable[[Flask], None] | None = finish

    def complete(self) -> None:
        finish, self.finish = self.finish, None
        if finish is not None:
            finish(self.app)

    def get_command(self, ctx: click.Context, cmd_name: str) -> Any:
        if cmd_name not in LIGHT_COMMANDS:
            self.complete()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.complete()
        return super().list_commands(ctx)


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(seed_command)
    app.cli.add_command(route_command)
