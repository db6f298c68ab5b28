"""Configuration: defaults here, then ``instance/config.py``, then ``REFERRAL_*`` variables
(``app.config.from_prefixed_env``: any Flask setting, JSON values; README's settings typed).

Nothing is read at import time; :func:`load_config` runs inside the app factory.
"""

from __future__ import annotations

import os
import secrets
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask


class ConfigurationError(RuntimeError):
    """The app cannot start with this configuration; the message says what to set."""


LANGUAGES = ("es", "en")  # each has a catalog in translations/; the first is the default
TIMEZONE = "America/Mexico_City"  # the days, months and years people type and read

DEFAULTS: dict[str, Any] = {
    "ENV": "development",  # development | production
    "DATABASE_URL": None,  # None: sqlite in instance/referral.db
    "SECRET_KEY": None,
    "AUTO_SETUP": True,  # migrate and seed an empty database at start
    "SEEDS_DIR": None,  # None: the packaged seeds (referral/seeds/data; seeds/ links there)
    "LANGUAGES": LANGUAGES,
    "BABEL_DEFAULT_LOCALE": LANGUAGES[0],
    "BABEL_DEFAULT_TIMEZONE": TIMEZONE,
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_MAX_HOURS": 12,
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
    "REFERRAL_STALE_DAYS": 7,
    "REFERRAL_ANSWER_LINK_DAYS": 14,  # a service's answer link expires after this
    "ANSWER_LINK_RATE_LIMIT": "30 per hour",  # per address, on answer-link pages
    "RETENTION_DAYS": 1826,  # closed cases are erased this long after closing (5 years)
    "WTF_CSRF_TIME_LIMIT": None,  # the session's own lifetime bounds the token
    "SQLITE_BUSY_TIMEOUT": 30,
    "SETUP_LINK_MINUTES": 60,  # the first-run setup link expires after this
    # Failed sign-ins of one account from one client address lock that pair (never the account
    # everywhere: a stranger must not keep the owner out); past the same number, counted from
    # every address, each attempt on the account waits a delay that doubles up to a maximum.
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_FAILURE_WINDOW_MINUTES": 15,
    "LOGIN_LOCK_MINUTES": 15,
    "LOGIN_DELAY_SECONDS": 1,
    "LOGIN_DELAY_MAX_SECONDS": 60,
    "TRUSTED_PROXIES": 0,  # proxies in front that set X-Forwarded-For (the client's address)
    "SIGN_IN_RATE_LIMIT": "30 per minute;300 per hour",  # per client address (Flask-Limiter)
    "RATELIMIT_STORAGE_URI": "memory://",  # one process; several workers share e.g. redis://
    "RATELIMIT_HEADERS_ENABLED": True,
    "HSTS_SECONDS": 31_536_000,  # Strict-Transport-Security in production (a year)
    "SECOND_FACTOR": "privileged",  # privileged | all | none (see SECOND_FACTOR_MODES)
    "RESET_LINK_MINUTES": 1440,  # an admin's password-reset link expires after this
    "ARGON2_TIME_COST": 3,  # changing these rehashes each password at its next sign-in
    "ARGON2_MEMORY_COST": 65536,  # KiB
    "ARGON2_PARALLELISM": 4,
    # Mail (issue 14): no host -> messages wait in the outbox (docs/notifications.md).
    "SMTP_HOST": None,
    "SMTP_PORT": 587,
    "SMTP_TLS": "starttls",  # starttls | ssl | none (see SMTP_TLS_MODES)
    "SMTP_USER": None,
    "SMTP_PASSWORD": None,
    "SMTP_TIMEOUT": 10,  # seconds a send may wait on the mail server
    "MAIL_SENDER": "ruta@localhost",
    "PUBLIC_URL": None,  # the address links in mail start with (e.g. https://ruta.mx)
    "OUTBOX_KEEP_DAYS": 7,  # a sent or given-up message's text is cleared after this
    # The clocks (issue 14): when a referral's answer is due, when an open child-protection
    # notice goes to the supervisors, how many days before a reflection period ends to remind.
    "ANSWER_DUE_HOURS": 48,
    "CHILD_NOTICE_ESCALATE_HOURS": 24,
    "REFLECTION_REMINDER_DAYS": 5,
}

# Who must sign in with a second factor: supervisors and admins, everyone, or nobody (a demo).
SECOND_FACTOR_MODES = ("privileged", "all", "none")

