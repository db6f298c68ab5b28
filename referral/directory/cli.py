"""`flask --app referral directory ...`: the service directory on the command line."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from referral.db import get_db
from referral.directory.operations import export_entries

directory_cli = AppGroup("directory", help="The service directory.")


@directory_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True)
def export_command(fmt: str) -> None:
    """Print every directory entry as a JSON array sorted by id (CONTRACT section 4)."""
    with get_db().transaction(write=False) as session:
        entries = export_entries(session)
    click.echo(json.dumps(entries, ensure_ascii=False, indent=2, default=str))
