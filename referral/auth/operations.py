"""Account operations: passwords, sign-in with throttling, sessions, API tokens, setup links,
password-reset links (the second factor: referral.auth.second_factor).

Operations add and flush; the request (or the CLI's transaction) commits. Failures are
typed exceptions that the views turn into messages in the reader's language.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from referral.audit.operations import field_changes, record_audit
from referral.auth.models import (
    NATIONAL,
    ROLES,
    ApiToken,
    LoginThrottle,
    PasswordResetToken,
    ServiceAccount,
    SetupToken,
    User,
    UserSession,
)
from referral.db import utcnow
from referral.directory.models import Service, State
from referral.i18n import LANGUAGES

PASSWORD_MIN = 12
PASSWORD_MAX = 128
API_TOKEN_PREFIX = "ruta_"  # noqa: S105 (a prefix, not a secret)

# --- errors the views translate ------------------------------------------------------


class AccountError(ValueError):
    """Base of the account errors; ``code`` picks the translated message."""

    code = "account_error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.code)
        self.detail = detail


class PasswordLengthError(AccountError):
    code = "password_length"


class InvalidCredentials(AccountError):
    code = "invalid_credentials"


class AccountLocked(AccountError):
    """Too many failures of this account from this client address."""

    code = "account_locked"

    def __init__(self, until: datetime) -> None:
        super().__init__("locked")
        self.until = until


class SignInDelayed(AccountError):
    """Too many failures of this account from anywhere: the next attempt must wait."""

    code = "sign_in_delayed"

    def __init__(self, until: datetime) -> None:
        super().__init__("delayed")
        self.until = until


class DuplicateEmail(AccountError):
    code = "duplicate_email"


class InvalidAccountData(AccountError):
    """Role, states or language not valid; ``detail`` names which."""

    code = "invalid_account_data"


class LastAdmin(AccountError):
    code = "last_admin"


class UnknownUser(AccountError):
    code = "unknown_user"


# --- digests and passwords -------------------------------------------------------------


def digest(secret: str) -> str:
    """SHA-256 of a random, high-entropy secret (tokens, session ids); never of a password."""
    return hashlib.sha256(secret.encode()).hexdigest()


def password_hasher() -> PasswordHasher:
    """argon2id with the configured cost (argon2-cffi's RFC 9106 low-memory profile by default)."""
    config: dict[str, Any] = current_app.config if has_app_context() else {}
    return PasswordHasher(
        time_cost=int(config.get("ARGON2_TIME_COST", 3)),
        memory_cost=int(config.get("ARGON2_MEMORY_COST", 65536)),
        parallelism=int(config.get("ARGON2_PARALLELISM", 4)),
    )


def check_password_length(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise PasswordLengthError()


def hash_password(password: str) -> str:
    check_password_length(password)
    return password_hasher().hash(password)


_DUMMY_HASH: dict[str, str] = {}


def verify_password(user: User | None, password: str) -> bool:
    """Check a password; rehash it when the hasher's parameters changed since it was stored.

    Without a user a dummy hash is checked, so an unknown email takes as long as a known one.
    """
    hasher = password_hasher()
    if user is None:
        key = str(hasher.memory_cost)
        if key not in _DUMMY_HASH:
            _DUMMY_HASH[key] = hasher.hash(secrets.token_hex(16))
        stored = _DUMMY_HASH[key]
    else:
        stored = user.password_hash
    if len(password) > PASSWORD_MAX:
        return False
    try:
        hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if user is None:
        return False
    if hasher.check_needs_rehash(stored):
        user.password_hash = hasher.hash(password)
    return True


# --- throttling ------------------------------------------------------------------------
#
# Two counters per failed password check (docs/security.md, "Guessing passwords"):
# - the pair (account, client address) is locked after LOGIN_MAX_FAILURES failures within
#   the window: a stranger locks only themselves out, never the owner at another address;
# - the account alone counts failures from every address; past LOGIN_MAX_FAILURES, each new
#   attempt must wait a delay that doubles with every failure, up to LOGIN_DELAY_MAX_SECONDS.
#   An attempt made during the delay is refused unchecked and not counted, so nobody can
#   stretch the delay by knocking: it slows a guesser spread over many addresses down
#   without ever shutting the owner out for longer than the maximum delay.


@dataclass(frozen=True)
class ThrottleSettings:
    limit: int
    window: timedelta
    lock: timedelta
    delay: timedelta
    max_delay: timedelta


def _throttle_settings() -> ThrottleSettings:
    config: dict[str, Any] = current_app.config if has_app_context() else {}
    return ThrottleSettings(
        limit=int(config.get("LOGIN_MAX_FAILURES", 5)),
        window=timedelta(minutes=int(config.get("LOGIN_FAILURE_WINDOW_MINUTES", 15))),
        lock=timedelta(minutes=int(config.get("LOGIN_LOCK_MINUTES", 15))),
        delay=timedelta(seconds=int(config.get("LOGIN_DELAY_SECONDS", 1))),
        max_delay=timedelta(seconds=int(config.get("LOGIN_DELAY_MAX_SECONDS", 60))),
    )


def throttle_key(email: str) -> str:
    """The account's own counter (every address)."""
    return digest("login:" + normalize_email(email))


def pair_key(email: str, address: str | None) -> str:
    """The counter of one account from one client address."""
    return digest("login-pair:" + normalize_email(email) + "|" + (address or "unknown"))


def locked_until(
    session: Session, email: str, address: str | None = None, now: datetime | None = None
) -> datetime | None:
    """When the lock of this account from this address ends, if it is locked now."""
    now = now or utcnow()
    row = session.get(LoginThrottle, pair_key(email, address))
    until = row.locked_until if row else None
    return until if until and until > now else None


def delayed_until(session: Session, email: str, now: datetime | None = None) -> datetime | None:
    """When the account takes its next attempt, if it is slowed down now."""
    now = now or utcnow()
    settings = _throttle_settings()
    row = session.get(LoginThrottle, throttle_key(email))
    last = row.last_failure_at if row else None
    if row is None or last is None or row.failures < settings.limit:
        return None
    steps = min(row.failures - settings.limit, 30)  # 2**30 s is past any maximum
    wait = min(settings.delay * (2**steps), settings.max_delay)
    until = last + wait
    return until if until > now else None


def _pair_failure(session: Session, key: str, now: datetime, settings: ThrottleSettings) -> Any:
    row = session.get(LoginThrottle, key)
    if row is None:
        row = LoginThrottle(key_hash=key, failures=0, window_started_at=now)
        session.add(row)
    started = row.window_started_at
    if now - started > settings.window:
        row.failures, row.window_started_at, row.locked_until = 0, now, None
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= settings.limit:
        row.locked_until = now + settings.lock
        row.failures, row.window_started_at = 0, now
    return row


def _account_failure(session: Session, key: str, now: datetime, settings: ThrottleSettings) -> None:
    row = session.get(LoginThrottle, key)
    if row is None:
        row = LoginThrottle(key_hash=key, failures=0, window_started_at=now)
        session.add(row)
    last = row.last_failure_at
    if last is None or now - last > settings.window:  # a quiet window forgets the failures
        row.failures, row.window_started_at = 0, now
    row.failures += 1
    row.last_failure_at = now


def record_failure(
    session: Session, email: str, address: str | None = None, now: datetime | None = None
) -> datetime | None:
    """Count one failed password check; returns the pair's lock end when it locks now."""
    now = now or utcnow()
    settings = _throttle_settings()
    pair = _pair_failure(session, pair_key(email, address), now, settings)
    _account_failure(session, throttle_key(email), now, settings)
    session.flush()
    return pair.locked_until


def clear_failures(session: Session, email: str, address: str | None = None) -> None:
    """A right password from this address: this pair starts afresh (the account's count of
    failures elsewhere decays with its window, so a guesser gains nothing by the owner's
    sign-in)."""
    row = session.get(LoginThrottle, pair_key(email, address))
    if row is not None:
        session.delete(row)
        session.flush()


# --- users -----------------------------------------------------------------------------


def normalize_email(email: str) -> str:
    return email.strip().lower()


def user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalize_email(email))).first()


