"""A provider's reach (the referrals to its services), its inbox, and answer links."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import abort
from sqlalchemy import ColumnElement, and_, false, text, true, union, update
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from referral.access import Reach
from referral.audit.operations import record_audit
from referral.auth.operations import account_services
from referral.casework.models import Referral
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
    branches = service_branches(services, before_id)
    return list(session.exec(newest_first(branches, status, limit, offset)).all())


def referrals_in_reach(
    session: Session,
    reach: Reach,
    *,
    status: str | None = None,
    limit: int = INBOX_SIZE,
    offset: int = 0,
) -> list[Referral]:
    """Referrals a screener (own cases), supervisor (their states) or admin sees, newest first."""
    branches = reach_branches(reach)
    return list(session.exec(newest_first(branches, status, limit, offset)).all())


def service_branches(
    services: frozenset[str], before_id: int | None = None
) -> list[ColumnElement[bool]]:
    """One condition per service (``ix_referral_service_created`` serves each)."""
    branches = [col(Referral.service_id) == service for service in sorted(services)]
    if before_id is not None:
        return [and_(branch, col(Referral.id) < before_id) for branch in branches]
    return list(branches)


def reach_branches(reach: Reach) -> list[ColumnElement[bool]]:
    """The rows of ``Reach.filter`` on the case's screener and state (as ``load_referral``
    decides), as conditions on the referral's copies of them (``workflow.follow_case`` keeps
    them equal), one per index range: the own cases, then one per state."""
    if reach.sees_every_state:
        return [true()]
    branches: list[ColumnElement[bool]] = []
    if reach.user_id is not None:
        branches.append(col(Referral.case_screener_id) == reach.user_id)
    if reach.is_supervisor:
        branches += [col(Referral.case_state) == state for state in sorted(reach.states)]
    return branches


def newest_first(
    branches: list[ColumnElement[bool]], status: str | None, limit: int, offset: int
) -> SelectOfScalar[Referral]:
    """The referrals matching any of ``branches``, newest first (created_at, id), one page.

    Each branch is an equality that an index ``(column, created_at, id)`` serves in that
    order, so each reads its newest ``offset + limit`` rows backwards and stops; the page is
    taken from their union. One ``IN`` or ``OR`` would make the database read every match
    and sort it (neither SQLite nor PostgreSQL merges several index ranges in order).
    """
    if not branches:
        return select(Referral).where(false())
    order = (col(Referral.created_at).desc(), col(Referral.id).desc())
    if status:
        branches = [and_(branch, col(Referral.status) == status) for branch in branches]
    if len(branches) == 1:
        return select(Referral).where(branches[0]).order_by(*order).offset(offset).limit(limit)
    table = Referral.__table__  # type: ignore[attr-defined]
    arms = [
        sql_select(table.c.id, table.c.created_at)
        .where(branch)
        .order_by(table.c.created_at.desc(), table.c.id.desc())
        .limit(offset + limit)
        .subquery()
        for branch in branches
    ]
    # UNION, not UNION ALL: an own case in a supervisor's state is in two branches.
    page = (
        union(*(sql_select(arm.c.id, arm.c.created_at) for arm in arms))
        .order_by(text("created_at DESC"), text("id DESC"))
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    return (
        select(Referral)
        .join(page, page.c.id == col(Referral.id))
        .order_by(page.c.created_at.desc(), page.c.id.desc())
    )


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
