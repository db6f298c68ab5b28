"""Drafts: what a screener has typed, saved section by section, until it is submitted as a case."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from referral.casework import notices
from referral.casework.models import Case, Draft, Screening
from referral.casework.screening import CaseDetails, store_screening
from referral.db import utcnow
from referral.rules import Catalogue, validate_record

SECTIONS = ("encounter", "person", "indicators", "needs", "legal", "review")


def new_draft_key() -> str:
    return secrets.token_urlsafe(24)


class DraftAlreadySubmitted(Exception):
    """The draft made a case already; ``case`` is that case."""

    def __init__(self, case: Case) -> None:
        super().__init__(case.code)
        self.case = case


def start_draft(
    session: Session, user_id: int, *, rescreen: Case | None = None, data: dict | None = None
) -> Draft:
    draft = Draft(
        key=new_draft_key(),
        user_id=user_id,
        rescreen_case_id=rescreen.id if rescreen else None,
        data=dict(data or {}),
    )
    session.add(draft)
    session.flush()
    return draft


def save_draft(
    session: Session,
    draft: Draft,
    section: str,
    values: dict[str, Any],
    *,
    fingerprint: Callable[[dict[str, Any]], str] | None = None,
) -> None:
    """Merge one section's values into the draft (a new dict, so the JSON column is updated).

    ``fingerprint``: given when the section's values were just found valid; it is kept with
    the draft so that submission need not validate this section again while they stay so."""
    merged = dict(draft.data)
    merged.update(values)
    if "answers" in values:  # the ticked-indicator list of an older draft is now answers
        merged.pop("indicators", None)
    draft.data = merged
    checked = dict(draft.checked or {})
    if fingerprint is None:
        checked.pop(section, None)
    else:
        checked[section] = fingerprint(merged)
    draft.checked = checked
    draft.section = section
    draft.updated_at = utcnow()
    session.add(draft)
    session.flush()


def lock_draft(session: Session, draft_id: int) -> Draft | None:
    """The draft, locked for this transaction (two submits of one draft make one case)."""
    # populate_existing: the draft is already in the session, loaded before the lock; without
    # it the ORM keeps that stale copy and a second submit waiting on the lock makes a case too.
    statement = (
        select(Draft)
        .where(Draft.id == draft_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def lock_draft_by_key(session: Session, key: str, *columns: Any) -> tuple[Any, ...] | None:
    """The draft with this key, locked for this transaction (two submits of one draft make
    one case), then ``columns`` read in the same query: a submission reads its draft once.
    None when there is no such draft."""
    statement = (
        sa_select(Draft, *columns)
        .where(Draft.key == key)  # type: ignore[arg-type]
        .with_for_update(of=Draft)
        .execution_options(populate_existing=True)
    )
    row = session.execute(statement).first()
    return None if row is None else tuple(row)


def submit_draft(
    session: Session,
    draft: Draft,
    record_data: dict[str, Any],
    details: CaseDetails,
    catalogue: Catalogue,
    *,
    lang: str,
    locked: bool = False,
) -> Case:
    """Turn a draft into a case (or a re-screening). Raises RecordInvalid, DraftAlreadySubmitted.

    ``locked``: the draft was read with its lock (:func:`lock_draft_by_key`) in this
    transaction; otherwise it is read again with it."""
    if locked:
        locked_draft: Draft | None = draft
    else:
        locked_draft = lock_draft(session, draft.id) if draft.id is not None else None
    if locked_draft is not None and locked_draft.submitted_case_id is not None:
        existing = session.get(Case, locked_draft.submitted_case_id)
        if existing is not None:
            raise DraftAlreadySubmitted(existing)
    record = validate_record(record_data, catalogue.codes)
    rescreen = session.get(Case, draft.rescreen_case_id) if draft.rescreen_case_id else None
    previous = (
        session.get(Screening, rescreen.latest_screening_id)
        if rescreen is not None and rescreen.latest_screening_id
        else None
    )
    case, screening, _result = store_screening(
        session,
        record,
        catalogue,
        screener_id=draft.user_id,
        details=details,
        case=rescreen,
        lang=lang,
    )
    notices.screening_alerts(session, case, screening, previous)
    target = locked_draft or draft
    # A Core UPDATE, no ORM flush (the flush hooks of every feature cost more than the write);
    # the loaded draft is told the committed values, so it stays what the row holds.
    values = {"submitted_case_id": case.id, "updated_at": utcnow()}
    if target.id is None:  # a draft never stored: it is stored now, submitted
        target.sqlmodel_update(values)
        session.add(target)
        session.flush()
        return case
    session.connection().execute(MARK_SUBMITTED, {"draft": target.id, **values})
    for name, value in values.items():
        set_committed_value(target, name, value)
    return case


DRAFTS = Draft.__table__  # type: ignore[attr-defined]
MARK_SUBMITTED = (
    update(DRAFTS)
    .where(DRAFTS.c.id == bindparam("draft"))
    .values(submitted_case_id=bindparam("submitted_case_id"), updated_at=bindparam("updated_at"))
)


@dataclass(frozen=True)
class DraftSummary:
    """What tells one unfinished screening from another without identifying the person."""

    draft: Draft
    encounter: str | None
    state: str | None
    age: int | None  # None: not typed yet, or not known (then ``age_unknown``)
    age_unknown: bool
    clearly_adult: bool
    sex: str | None
    section: str  # the step reached

    @property
    def minor(self) -> bool:
        """A child, or of unknown age and not clearly an adult (presumed a minor)."""
        if self.age_unknown:
            return not self.clearly_adult
        return self.age is not None and self.age < 18

    @property
    def person_recorded(self) -> bool:
        return self.age is not None or self.age_unknown or self.sex is not None

    @property
    def step(self) -> int:
        return SECTIONS.index(self.section) + 1 if self.section in SECTIONS else 1


def draft_summary(draft: Draft) -> DraftSummary:
    data = draft.data or {}
    age = data.get("age")
    return DraftSummary(
        draft=draft,
        encounter=data.get("encounter") or None,
        state=data.get("state") or None,
        age=age if isinstance(age, int) and not isinstance(age, bool) else None,
        age_unknown=bool(data.get("age_unknown")),
        clearly_adult=bool(data.get("clearly_adult")),
        sex=data.get("sex") or None,
        section=draft.section,
    )


def saved_at(draft: Draft) -> str:
    """The draft's version as the browser sees it (microseconds, UTC)."""
    return draft.updated_at.isoformat()