def known_state_codes(session: Session) -> set[str]:
    return set(session.exec(select(State.code)).all())


@dataclass
class AccountData:
    """Validated input for creating or changing a user (from a form or the CLI)."""

    email: str
    role: str
    states: list[str]
    national: bool
    display_name: str = ""
    language: str = "es"
    active: bool = True
    # A provider's directory services (ids); providers have no states.
    services: list[str] = field(default_factory=list)


PROVIDER = "provider"


def account_services(session: Session, user_id: int | None) -> list[str]:
    """The directory services a provider account answers for, sorted."""
    if user_id is None:
        return []
    rows = session.exec(
        select(ServiceAccount.service_id)
        .where(ServiceAccount.user_id == user_id)
        .order_by(col(ServiceAccount.service_id))
    ).all()
    return list(rows)


def _check_services(session: Session, data: AccountData) -> list[str]:
    services = list(dict.fromkeys(s.strip() for s in data.services if s.strip()))
    if data.role != PROVIDER:
        return []
    if not services:
        raise InvalidAccountData("services")
    known = set(session.exec(select(Service.id).where(col(Service.id).in_(services))).all())
    unknown = sorted(set(services) - known)
    if unknown:
        raise InvalidAccountData("services:" + ",".join(unknown))
    return services


def _set_services(session: Session, user: User, services: list[str]) -> bool:
    """Attach the account to exactly these services; whether anything changed."""
    current = set(account_services(session, user.id))
    if current == set(services):
        return False
    for row in session.exec(select(ServiceAccount).where(ServiceAccount.user_id == user.id)).all():
        if row.service_id not in services:
            session.delete(row)
    for service_id in services:
        if service_id not in current:
            session.add(ServiceAccount(user_id=_id(user), service_id=service_id))
    session.flush()
    return True


