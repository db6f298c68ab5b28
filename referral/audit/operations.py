"""Recording audit events. Other features call :func:`record_audit`; nothing updates or deletes.

An event holds codes and ids only: never free text, never data about a screened person.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import event, insert
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from referral.audit.models import AuditEvent
from referral.db import utcnow

# Every action code with its label; a code not listed here is refused.
ACTIONS: dict[str, Any] = {
    "sign_in": _l("Signed in"),
    "sign_in_failed": _l("Sign-in failed"),
    "sign_in_locked": _l("Sign-in refused: account locked"),
    "sign_in_delayed": _l("Sign-in refused: too soon after failed attempts"),
    "sign_out": _l("Signed out"),
    "setup_link_issued": _l("First-run setup link issued"),
    "user_created": _l("User created"),
    "user_changed": _l("User changed"),
    "user_deactivated": _l("User deactivated"),
    "password_changed": _l("Password changed"),
    "password_check_failed": _l("Wrong current password when changing it"),
    "second_factor_enrolled": _l("Second factor set up"),
    "second_factor_failed": _l("Wrong second-factor code"),
    "recovery_code_used": _l("Recovery code used"),
    "recovery_codes_renewed": _l("New recovery codes made"),
    "second_factor_removed": _l("Second factor turned off"),
    "second_factor_reset": _l("Second factor reset by an administrator"),
    "reset_link_issued": _l("Password-reset link issued"),
    "password_reset": _l("Password set with a reset link"),
    "session_ended": _l("Session ended by its user"),
    "token_issued": _l("API token issued"),
    "token_revoked": _l("API token revoked"),
    "case_created": _l("Case created"),
    "case_viewed": _l("Case viewed"),
    "case_list_viewed": _l("Case list viewed"),
    "referral_sheet_viewed": _l("Referral sheet viewed"),
    "service_location_viewed": _l("Confidential location viewed"),
    "case_changed": _l("Case changed"),
    "case_closed": _l("Case closed"),
    "case_reopened": _l("Case reopened"),
    "case_handed_over": _l("Case handed over to another screener"),
    "consent_referral_withdrawn": _l("Consent to referral withdrawn"),
    "consent_statistics_withdrawn": _l("Consent to statistics withdrawn"),
    "case_erased": _l("Case erased"),
    "referral_status_changed": _l("Referral status changed"),
    "answer_link_issued": _l("Answer link made for a service"),
    "answer_link_revoked": _l("Answer link revoked"),
    "answer_link_refused": _l("Answer link refused (expired, used or revoked)"),
    "export_made": _l("Export made"),
    "directory_changed": _l("Directory changed"),
}

OBJECT_KINDS: dict[str, Any] = {
    "user": _l("User"),
    "case": _l("Case"),
    "case_list": _l("Case list"),
    "referral": _l("Referral"),
    "service": _l("Service"),
    "export": _l("Export"),
    "directory": _l("Directory"),
}

_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def as_code(text: str) -> str:
    """``text`` made into an audit object id: characters outside codes become ``_``."""
    return re.sub(r"[^A-Za-z0-9_.:-]", "_", text)[:64] or "_"


class AuditError(ValueError):
    """An audit event that would carry something other than codes and ids."""


# Objects whose changed values are personal data: the log keeps only the fields' names, so
# erasing the object leaves nothing of the person behind in an append-only table.
NAMES_ONLY_KINDS = frozenset({"case"})


def _is_value(value: Any) -> bool:
    """A code, a number, a yes/no or nothing, or a list of these: never free text."""
    if value is None or isinstance(value, bool | int | float):
        return True
    if isinstance(value, str):
        return bool(_CODE.match(value))
    if isinstance(value, list | tuple):
        return all(_is_value(item) and not isinstance(item, list | tuple) for item in value)
    return False


def field_changes(
    before: Mapping[str, Any], after: Mapping[str, Any], *, names_only: Iterable[str] = ()
) -> dict[str, list[Any] | None]:
    """Each field whose value differs, with ``[before, after]``; None for ``names_only``
    fields and for values that are not codes (free text is never kept)."""
    hidden = set(names_only)
    changes: dict[str, list[Any] | None] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        keep = name not in hidden and _is_value(old) and _is_value(new)
        changes[name] = [_plain(old), _plain(new)] if keep else None
    return changes


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _checked_changes(kind: str | None, changes: Mapping[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for name, values in changes.items():
        if not _CODE.match(name):
            raise AuditError("a changed field is named by a code")
        if values is not None:
            if kind in NAMES_ONLY_KINDS:
                raise AuditError(f"only the names of a {kind}'s changed fields are kept")
            if not isinstance(values, list | tuple) or len(values) != 2:
                raise AuditError("a change is [before, after]")
            if not all(_is_value(value) for value in values):
                raise AuditError("a change holds codes and values, not free text")
            values = [_plain(value) for value in values]
        checked[name] = values
    return checked


def record_audit(
    session: Session,
    action: str,
    *,
    actor_id: int | None,
    object_kind: str | None = None,
    object_id: str | int | None = None,
    state: str | None = None,
    changes: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit event to the session (the request's commit keeps it with the change).

    ``actor_id`` None means the server console (CLI) or nobody signed in.
    ``state`` is the ISO 3166-2:MX code of the object, so supervisors see their states' events.
    ``changes`` (see :func:`field_changes`): each changed field with ``[before, after]``, or
    None where only its name is kept (always, for a case).
    """
    entry = AuditEvent(**_event_values(action, actor_id, object_kind, object_id, state, changes))
    session.add(entry)
    session.flush()
    return entry


INSERT_EVENT = insert(AuditEvent.__table__)  # type: ignore[attr-defined]


def insert_audit(
    session: Session,
    action: str,
    *,
    actor_id: int | None,
    object_kind: str | None = None,
    object_id: str | int | None = None,
    state: str | None = None,
    changes: Mapping[str, Any] | None = None,
) -> None:
    """The same event as :func:`record_audit`, checked the same way, written with a Core
    INSERT on the session's connection: for a hot path that needs no object back (no ORM
    flush, whose hooks cost more than the row)."""
    values = _event_values(action, actor_id, object_kind, object_id, state, changes)
    values["at"] = utcnow()
    session.connection().execute(INSERT_EVENT, values)


def _event_values(
    action: str,
    actor_id: int | None,
    object_kind: str | None,
    object_id: str | int | None,
    state: str | None,
    changes: Mapping[str, Any] | None,
) -> dict[str, Any]:
    if action not in ACTIONS:
        raise AuditError(f"unknown audit action {action!r}")
    if object_kind is not None and object_kind not in OBJECT_KINDS:
        raise AuditError(f"unknown audit object kind {object_kind!r}")
    object_text = None if object_id is None else str(object_id)
    if object_text is not None and not _CODE.match(object_text):
        raise AuditError("an audit object id is a code or a number, not free text")
    if state is not None and not _CODE.match(state):
        raise AuditError("an audit state is a code")
    checked = _checked_changes(object_kind, changes) if changes else None
    return {
        "action": action,
        "actor_id": actor_id,
        "object_kind": object_kind,
        "object_id": object_text,
        "state": state,
        "changes": checked,
    }


class AppendOnlyError(RuntimeError):
    """Audit events are never changed or deleted."""


@event.listens_for(OrmSession, "before_flush")
def _refuse_audit_changes(session: OrmSession, _context: Any, _instances: Any) -> None:
    for instance in (*session.dirty, *session.deleted):
        if isinstance(instance, AuditEvent):
            raise AppendOnlyError("audit events are append-only")
