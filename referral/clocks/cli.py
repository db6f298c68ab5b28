"""``flask --app referral clocks run``: mail whatever the clocks say is due, once, and retry
the outbox. For cron or a systemd timer (README); running it twice sends nothing twice."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from referral.clocks import operations

clocks_cli = AppGroup("clocks", help="The deadlines the law and good practice set.")


@clocks_cli.command("run")
def run() -> None:
    """Put every due reminder, escalation and digest in the outbox, send the outbox, and clear
    the text of messages sent more than REFERRAL_OUTBOX_KEEP_DAYS ago."""
    report = operations.run_clocks(current_app)
    click.echo(
        f"child-protection notices escalated: {report.escalated}, reflection reminders: "
        f"{report.reminded}, digests: {report.digests}; sent: {report.sent}, "
        f"not sent: {report.failed}; old message texts cleared: {report.cleared}"
    )