def _check_account_data(session: Session, data: AccountData) -> tuple[list[str], bool]:
    if data.role not in ROLES:
        raise InvalidAccountData("role")
    if data.language not in LANGUAGES:
        raise InvalidAccountData("language")
    email = normalize_email(data.email)
    if "@" not in email or len(email) > 254 or any(ch.isspace() for ch in email):
        raise InvalidAccountData("email")
    if data.role == PROVIDER:  # answers for its services, wherever they are
        return [], False
    states = [code for code in dict.fromkeys(data.states) if code != NATIONAL]
    national = data.national or NATIONAL in data.states
    unknown = sorted(set(states) - known_state_codes(session))
    if unknown:
        raise InvalidAccountData("states:" + ",".join(unknown))
    if national:
        states = []
    if not states and not national:
        if data.role != "admin":
            raise InvalidAccountData("states")
        national = True
    return states, national


def create_user(
    session: Session, data: AccountData, password: str, *, actor_id: int | None
) -> User:
    states, national = _check_account_data(session, data)
    services = _check_services(session, data)
    if user_by_email(session, data.email) is not None:
        raise DuplicateEmail()
    user = User(
        email=normalize_email(data.email),
        display_name=data.display_name.strip()[:120],
        role=data.role,
        states=states,
        national=national,
        language=data.language,
        active=data.active,
        password_hash=hash_password(password),
    )
    session.add(user)
    session.flush()
    _set_services(session, user, services)
    record_audit(
        session,
        "user_created",
        actor_id=actor_id,
        object_kind="user",
        object_id=user.id,
        changes=field_changes({}, _user_fields(user), names_only=_USER_FREE_TEXT),
    )
    return user


# The display name is free text: the log keeps that it changed, not what it says.
_USER_FREE_TEXT = ("display_name",)


def _user_fields(user: User) -> dict[str, object]:
    """The fields an administrator edits, as the audit log compares them."""
    return {
        "role": user.role,
        "states": sorted(user.states),
        "national": user.national,
        "language": user.language,
        "display_name": user.display_name,
        "active": user.active,
    }


def active_admin_count(session: Session) -> int:
    query = select(func.count()).select_from(User).where(User.role == "admin", User.active)
    return int(session.exec(query).one())


def admin_exists(session: Session) -> bool:
    return active_admin_count(session) > 0


