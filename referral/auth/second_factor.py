"""The second factor: time-based one-time passwords (RFC 6238, with pyotp) and ten single-use
recovery codes stored as argon2id hashes, like passwords.

Who is asked (``SECOND_FACTOR``): ``privileged`` (the default) asks supervisors and admins,
and anyone else who chose to enrol; ``all`` asks everyone; ``none`` asks nobody (a local
demonstration: production refuses to start with it, referral/config.py).

A wrong code counts like a wrong password (referral.auth.operations, "throttling"): it locks
the pair (account, client address) and slows the account down. Every step is audited.
Operations add and flush; the request or the console's transaction commits.
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import datetime

import pyotp
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from sqlmodel import Session, col, select

from referral.audit.operations import record_audit
from referral.auth import operations as ops
from referral.auth.models import RecoveryCode, User

ISSUER = "Ruta"
PRIVILEGED_ROLES = ("supervisor", "admin")
RECOVERY_CODE_COUNT = 10
STEP_SECONDS = 30  # RFC 6238's time step
CLOCK_DRIFT_STEPS = 1  # a code of the step before or after is taken (a phone's clock drifts)
TOTP_CODE = re.compile(r"^\d{6}$")


class InvalidCode(ops.AccountError):
    """The code is neither the current one-time password nor an unused recovery code."""

    code = "invalid_code"


class NotEnrolled(ops.AccountError):
    code = "not_enrolled"


class SecondFactorRequired(ops.AccountError):
    """This role must keep a second factor: it cannot be turned off."""

    code = "second_factor_required"


# --- who is asked -----------------------------------------------------------------------------


def mode() -> str:
    return str(current_app.config["SECOND_FACTOR"])


def required(user: User) -> bool:
    """This user must have a second factor to sign in."""
    setting = mode()
    if setting == "none":
        return False
    return setting == "all" or user.role in PRIVILEGED_ROLES


def enrolled(user: User) -> bool:
    return bool(user.totp_secret) and user.totp_enabled_at is not None


def asked(user: User) -> bool:
    """Sign-in asks this user for a code (or to enrol first) after the password."""
    return mode() != "none" and (required(user) or enrolled(user))


# --- codes ------------------------------------------------------------------------------------


def new_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_code(uri: str) -> str:
    """The enrolment QR code drawn on the server, as an SVG data URI for an <img>."""
    import segno  # only the enrolment page draws a QR code

    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def matching_step(secret: str, code: str, now: datetime | None = None) -> int | None:
    """The time step whose code this is (within the clock drift), or None."""
    code = normalize(code)
    if not TOTP_CODE.match(code):
        return None
    moment = int((now or ops.utcnow()).timestamp())
    totp = pyotp.TOTP(secret)
    current = moment // STEP_SECONDS
    for offset in range(-CLOCK_DRIFT_STEPS, CLOCK_DRIFT_STEPS + 1):
        step = current + offset
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def normalize(code: str) -> str:
    """What was typed, without spaces or dashes, in lowercase."""
    return re.sub(r"[\s-]", "", code or "").lower()[:64]


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    """Ten fresh recovery codes (shown once); any earlier ones stop working."""
    _delete_recovery_codes(session, user)
    hasher = ops.password_hasher()
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)  # 40 bits each; guessing is throttled like passwords
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(user_id=ops._id(user), code_hash=hasher.hash(raw)))
    session.flush()
    return codes


def _use_recovery_code(session: Session, user: User, code: str) -> bool:
    typed = normalize(code)
    if not re.fullmatch(r"[0-9a-f]{10}", typed):
        return False
    hasher = ops.password_hasher()
    unused = session.exec(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, col(RecoveryCode.used_at).is_(None)
        )
    ).all()
    for row in unused:
        try:
            hasher.verify(row.code_hash, typed)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            continue
        row.used_at = ops.utcnow()
        session.flush()
        return True
    return False


def recovery_codes_left(session: Session, user: User) -> int:
    rows = session.exec(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id, col(RecoveryCode.used_at).is_(None)
        )
    ).all()
    return len(rows)


# --- enrolment, use, removal -------------------------------------------------------------------


def _audit(session: Session, action: str, user: User, actor_id: int | None) -> None:
    record_audit(session, action, actor_id=actor_id, object_kind="user", object_id=user.id)


def enrol(session: Session, user: User, secret: str, code: str) -> list[str]:
    """Confirm a new secret with a code from the app; returns the ten recovery codes."""
    step = matching_step(secret, code)
    if step is None:
        raise InvalidCode()
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = secret, ops.utcnow(), step
    user.updated_at = ops.utcnow()
    codes = _new_recovery_codes(session, user)
    _audit(session, "second_factor_enrolled", user, user.id)
    return codes


def verify(session: Session, user: User, code: str, address: str | None) -> str:
    """Check a sign-in's second step: ``"totp"`` or ``"recovery"``, or a typed error.

    Throttled like a password; a one-time password is refused if its time step (or an
    earlier one) was already used, so one code works once.
    """
    if not enrolled(user):
        raise NotEnrolled()
    ops.check_throttle(session, user.email, address, user)
    step = matching_step(user.totp_secret or "", code)
    if step is not None and (user.totp_last_step is None or step > user.totp_last_step):
        user.totp_last_step = step
        ops.clear_failures(session, user.email, address)
        return "totp"
    if step is None and _use_recovery_code(session, user, code):
        ops.clear_failures(session, user.email, address)
        _audit(session, "recovery_code_used", user, user.id)
        return "recovery"
    lock = ops.record_failure(session, user.email, address)
    _audit(session, "second_factor_failed", user, user.id)
    if lock is not None:
        raise ops.AccountLocked(lock)
    raise InvalidCode()


def renew_recovery_codes(session: Session, user: User, code: str, address: str | None) -> list[str]:
    """Ten new recovery codes for the signed-in user, after a code from their app."""
    verify(session, user, code, address)
    codes = _new_recovery_codes(session, user)
    _audit(session, "recovery_codes_renewed", user, user.id)
    return codes


def turn_off(session: Session, user: User, code: str, address: str | None) -> None:
    """The user ends their own optional second factor (a code from the app first)."""
    if required(user):
        raise SecondFactorRequired()
    verify(session, user, code, address)
    _clear(session, user)
    _audit(session, "second_factor_removed", user, user.id)


def reset(session: Session, user: User, *, actor_id: int | None) -> None:
    """An admin (or the console) removes a user's second factor: they enrol again at their
    next sign-in. Their sessions end, so a stolen session does not outlive the reset."""
    _clear(session, user)
    ops.end_all_sessions(session, user.id)
    _audit(session, "second_factor_reset", user, actor_id)


def _clear(session: Session, user: User) -> None:
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = None, None, None
    user.updated_at = ops.utcnow()
    _delete_recovery_codes(session, user)
    session.flush()


def _delete_recovery_codes(session: Session, user: User) -> None:
    for row in session.exec(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all():
        session.delete(row)
    session.flush()
