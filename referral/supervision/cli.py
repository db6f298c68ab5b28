"""`flask --app referral aggregates rebuild|fold`: the dashboard's maintained counts."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from referral.db import get_db
from referral.supervision import aggregates

aggregates_cli = AppGroup("aggregates", help="The supervision dashboard's maintained counts.")


@aggregates_cli.command("rebuild")
def rebuild_command() -> None:
    """Recount the dashboard's counts from the rows (plus erased cases' contributions) and
    replace the maintained ones. Exits 1 when they differed (now corrected), 0 otherwise."""
    with get_db().transaction() as session:
        result = aggregates.rebuild(session)
    if not result.was_built:
        click.echo(f"Counts built: {result.rows} rows.")
        return
    if result.differed:
        click.echo(
            f"Counts differed from a recount in {result.differed} rows; replaced "
            f"({result.rows} rows).",
            err=True,
        )
        sys.exit(1)
    click.echo(f"Counts equal a recount ({result.rows} rows).")


@aggregates_cli.command("fold")
def fold_command() -> None:
    """Fold the waiting changes into the counts (reads also do it when many wait)."""
    with get_db().transaction() as session:
        folded = aggregates.fold(session)
    click.echo(f"Folded {folded} changes.")