def update_user(session: Session, user: User, data: AccountData, *, actor_id: int | None) -> User:
    """Change role, states, language, name or active flag; deactivation ends every session."""
    states, national = _check_account_data(session, data)
    services = _check_services(session, data)
    was_admin = user.role == "admin" and user.active
    stays_admin = data.role == "admin" and data.active
    if was_admin and not stays_admin and active_admin_count(session) <= 1:
        raise LastAdmin()
    before = _user_fields(user)
    changed = (
        user.role != data.role
        or list(user.states) != states
        or user.national != national
        or user.language != data.language
        or user.display_name != data.display_name.strip()[:120]
    )
    changed = _set_services(session, user, services) or changed
    user.role, user.states, user.national = data.role, states, national
    user.language, user.display_name = data.language, data.display_name.strip()[:120]
    if changed:
        user.updated_at = utcnow()
        after = {**_user_fields(user), "active": before["active"]}
        record_audit(
            session,
            "user_changed",
            actor_id=actor_id,
            object_kind="user",
            object_id=user.id,
            changes=field_changes(before, after, names_only=_USER_FREE_TEXT),
        )
    if user.active and not data.active:
        deactivate_user(session, user, actor_id=actor_id)
    elif not user.active and data.active:
        user.active = True
        user.updated_at = utcnow()
        record_audit(
            session,
            "user_changed",
            actor_id=actor_id,
            object_kind="user",
            object_id=user.id,
            changes={"active": [False, True]},
        )
    session.flush()
    return user


def deactivate_user(session: Session, user: User, *, actor_id: int | None) -> None:
    """Deactivate, end every session and revoke every API token of this user."""
    if user.role == "admin" and user.active and active_admin_count(session) <= 1:
        raise LastAdmin()
    was_active = user.active
    user.active = False
    user.updated_at = utcnow()
    end_all_sessions(session, user.id)
    revoke_tokens(session, user, actor_id=actor_id)
    record_audit(
        session,
        "user_deactivated",
        actor_id=actor_id,
        object_kind="user",
        object_id=user.id,
        changes=field_changes({"active": was_active}, {"active": False}) or None,
    )
    session.flush()


def change_password(
    session: Session,
    user: User,
    current: str,
    new: str,
    *,
    keep_session: str | None = None,
    address: str | None = None,
) -> None:
    """Change one's own password; every other session of the user ends.

    A wrong current password counts like a failed sign-in (someone holding a session is
    guessing it): audited, locking this address and slowing the account down the same way.
    """
    check_throttle(session, user.email, address, user)
    if not verify_password(user, current):
        lock = record_failure(session, user.email, address)
        _audit_user(session, "password_check_failed", user)
        if lock is not None:
            raise AccountLocked(lock)
        raise InvalidCredentials()
    clear_failures(session, user.email, address)
    user.password_hash = hash_password(new)
    user.updated_at = utcnow()
    end_all_sessions(session, user.id, keep=keep_session)
    record_audit(
        session, "password_changed", actor_id=user.id, object_kind="user", object_id=user.id
    )


def set_language(session: Session, user: User, language: str) -> None:
    if language not in LANGUAGES:
        raise InvalidAccountData("language")
    if user.language != language:
        changes = {"language": [user.language, language]}
        user.language = language
        user.updated_at = utcnow()
        record_audit(
            session,
            "user_changed",
            actor_id=user.id,
            object_kind="user",
            object_id=user.id,
            changes=changes,
        )
    session.flush()


def _id(user: User) -> int:
    assert user.id is not None, "the user is flushed before anything refers to it"
    return user.id


# --- sign-in and sessions --------------------------------------------------------------


def authenticate(session: Session, email: str, password: str, address: str | None = None) -> User:
    """The active user with this email and password, or a typed error; audits every outcome.

    Failures lock the pair (account, ``address``) and slow the account down (see
    "throttling" above); never everyone, and never the account from every address.
    """
    user = user_by_email(session, email)
    check_throttle(session, email, address, user)
    if not verify_password(user, password) or user is None or not user.active:
        lock = record_failure(session, email, address)
        _audit_user(session, "sign_in_failed", user)
        if lock is not None:
            raise AccountLocked(lock)
        raise InvalidCredentials()
    clear_failures(session, email, address)
    return user


def _audit_user(session: Session, action: str, user: User | None) -> None:
    user_id = user.id if user else None
    record_audit(
        session,
        action,
        actor_id=user_id,
        object_kind="user" if user else None,
        object_id=user_id,
    )