ENV_PREFIX = "REFERRAL"
# The settings documented in README, with their types: their REFERRAL_ variables are checked
# at start. from_prefixed_env decodes values as JSON ("30" -> 30, "true" -> True); these are
# read from the text as typed instead, so "yes" means true and an all-digit secret key stays
# text. An empty variable counts as not set.
ENV_TYPES: dict[str, type] = {
    "ENV": str,
    "DATABASE_URL": str,
    "SECRET_KEY": str,
    "AUTO_SETUP": bool,
    "SEEDS_DIR": str,
    "MAX_CONTENT_LENGTH": int,
    "SESSION_IDLE_MINUTES": int,
    "SESSION_MAX_HOURS": int,
    "REFERRAL_STALE_DAYS": int,
    "REFERRAL_ANSWER_LINK_DAYS": int,
    "ANSWER_LINK_RATE_LIMIT": str,
    "RETENTION_DAYS": int,
    "SQLITE_BUSY_TIMEOUT": int,
    "SETUP_LINK_MINUTES": int,
    "LOGIN_MAX_FAILURES": int,
    "LOGIN_FAILURE_WINDOW_MINUTES": int,
    "LOGIN_LOCK_MINUTES": int,
    "LOGIN_DELAY_SECONDS": int,
    "LOGIN_DELAY_MAX_SECONDS": int,
    "TRUSTED_PROXIES": int,
    "SIGN_IN_RATE_LIMIT": str,
    "RATELIMIT_STORAGE_URI": str,
    "HSTS_SECONDS": int,
    "SECOND_FACTOR": str,
    "RESET_LINK_MINUTES": int,
    "ARGON2_TIME_COST": int,
    "ARGON2_MEMORY_COST": int,
    "ARGON2_PARALLELISM": int,
    "SMTP_HOST": str,
    "SMTP_PORT": int,
    "SMTP_TLS": str,
    "SMTP_USER": str,
    "SMTP_PASSWORD": str,
    "SMTP_TIMEOUT": int,
    "MAIL_SENDER": str,
    "PUBLIC_URL": str,
    "OUTBOX_KEEP_DAYS": int,
    "ANSWER_DUE_HOURS": int,
    "CHILD_NOTICE_ESCALATE_HOURS": int,
    "REFLECTION_REMINDER_DAYS": int,
}

# How the connection to the mail server is protected: STARTTLS on the submission port, TLS
# from the first byte (port 465), or none (a relay on the same host only).
SMTP_TLS_MODES = ("starttls", "ssl", "none")


def _typed(variable: str, raw: str, kind: type) -> Any:
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigurationError(f"{variable} must be true or false, not {raw!r}")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigurationError(f"{variable} must be a whole number") from None
    return raw


def load_environment(app: Flask) -> None:
    """Every ``REFERRAL_<NAME>`` variable into ``app.config[NAME]``; typed settings checked."""
    before = {name: app.config.get(name) for name in ENV_TYPES}
    try:
        app.config.from_prefixed_env(ENV_PREFIX)
    except TypeError:  # REFERRAL_A__B names a key inside A, and A is not a table
        nested = sorted(k for k in os.environ if k.startswith(ENV_PREFIX + "_") and "__" in k)
        raise ConfigurationError(
            f"{', '.join(nested)}: a name with __ sets a key inside a setting that is not a table"
        ) from None
    for name, kind in ENV_TYPES.items():
        variable = f"{ENV_PREFIX}_{name}"
        raw = os.environ.get(variable)
        if raw is not None:
            app.config[name] = before[name] if raw == "" else _typed(variable, raw, kind)


def load_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    load_environment(app)
    if overrides:
        app.config.update(overrides)

    if app.config["ENV"] not in {"development", "production"}:
        raise ConfigurationError("REFERRAL_ENV must be development or production")
    production = app.config["ENV"] == "production"
    if app.config["SECOND_FACTOR"] not in SECOND_FACTOR_MODES:
        raise ConfigurationError("REFERRAL_SECOND_FACTOR must be privileged, all or none")
    testing = bool(app.config.get("TESTING") or app.config.get("DEBUG"))
    if app.config["SECOND_FACTOR"] == "none" and production and not testing:
        raise ConfigurationError(
            "REFERRAL_SECOND_FACTOR=none is for a local demonstration: production refuses to "
            "start without a second factor for supervisors and administrators."
        )
    if app.config["RETENTION_DAYS"] < 1:
        raise ConfigurationError("REFERRAL_RETENTION_DAYS is a number of days: 1 or more")
    if app.config["SMTP_TLS"] not in SMTP_TLS_MODES:
        raise ConfigurationError("REFERRAL_SMTP_TLS must be starttls, ssl or none")
    for name in (
        "ANSWER_DUE_HOURS",
        "CHILD_NOTICE_ESCALATE_HOURS",
        "REFLECTION_REMINDER_DAYS",
    ):
        if app.config[name] < 0:
            raise ConfigurationError(f"REFERRAL_{name} must be 0 or more")
    if app.config["TRUSTED_PROXIES"] < 0:
        raise ConfigurationError("REFERRAL_TRUSTED_PROXIES is a number of proxies: 0 or more")
    app.config["SESSION_COOKIE_SECURE"] = production
    app.config["REMEMBER_COOKIE_SECURE"] = production
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["SESSION_MAX_HOURS"])
    if not app.config.get("SECRET_KEY"):
        if production:
            raise ConfigurationError(
                "REFERRAL_SECRET_KEY is not set: production refuses to start without a secret key."
            )
        app.config["SECRET_KEY"] = development_secret_key(Path(app.instance_path))
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = "sqlite:///" + str(Path(app.instance_path) / "referral.db")


def development_secret_key(instance: Path) -> str:
    """A random key made once and kept in ``instance/secret_key``.

    Created with O_EXCL so two workers starting at once agree on the first one written.
    """
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # the other worker may still be writing it
            key = path.read_text().strip()
            if key:
                return key
            time.sleep(0.05)
        raise ConfigurationError(f"{path} is empty: delete it and start again") from None
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
