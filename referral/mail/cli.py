"""``flask --app referral mail status|send``: the outbox from the console (counts only)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from referral.db import get_db
from referral.mail import sending

mail_cli = AppGroup("mail", help="The outbox of e-mail messages.")


@mail_cli.command("status")
def status() -> None:
    """How many messages wait, were sent or were given up."""
    with get_db().transaction(write=False) as session:
        counts = sending.counts(session, current_app)
    click.echo(
        f"waiting: {counts.waiting} (retrying: {counts.retrying}), sent: {counts.sent}, "
        f"given up: {counts.given_up}"
    )
    if not counts.configured:
        click.echo("No mail server is set (REFERRAL_SMTP_HOST): messages wait in the outbox.")


@mail_cli.command("send")
def send() -> None:
    """Send the messages that are due now."""
    if not sending.configured(current_app):
        raise click.ClickException(
            "No mail server is set (REFERRAL_SMTP_HOST): messages wait in the outbox."
        )
    report = sending.send_waiting(current_app)
    click.echo(f"sent: {report.sent}, failed: {report.failed}, given up: {report.given_up}")