def check_throttle(
    session: Session, email: str, address: str | None, user: User | None = None
) -> None:
    """Raise AccountLocked or SignInDelayed (audited) before any password is checked."""
    until = locked_until(session, email, address)
    if until is not None:
        _audit_user(session, "sign_in_locked", user)
        raise AccountLocked(until)
    wait = delayed_until(session, email)
    if wait is not None:
        _audit_user(session, "sign_in_delayed", user)
        raise SignInDelayed(wait)


def start_session(
    session: Session, user: User, *, user_agent: str | None = None, address: str | None = None
) -> str:
    """A new server-side session for this user; returns the random id for the cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        UserSession(
            token_hash=digest(token),
            user_id=_id(user),
            created_at=now,
            last_seen_at=now,
            user_agent=(user_agent or "")[:200] or None,
            address=(address or "")[:64] or None,
        )
    )
    session.flush()
    return token


def live_sessions(session: Session, user: User, now: datetime | None = None) -> list[UserSession]:
    """The user's sessions that still hold (not ended, idled out or too old), newest first."""
    now = now or utcnow()
    idle, maximum = session_limits()
    rows = session.exec(
        select(UserSession)
        .where(UserSession.user_id == user.id, col(UserSession.ended_at).is_(None))
        .order_by(col(UserSession.last_seen_at).desc())
    ).all()
    return [
        row for row in rows if now - row.last_seen_at <= idle and now - row.created_at <= maximum
    ]


def end_own_session(session: Session, user: User, session_id: int) -> bool:
    """End one of the user's own sessions (from their sessions page); False if not theirs."""
    row = session.get(UserSession, session_id)
    if row is None or row.user_id != user.id or row.ended_at is not None:
        return False
    row.ended_at = utcnow()
    record_audit(session, "session_ended", actor_id=user.id, object_kind="user", object_id=user.id)
    session.flush()
    return True


def end_other_sessions(session: Session, user: User, keep: str | None) -> None:
    end_all_sessions(session, user.id, keep=keep)
    record_audit(session, "session_ended", actor_id=user.id, object_kind="user", object_id=user.id)


def end_session(session: Session, token: str | None) -> None:
    if not token:
        return
    session.exec(
        update(UserSession)
        .where(col(UserSession.token_hash) == digest(token), col(UserSession.ended_at).is_(None))
        .values(ended_at=utcnow())
    )


def end_all_sessions(session: Session, user_id: int | None, keep: str | None = None) -> None:
    statement = update(UserSession).where(
        col(UserSession.user_id) == user_id,
        col(UserSession.ended_at).is_(None),
    )
    if keep:
        statement = statement.where(col(UserSession.token_hash) != digest(keep))
    session.exec(statement.values(ended_at=utcnow()))


def session_limits() -> tuple[timedelta, timedelta]:
    config = current_app.config
    return (
        timedelta(minutes=int(config["SESSION_IDLE_MINUTES"])),
        timedelta(hours=int(config["SESSION_MAX_HOURS"])),
    )


def live_session(
    session: Session, token: str | None, now: datetime | None = None
) -> UserSession | None:
    """The session record for this cookie id if it has not ended, idled out or grown too old."""
    found = live_session_user(session, token, now)
    return found[0] if found else None


def live_session_user(
    session: Session, token: str | None, now: datetime | None = None
) -> tuple[UserSession, User] | None:
    """The live session record for this cookie id and its user, in one query (it runs on
    every signed-in request)."""
    if not token:
        return None
    now = now or utcnow()
    found = session.exec(
        select(UserSession, User)
        .join(User, col(User.id) == UserSession.user_id)
        .where(UserSession.token_hash == digest(token))
    ).first()
    if found is None:
        return None
    record, user = found
    if record.ended_at is not None:
        return None
    idle, maximum = session_limits()
    if now - record.last_seen_at > idle or now - record.created_at > maximum:
        return None
    return record, user


# --- API tokens --------------------------------------------------------------------------


def issue_token(session: Session, user: User, *, actor_id: int | None) -> str:
    """A new API token for this user: returned once, stored only as a digest."""
    if not user.active:
        raise UnknownUser()
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(token_hash=digest(token), user_id=_id(user)))
    session.flush()
    record_audit(session, "token_issued", actor_id=actor_id, object_kind="user", object_id=user.id)
    return token


