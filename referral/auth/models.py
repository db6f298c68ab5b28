"""Account tables: users, their server-side sessions, API tokens, setup links, throttling,
recovery codes of the second factor and password-reset links."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from referral.access import ROLES as ROLES  # defined once, where pages are limited to roles
from referral.db import datetime_column, timestamp_column

NATIONAL = "national"


def _user_fk(**kwargs: Any) -> Any:
    return Field(sa_column=Column(Integer, ForeignKey("user_account.id"), **kwargs))


class User(SQLModel, table=True):
    """A person who signs in: a screener, a supervisor, an admin, or a service's provider."""

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    display_name: str = Field(default="", max_length=120)
    role: str = Field(max_length=20)
    # ISO 3166-2:MX codes the person works in; ignored when ``national`` is true.
    states: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    national: bool = Field(default=False)
    language: str = Field(default="es", max_length=5)
    active: bool = Field(default=True)
    password_hash: str = Field(max_length=255)
    created_at: datetime = timestamp_column(nullable=False)
    updated_at: datetime = timestamp_column(nullable=False)
    # The second factor (RFC 6238 TOTP): the shared secret (base32), when it was confirmed,
    # and the last time step accepted, so a code seen over a shoulder cannot be used again.
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_enabled_at: datetime | None = datetime_column(nullable=True)
    totp_last_step: int | None = Field(default=None)

    # Flask-Login's protocol; the server-side session record decides if a session still holds.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def state_codes(self) -> list[str]:
        return [NATIONAL] if self.national else list(self.states)


class ServiceAccount(SQLModel, table=True):
    """A provider account answers for these directory services (and for nothing else)."""

    __tablename__ = "service_account"
    __table_args__ = (Index("ix_service_account_service", "service_id"),)

    user_id: int = Field(sa_column=Column(Integer, ForeignKey("user_account.id"), primary_key=True))
    service_id: str = Field(
        sa_column=Column(String(120), ForeignKey("service.id"), primary_key=True)
    )


class UserSession(SQLModel, table=True):
    """One signed-in browser session; its random id lives in the signed cookie, its hash here."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = _user_fk(nullable=False, index=True)
    created_at: datetime = timestamp_column(nullable=False)
    last_seen_at: datetime = timestamp_column(nullable=False)
    ended_at: datetime | None = datetime_column(nullable=True)
    # Shown to the user on their sessions page, so they recognise (or not) each one.
    user_agent: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=64)


class ApiToken(SQLModel, table=True):
    """A bearer token for the JSON API, stored only as its SHA-256 digest."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = _user_fk(nullable=False, index=True)
    created_at: datetime = timestamp_column(nullable=False)
    revoked_at: datetime | None = datetime_column(nullable=True)


class SetupToken(SQLModel, table=True):
    """A one-time link that lets the first admin be created from the browser."""

    __tablename__ = "setup_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = timestamp_column(nullable=False)
    expires_at: datetime = datetime_column(nullable=False)
    used_at: datetime | None = datetime_column(nullable=True)


class LoginThrottle(SQLModel, table=True):
    """Failed password checks, keyed by a digest: of an account and one client address (that
    pair gets locked), or of an account alone (it gets slowed down). Emails known or not."""

    __tablename__ = "login_throttle"
    __table_args__ = (Index("ix_login_throttle_locked_until", "locked_until"),)

    key_hash: str = Field(primary_key=True, max_length=64)
    failures: int = Field(default=0)
    window_started_at: datetime = timestamp_column(nullable=False)
    locked_until: datetime | None = datetime_column(nullable=True)
    last_failure_at: datetime | None = datetime_column(nullable=True)


class RecoveryCode(SQLModel, table=True):
    """A single-use code that stands in for the second factor, stored as an argon2id hash."""

    __tablename__ = "recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _user_fk(nullable=False, index=True)
    code_hash: str = Field(max_length=255)
    created_at: datetime = timestamp_column(nullable=False)
    used_at: datetime | None = datetime_column(nullable=True)


class PasswordResetToken(SQLModel, table=True):
    """A one-time, expiring link an admin (or the console) gives a user to set a password."""

    __tablename__ = "password_reset_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = _user_fk(nullable=False, index=True)
    created_by: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=True)
    )
    created_at: datetime = timestamp_column(nullable=False)
    expires_at: datetime = datetime_column(nullable=False)
    used_at: datetime | None = datetime_column(nullable=True)
