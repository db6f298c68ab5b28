"""`flask --app referral users ...`: accounts at the server's console.

Whoever runs these commands has the server's console, so they act as the console
(audit events without a user) and may create the first admin.
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from referral.auth import operations as ops
from referral.auth.models import ROLES
from referral.db import get_db

users_cli = AppGroup("users", help="User accounts and API tokens.")

_ERRORS = {
    "password_length": (
        f"the password must have {ops.PASSWORD_MIN} to {ops.PASSWORD_MAX} characters"
    ),
    "duplicate_email": "a user with this email already exists",
    "last_admin": "this is the last active admin: make another one first",
    "unknown_user": "no active user with this email",
}


def _fail(exc: ops.AccountError) -> None:
    message = _ERRORS.get(exc.code) or f"invalid {exc.detail or 'account data'}"
    if exc.detail == "services":
        message = "a provider needs at least one --service (a directory service id)"
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--state", "states", multiple=True, help="ISO 3166-2:MX code; repeat for several.")
@click.option("--national", is_flag=True, help="Works in every state.")
@click.option(
    "--service",
    "services",
    multiple=True,
    help="A provider's directory service id; repeat for several (providers only).",
)
@click.option("--name", default="", help="Display name.")
@click.option("--lang", type=click.Choice(ops.LANGUAGES), default="es", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_command(
    email: str,
    role: str,
    states: tuple[str, ...],
    national: bool,
    services: tuple[str, ...],
    name: str,
    lang: str,
    password_stdin: bool,
) -> None:
    """Create a user (the first admin too) and print their email and role."""
    password = _read_password(password_stdin)
    data = ops.AccountData(
        email=email,
        role=role,
        states=list(states),
        national=national,
        display_name=name,
        language=lang,
        services=list(services),
    )
    try:
        with get_db().transaction() as session:
            user = ops.create_user(session, data, password, actor_id=None)
    except ops.AccountError as exc:
        _fail(exc)
    click.echo(f"{user.email} {user.role}")


@users_cli.command("list")
def list_command() -> None:
    """Print every user: email, role, states, language, active or not."""
    with get_db().transaction(write=False) as session:
        users = list(ops.users_in_order(session))
    for user in users:
        states = ",".join(user.state_codes())
        status = "active" if user.active else "inactive"
        click.echo(f"{user.email}\t{user.role}\t{states}\t{user.language}\t{status}")


def _user_or_fail(session: object, email: str) -> ops.User:
    user = ops.user_by_email(session, email)  # type: ignore[arg-type]
    if user is None:
        click.echo(f"Error: no user with the email {email}", err=True)
        sys.exit(2)
    return user


@users_cli.command("deactivate")
@click.argument("email")
def deactivate_command(email: str) -> None:
    """Deactivate a user: ends their sessions and revokes their API tokens."""
    try:
        with get_db().transaction() as session:
            user = _user_or_fail(session, email)
            if user.active:
                ops.deactivate_user(session, user, actor_id=None)
    except ops.AccountError as exc:
        _fail(exc)
    click.echo(f"{email} deactivated", err=True)


@users_cli.command("token")
@click.argument("email")
def token_command(email: str) -> None:
    """Issue an API token and print it alone (shown once; only its digest is stored)."""
    try:
        with get_db().transaction() as session:
            token = ops.issue_token(session, _user_or_fail(session, email), actor_id=None)
    except ops.AccountError as exc:
        _fail(exc)
    click.echo(token)


@users_cli.command("revoke-token")
@click.argument("email")
def revoke_token_command(email: str) -> None:
    """Revoke every API token of a user."""
    with get_db().transaction() as session:
        count = ops.revoke_tokens(session, _user_or_fail(session, email), actor_id=None)
    click.echo(f"{count} token(s) revoked for {email}", err=True)


@users_cli.command("reset-second-factor")
@click.argument("email")
def reset_second_factor_command(email: str) -> None:
    """Remove a user's second factor (a lost phone, the last admin's too): they set up a new
    one at their next sign-in. Their sessions end."""
    from referral.auth import second_factor

    with get_db().transaction() as session:
        second_factor.reset(session, _user_or_fail(session, email), actor_id=None)
    click.echo(f"{email}: second factor removed; a new one is set up at the next sign-in", err=True)


@users_cli.command("reset-link")
@click.argument("email")
@click.option(
    "--base-url",
    default="",
    help="The address people open Ruta at (https://ruta.example.org); without it, the path.",
)
def reset_link_command(email: str, base_url: str) -> None:
    """Issue a one-time password-reset link and print it alone (it expires after
    RESET_LINK_MINUTES; using it ends the user's sessions and API tokens)."""
    minutes = int(current_app.config["RESET_LINK_MINUTES"])
    try:
        with get_db().transaction() as session:
            token = ops.issue_reset_link(
                session, _user_or_fail(session, email), actor_id=None, minutes=minutes
            )
    except ops.AccountError as exc:
        _fail(exc)
    click.echo(f"{base_url.rstrip('/')}/reset/{token}")