def revoke_tokens(session: Session, user: User, *, actor_id: int | None) -> int:
    tokens = session.exec(
        select(ApiToken).where(ApiToken.user_id == user.id, col(ApiToken.revoked_at).is_(None))
    ).all()
    now = utcnow()
    for token in tokens:
        token.revoked_at = now
    if tokens:
        record_audit(
            session, "token_revoked", actor_id=actor_id, object_kind="user", object_id=user.id
        )
    session.flush()
    return len(tokens)


def user_for_token(session: Session, token: str | None) -> User | None:
    """The active user holding this bearer token, or None."""
    if not token or not token.startswith(API_TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.exec(
        select(ApiToken).where(
            ApiToken.token_hash == digest(token), col(ApiToken.revoked_at).is_(None)
        )
    ).first()
    if row is None:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


# --- first-run setup -----------------------------------------------------------------------


def issue_setup_token(session: Session, minutes: int, now: datetime | None = None) -> str:
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        SetupToken(
            token_hash=digest(token), created_at=now, expires_at=now + timedelta(minutes=minutes)
        )
    )
    session.flush()
    record_audit(session, "setup_link_issued", actor_id=None)
    return token


def valid_setup_token(
    session: Session, token: str | None, now: datetime | None = None
) -> SetupToken | None:
    """The unused, unexpired setup token, while no active admin exists."""
    if not token or len(token) > 100:
        return None
    now = now or utcnow()
    row = session.exec(select(SetupToken).where(SetupToken.token_hash == digest(token))).first()
    if row is None or row.used_at is not None:
        return None
    if row.expires_at <= now or admin_exists(session):
        return None
    return row


def complete_setup(
    session: Session, token_row: SetupToken, data: AccountData, password: str
) -> User:
    """Create the first admin with a setup token; the token (and every other) is spent."""
    data.role, data.national, data.states = "admin", True, []
    user = create_user(session, data, password, actor_id=None)
    now = utcnow()
    session.exec(update(SetupToken).where(col(SetupToken.used_at).is_(None)).values(used_at=now))
    token_row.used_at = now
    session.flush()
    return user


# --- password-reset links ------------------------------------------------------------------


def issue_reset_link(
    session: Session, user: User, *, actor_id: int | None, minutes: int, now: datetime | None = None
) -> str:
    """A one-time link for this user to set a new password; returns its token (shown once)."""
    if not user.active:
        raise UnknownUser()
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordResetToken(
            token_hash=digest(token),
            user_id=_id(user),
            created_by=actor_id,
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
    )
    session.flush()
    record_audit(
        session, "reset_link_issued", actor_id=actor_id, object_kind="user", object_id=user.id
    )
    return token


def valid_reset_token(
    session: Session, token: str | None, now: datetime | None = None
) -> tuple[PasswordResetToken, User] | None:
    """The unused, unexpired reset link with this token and its active user, or None."""
    if not token or len(token) > 100:
        return None
    now = now or utcnow()
    row = session.exec(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == digest(token))
    ).first()
    if row is None or row.used_at is not None:
        return None
    if row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return row, user


def reset_password(session: Session, row: PasswordResetToken, user: User, password: str) -> None:
    """Set the new password; the link (and every other of the user's) is spent, and every
    session and API token of the user ends: whoever held them must sign in again."""
    user.password_hash = hash_password(password)
    user.updated_at = utcnow()
    now = utcnow()
    session.exec(
        update(PasswordResetToken)
        .where(
            col(PasswordResetToken.user_id) == user.id,
            col(PasswordResetToken.used_at).is_(None),
        )
        .values(used_at=now)
    )
    row.used_at = now
    end_all_sessions(session, user.id)
    revoke_tokens(session, user, actor_id=user.id)
    clear_account_failures(session, user.email)
    record_audit(session, "password_reset", actor_id=user.id, object_kind="user", object_id=user.id)
    session.flush()


def clear_account_failures(session: Session, email: str) -> None:
    """The account's own counter starts afresh (a new password makes old guesses moot)."""
    row = session.get(LoginThrottle, throttle_key(email))
    if row is not None:
        session.delete(row)
        session.flush()


def users_in_order(session: Session) -> Iterable[User]:
    return session.exec(select(User).order_by(User.email)).all()
