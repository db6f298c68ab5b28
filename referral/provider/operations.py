"""A provider's reach (the referrals to its services), its inbox, and answer links."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import abort
from sqlalchemy import update
from sqlmodel import Session, col, select

from referral.access import Reach
from referral.audit.operations import record_audit
from referral.auth.operations import account_services
from referral.casework.models import Case, Referral
from referral.db import utcnow
from referral.directory.models import Service as ServiceRow
from referral.directory.operations import save_service
from referral.provider.models import AnswerToken, ServiceEntryEdit
from referral.rules import RuleSeeds
from referral.rules.contract import FINAL_STATUSES

INBOX_SIZE = 50
# Shorter than a URL-safe 32 bytes would make it, still far beyond guessing (128 bits).
TOKEN_BYTES = 16


def provider_services(session: Session, user_id: int | None) -> frozenset[str]:
    """The services a provider account answers for (empty for anyone else)."""
    return frozenset(account_services(session, user_id))


def referral_of_service(session: Session, referral_id: int, services: frozenset[str]) -> Referral:
    """The referral if it was made to one of ``services``; 404 otherwise (never 403)."""
    referral = session.get(Referral, referral_id)
    if referral is None or referral.service_id not in services:
        abort(404)
    return referral


def inbox(
    session: Session,
    services: frozenset[str],
    *,
    status: str | None = None,
    limit: int = INBOX_SIZE,
    before_id: int | None = None,
    offset: int = 0,
) -> list[Referral]:
    """Referrals to ``services``, newest first (by creation), ``limit`` of them."""
    if not services:
        return []
    query = select(Referral).where(col(Referral.service_id).in_(sorted(services)))
    if status:
        query = query.where(Referral.status == status)
    if before_id is not None:
        query = query.where(col(Referral.id) < before_id)
    query = query.order_by(col(Referral.created_at).desc(), col(Referral.id).desc())
    return list(session.exec(query.offset(offset).limit(limit)).all())


def referrals_in_reach(
    session: Session,
    reach: Reach,
    *,
    status: str | None = None,
    limit: int = INBOX_SIZE,
    offset: int = 0,
) -> list[Referral]:
    """Referrals a screener (own cases), supervisor (their states) or admin sees, newest first."""
    query = reach.filter(
        select(Referral).join(Case, col(Case.id) == Referral.case_id),
        Case.state,
        Case.screener_id,
    )
    if status:
        query = query.where(Referral.status == status)
    query = query.order_by(col(Referral.created_at).desc(), col(Referral.id).desc())
    return list(session.exec(query.offset(offset).limit(limit)).all())


# --- answer links ------------------------------------------------------------------------


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LinkState:
    valid = "valid"
    expired = "expired"
    used = "used"
    revoked = "revoked"
    unknown = "unknown"


@dataclass(frozen=True)
class LinkCheck:
    state: str
    row: AnswerToken | None = None


def issue_answer_link(
    session: Session, referral: Referral, *, user_id: int, days: int
) -> tuple[str, AnswerToken]:
    """A new link for this referral (earlier ones are revoked: one copy in circulation)."""
    revoke_answer_links(session, referral.id or 0, actor_id=user_id, audit=False)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    row = AnswerToken(
        referral_id=referral.id or 0,
        token_hash=digest(token),
        created_by=user_id,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(row)
    session.flush()
    record_audit(
        session,
        "answer_link_issued",
        actor_id=user_id,
        object_kind="referral",
        object_id=referral.id,
        state=referral.state,
    )
    return token, row


def live_answer_link(session: Session, referral_id: int) -> AnswerToken | None:
    now = utcnow()
    return session.exec(
        select(AnswerToken)
        .where(
            AnswerToken.referral_id == referral_id,
            col(AnswerToken.used_at).is_(None),
            col(AnswerToken.revoked_at).is_(None),
            col(AnswerToken.expires_at) > now,
        )
        .order_by(col(AnswerToken.id).desc())
    ).first()


def revoke_answer_links(
    session: Session, referral_id: int, *, actor_id: int | None, audit: bool = True
) -> int:
    """Revoke every live link of this referral; how many."""
    result = session.execute(
        update(AnswerToken)
        .where(
            col(AnswerToken.referral_id) == referral_id,
            col(AnswerToken.used_at).is_(None),
            col(AnswerToken.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if count and audit:
        record_audit(
            session,
            "answer_link_revoked",
            actor_id=actor_id,
            object_kind="referral",
            object_id=referral_id,
        )
    return count


def check_answer_link(session: Session, token: str, now: datetime | None = None) -> LinkCheck:
    """What this link is now: valid, expired, used, revoked, or unknown. A closed referral's
    link counts as revoked (it is revoked when the referral closes)."""
    row = session.exec(select(AnswerToken).where(AnswerToken.token_hash == digest(token))).first()
    if row is None:
        return LinkCheck(LinkState.unknown)
    if row.revoked_at is not None:
        return LinkCheck(LinkState.revoked, row)
    if row.used_at is not None:
        return LinkCheck(LinkState.used, row)
    if (now or utcnow()) >= row.expires_at:
        return LinkCheck(LinkState.expired, row)
    referral = session.get(Referral, row.referral_id)
    if referral is None or referral.status in FINAL_STATUSES:
        return LinkCheck(LinkState.revoked, row)
    return LinkCheck(LinkState.valid, row)


def use_answer_link(session: Session, row: AnswerToken) -> bool:
    """Mark the link used, once: False when another answer used it first."""
    result = session.execute(
        update(AnswerToken)
        .where(col(AnswerToken.id) == row.id, col(AnswerToken.used_at).is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


def close_links_if_final(session: Session, referral: Referral, actor_id: int | None) -> None:
    """A referral that has closed revokes its answer links."""
    if referral.status in FINAL_STATUSES:
        revoke_answer_links(session, referral.id or 0, actor_id=actor_id)


# --- the service keeps its own entry true --------------------------------------------------

# What a provider may change in its own entry (CONTRACT 4); eligibility stays the admins'.
PROVIDER_FIELDS = ("how_to_refer", "contact", "hours", "required_documents")


class EditNotUndoable(ValueError):
    """The entry changed again after this edit, or the edit was already undone."""


def edit_entry(
    session: Session,
    row: ServiceRow,
    changes: dict[str, Any],
    *,
    user_id: int,
    rules: RuleSeeds,
    states: Iterable[str],
) -> ServiceEntryEdit:
    """Save the provider's changes and confirm the entry (``last_verified`` today), versioned
    and audited as an admin's edit is; raises SeedErrors. Kept for an admin to undo."""
    unknown = set(changes) - set(PROVIDER_FIELDS)
    if unknown:
        raise ValueError(f"a provider cannot change {sorted(unknown)}")
    before = dict(row.entry)
    entry = {**before, **changes, "last_verified": date.today().isoformat()}
    for name, value in changes.items():  # an emptied text leaves the entry (CONTRACT 4)
        if not value:
            entry.pop(name, None)
    saved = save_service(session, entry, rules=rules, states=states, actor_id=user_id, create=False)
    edit = ServiceEntryEdit(
        service_id=saved.id, user_id=user_id, before=before, after=dict(saved.entry)
    )
    session.add(edit)
    session.flush()
    return edit


def entry_edits(session: Session, service_id: str) -> list[ServiceEntryEdit]:
    return list(
        session.exec(
            select(ServiceEntryEdit)
            .where(ServiceEntryEdit.service_id == service_id)
            .order_by(col(ServiceEntryEdit.id).desc())
        ).all()
    )


def undo_entry_edit(
    session: Session,
    edit: ServiceEntryEdit,
    *,
    admin_id: int,
    rules: RuleSeeds,
    states: Iterable[str],
) -> None:
    """Put the entry back as it was before this edit (a new directory version, audited);
    only while nothing has changed it since."""
    row = session.get(ServiceRow, edit.service_id)
    if row is None or edit.undone_at is not None or row.entry != edit.after:
        raise EditNotUndoable(edit.service_id)
    save_service(
        session, dict(edit.before), rules=rules, states=states, actor_id=admin_id, create=False
    )
    edit.undone_at = utcnow()
    edit.undone_by = admin_id
    session.add(edit)
    session.flush()
