"""`flask --app referral cases import|export-jsonl|erase` and `retention run`: move screening
history in and out, erase a case, erase the cases past the retention period.

One JSON object a line: the CONTRACT section 1 record plus ``screened_at``, ``screener``
(an existing user's email), ``consent_referral`` and ``consent_statistics``, and
``case_code`` (written on export; optional on import). Lines with one case code are the
screenings of one case, oldest first. Notes and referrals are not part of this format.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import click
from flask import current_app
from flask.cli import AppGroup
from sqlmodel import Session, col, select

from referral.audit.operations import record_audit
from referral.auth.models import User
from referral.casework import lifecycle
from referral.casework.models import Case, Screening
from referral.casework.routing import translate
from referral.casework.screening import CaseDetails, store_screening
from referral.db import get_db, in_utc
from referral.directory.catalogue import current_catalogue
from referral.i18n import LANGUAGES, gettext_for
from referral.rules import RecordInvalid, ScreeningRecord, validate_record

cases_cli = AppGroup("cases", help="Import and export screening records.")

EXTRA_FIELDS = ("screened_at", "screener", "consent_referral", "consent_statistics", "case_code")
CASE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class ImportLine:
    number: int
    record: ScreeningRecord
    screened_at: datetime
    screener_id: int
    consent_referral: bool
    consent_statistics: bool
    case_code: str | None


def parse_line(
    number: int, data: Any, session: Session, users: dict[str, int | None], gettext: Any
) -> ImportLine | dict[str, list[str]]:
    """One line checked completely: the line, or its errors by field."""
    catalogue = current_catalogue(session)
    errors: dict[str, list[str]] = {}
    if not isinstance(data, dict):
        return {"": [gettext("The record must be a JSON object with the fields of a screening.")]}
    core = {k: v for k, v in data.items() if k not in EXTRA_FIELDS}
    record: ScreeningRecord | None = None
    try:
        record = validate_record(core, catalogue.codes)
    except RecordInvalid as exc:
        errors.update(translate(exc.errors, gettext))
    screened_at: datetime | None = None
    raw_when = data.get("screened_at")
    try:
        screened_at = in_utc(datetime.fromisoformat(str(raw_when))) if raw_when else None
    except ValueError:
        screened_at = None
    if screened_at is None:
        errors["screened_at"] = [gettext("Give the date and time as ISO 8601.")]
    email = data.get("screener")
    if not isinstance(email, str) or not email:
        errors["screener"] = [gettext("This field is required.")]
    else:
        if email.lower() not in users:
            users[email.lower()] = session.exec(
                select(User.id).where(User.email == email.lower())
            ).first()
        if users[email.lower()] is None:
            errors["screener"] = [gettext("No user has this email.")]
    for key in ("consent_referral", "consent_statistics"):
        if not isinstance(data.get(key), bool):
            errors[key] = [gettext("Must be true or false.")]
    code = data.get("case_code")
    if code is not None and (not isinstance(code, str) or not CASE_CODE.match(code)):
        errors["case_code"] = [gettext("A case code has 1 to 40 letters, digits, - or _.")]
    if errors or record is None or screened_at is None:
        return errors
    return ImportLine(
        number=number,
        record=record,
        screened_at=screened_at,
        screener_id=users[str(email).lower()] or 0,
        consent_referral=bool(data["consent_referral"]),
        consent_statistics=bool(data["consent_statistics"]),
        case_code=code,
    )


@cases_cli.command("import")
@click.argument("source", type=click.File("r", encoding="utf-8"))
@click.option("--lang", type=click.Choice(LANGUAGES), default="es", show_default=True)
def import_command(source: TextIO, lang: str) -> None:
    """Store the screening records of a JSON Lines file: all of them, or none."""
    gettext = gettext_for(lang)
    lines = [(n, text) for n, text in enumerate(source.read().splitlines(), 1) if text.strip()]
    database = get_db()
    problems: dict[str, Any] = {}
    parsed: list[ImportLine] = []
    with database.transaction() as session:
        users: dict[str, int | None] = {}
        with click.progressbar(lines, label="Checking", file=sys.stderr) as bar:
            for number, text in bar:
                try:
                    data = json.loads(text)
                except json.JSONDecodeError:
                    problems[f"line {number}"] = {"": [gettext("The input is not valid JSON.")]}
                    continue
                outcome = parse_line(number, data, session, users, gettext)
                if isinstance(outcome, dict):
                    problems[f"line {number}"] = outcome
                else:
                    parsed.append(outcome)
        codes = {line.case_code for line in parsed if line.case_code}
        taken = (
            set(session.exec(select(Case.code).where(col(Case.code).in_(sorted(codes)))).all())
            if codes
            else set()
        )
        for line in parsed:
            if line.case_code in taken:
                problems[f"line {line.number}"] = {
                    "case_code": [gettext("This case code is already in use.")]
                }
        if problems:
            click.echo(json.dumps({"errors": problems}, ensure_ascii=False))
            session.rollback()
            sys.exit(2)
        catalogue = current_catalogue(session)
        cases: dict[str, Case] = {}
        with click.progressbar(parsed, label="Importing", file=sys.stderr) as bar:
            for line in bar:
                existing = cases.get(line.case_code) if line.case_code else None
                case, _s, _r = store_screening(
                    session,
                    line.record,
                    catalogue,
                    screener_id=line.screener_id,
                    details=CaseDetails(line.consent_referral, line.consent_statistics),
                    case=existing,
                    code=line.case_code,
                    screened_at=line.screened_at,
                    lang=lang,
                )
                if line.case_code:
                    cases[line.case_code] = case
    click.echo(f"Imported {len(parsed)} screenings.", err=True)


@cases_cli.command("export-jsonl")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def export_command(out: Path | None) -> None:
    """Write every screening as JSON Lines, oldest first (re-screenings share a case code)."""
    database = get_db()
    target = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        with database.transaction(write=False) as session:
            emails = dict(session.exec(select(User.id, User.email)).all())
            query = (
                select(Screening, Case)
                .join(Case, col(Case.id) == Screening.case_id)
                .order_by(col(Screening.screened_at), col(Screening.id))
                .execution_options(yield_per=1000)
            )
            for screening, case in session.exec(query):
                line = dict(screening.record)
                line["screened_at"] = screening.screened_at.isoformat()
                line["screener"] = emails.get(screening.screener_id)
                line["consent_referral"] = case.consent_referral
                line["consent_statistics"] = case.consent_statistics
                line["case_code"] = case.code
                target.write(json.dumps(line, ensure_ascii=False) + "\n")
    finally:
        if out:
            target.close()
    with database.transaction() as session:  # who ran it is the console: no user
        record_audit(
            session, "export_made", actor_id=None, object_kind="export", object_id="cases:jsonl"
        )


@cases_cli.command("erase")
@click.argument("code")
@click.option(
    "--reason",
    required=True,
    type=click.Choice(lifecycle.ERASURE_REASONS),
    help="Why the case is erased (a code: the audit log keeps codes only).",
)
def erase_command(code: str, reason: str) -> None:
    """Erase one case and everything recorded about it; the audit log keeps its code."""
    with get_db().transaction() as session:
        try:
            erased = lifecycle.erase_by_code(session, code, reason=reason, actor_id=None)
        except lifecycle.LifecycleError:
            click.echo(f"No case has the code {code}.", err=True)
            sys.exit(2)
    click.echo(f"Erased case {erased.code}: {sum(erased.rows.values())} rows.")


retention_cli = AppGroup("retention", help="Erase cases closed longer than the retention period.")


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Only say how many cases are due; change nothing.")
def retention_run(dry_run: bool) -> None:
    """Erase every case closed more than REFERRAL_RETENTION_DAYS ago (idempotent: for cron)."""
    days = int(current_app.config["RETENTION_DAYS"])
    database = get_db()
    with database.transaction(write=not dry_run) as session:
        due = lifecycle.count_due(session, days)
    if dry_run:
        click.echo(f"{due} cases closed more than {days} days ago would be erased.")
        return
    erased = 0
    # One transaction a case: an interrupted run keeps what it did, and the next run goes on.
    for code in codes_due(database, days):
        with database.transaction() as session:
            lifecycle.erase_by_code(
                session, code, reason=lifecycle.ErasureReason.retention, actor_id=None
            )
        erased += 1
    click.echo(f"Erased {erased} cases closed more than {days} days ago.")


def codes_due(database: Any, days: int) -> list[str]:
    with database.transaction(write=False) as session:
        return list(lifecycle.due_for_erasure(session, days))
