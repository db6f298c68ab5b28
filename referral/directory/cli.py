"""`flask --app referral directory ...`: the service directory on the command line.

directory export [--format json|hsds]   print the directory (CONTRACT 4, or HSDS 3.0)
directory import FILE [--replace]       read HSDS 3.0 services; all or nothing
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from flask.cli import AppGroup

from referral.audit.operations import record_audit
from referral.db import get_db
from referral.directory.catalogue import catalogue_cache
from referral.directory.confidential import withhold_location
from referral.directory.operations import export_entries, service_capacities
from referral.i18n import gettext_for
from referral.rules import SeedErrors

directory_cli = AppGroup("directory", help="The service directory.")


@directory_cli.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["json", "hsds"]), default="json", show_default=True
)
@click.option(
    "--withhold-confidential",
    is_flag=True,
    help="For a reader who is not an administrator: confidential services' contact and "
    "how-to-refer are replaced by how to make contact through the administrators.",
)
def export_command(fmt: str, withhold_confidential: bool) -> None:
    """Print every directory entry sorted by id: CONTRACT section 4, or HSDS 3.0 services.

    The full export holds confidential locations: it is the administrators' copy."""
    from referral.directory.hsds import export_hsds  # HSDS only for the commands that use it

    with get_db().transaction() as session:  # who ran it is the console: no user
        entries = export_entries(session)
        capacities = service_capacities(session)
        what = f"directory:{fmt}" + (":shared" if withhold_confidential else ":full")
        record_audit(session, "export_made", actor_id=None, object_kind="export", object_id=what)
    if withhold_confidential:
        entries = [withhold_location(entry, gettext_for) for entry in entries]
    document: Any = export_hsds(entries, capacities) if fmt == "hsds" else entries
    click.echo(json.dumps(document, ensure_ascii=False, indent=2, default=str))


def errors_document(exc: SeedErrors) -> dict[str, Any]:
    """{"errors": {record: {field: [message, ...]}}}: every bad record, every field."""
    out: dict[str, dict[str, list[str]]] = {}
    for error in exc.errors:
        out.setdefault(error.entry or "file", {}).setdefault(error.field or "", []).append(
            error.message
        )
    return {"errors": out}


@directory_cli.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option(
    "--replace",
    is_flag=True,
    help="Services not in the file are removed (retired when a referral names them).",
)
def import_command(file: Any, replace: bool) -> None:
    """Read HSDS 3.0 services (a JSON array); update services by id. Nothing changes if any
    record is bad: every bad record is reported and the exit status is 2."""
    from referral.directory.hsds import import_entries, read_hsds

    try:
        document = json.load(file)
    except json.JSONDecodeError as exc:
        click.echo(json.dumps({"errors": {"file": {"": [f"not valid JSON: {exc}"]}}}))
        sys.exit(2)
    cache = catalogue_cache()
    try:
        entries = read_hsds(document, cache.rules, [s.code for s in cache.states])
    except SeedErrors as exc:
        click.echo(json.dumps(errors_document(exc), ensure_ascii=False, indent=2))
        sys.exit(2)
    with get_db().transaction() as session:
        report = import_entries(session, entries, replace=replace, actor_id=None)
    click.echo(
        f"{len(report.added)} added, {len(report.updated)} updated, {report.unchanged} unchanged, "
        f"{len(report.removed)} removed, {len(report.retired)} retired."
    )
    if report.directory_version is not None:
        click.echo(f"New directory version {report.directory_version}.")
