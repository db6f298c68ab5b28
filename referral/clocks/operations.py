"""Recording the child-protection notice, and running the clocks: every message that is due
goes to the outbox once (its dedup key says which clock, case, day and recipient), then the
outbox is sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlmodel import Session, select

from referral.access import Reach
from referral.audit.operations import record_audit
from referral.auth.models import User
from referral.casework.models import Case
from referral.casework.notices import Kind
from referral.clocks import queries
from referral.clocks.models import Authority, ChildNotice
from referral.db import get_db, utcnow
from referral.i18n import local_timezone
from referral.mail import sending
from referral.mail.outbox import (
    Letter,
    app_path,
    enqueue,
    enqueue_all,
    public_url,
    supervisors_of,
)
from referral.rules.errors import N_

NOTICE_SUBJECT = N_("Ruta: the child-protection notice of case %(code)s is overdue")
NOTICE_TEXT = N_(
    "No notice to the child-protection authority has been recorded for case %(code)s, a "
    "minor's case, %(hours)s hours after the screening. The law asks for it at once (LGDNNA "
    "Art. 12). Open the case to record it, or to see why it is missing."
)
REFLECTION_SUBJECT = N_("Ruta: the reflection period of case %(code)s ends on %(date)s")
REFLECTION_TEXT = N_(
    "The 30-day reflection period of case %(code)s ends on %(date)s (Ley de Migración Art. "
    "113 and 136). Open the case to prepare what comes next with the person."
)
DIGEST_SUBJECT = N_("Ruta: referrals waiting for an answer past their due time")
DIGEST_TEXT = N_(
    "These referrals have waited more than %(hours)s hours for the service's answer. Open each "
    "case to call the service or to refer the person elsewhere."
)


class NoticeInvalid(ValueError):
    """The notice as entered cannot be recorded; ``field`` names where, ``code`` why."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(code)
        self.field = field
        self.code = code


def record_child_notice(
    session: Session,
    case: Case,
    *,
    authority: str,
    authority_other: str | None,
    notified_at: datetime,
    user_id: int,
    now: datetime | None = None,
) -> ChildNotice:
    """Record to whom and when the child-protection notice was given (the task is done)."""
    if authority not in tuple(Authority):
        raise NoticeInvalid("authority", "unknown_authority")
    other = (authority_other or "").strip() or None
    if authority == Authority.other and not other:
        raise NoticeInvalid("authority_other", "name_the_authority")
    if notified_at > (now or utcnow()):
        raise NoticeInvalid("notified_on", "in_the_future")
    notice = session.exec(select(ChildNotice).where(ChildNotice.case_id == case.id)).first()
    if notice is None:
        notice = ChildNotice(
            case_id=case.id,
            authority=authority,
            notified_at=notified_at,
            recorded_by=user_id,
        )
    notice.authority = authority
    notice.authority_other = other if authority == Authority.other else None
    notice.notified_at = notified_at
    notice.recorded_by = user_id
    notice.recorded_at = utcnow()
    session.add(notice)
    session.flush()
    record_audit(
        session,
        "case_changed",  # the case's child-protection notice
        actor_id=user_id,
        object_kind="case",
        object_id=case.id,
        state=case.state,
    )
    return notice


@dataclass
class ClockReport:
    escalated: int = 0
    reminded: int = 0
    digests: int = 0
    sent: int = 0
    failed: int = 0
    cleared: int = 0


def escalate_child_notices(session: Session, settings: queries.Settings, now: datetime) -> int:
    made = 0
    hours = int(settings.escalate_after.total_seconds() // 3600)
    for case, _due in queries.open_child_notices(session, due_before=now - settings.escalate_after):
        letter = Letter(
            Kind.child_notice_overdue,
            NOTICE_SUBJECT,
            (NOTICE_TEXT,),
            {"code": case.code, "hours": hours},
            link=app_path("cases.show", code=case.code),
        )
        made += len(
            enqueue_all(
                session,
                letter,
                supervisors_of(session, case.state),
                case_id=case.id,
                dedup_prefix=f"{Kind.child_notice_overdue}:{case.id}",
            )
        )
    return made


def remind_reflection_endings(session: Session, settings: queries.Settings, now: datetime) -> int:
    made = 0
    for period in queries.reflection_periods(session):
        if not period.ending_soon(now, settings.reminder_before):
            continue
        case = period.case
        screener = session.get(User, case.screener_id)
        if screener is None or not screener.active:
            continue
        day = period.ends.astimezone(local_timezone()).date().isoformat()
        letter = Letter(
            Kind.reflection_ending,
            REFLECTION_SUBJECT,
            (REFLECTION_TEXT,),
            {"code": case.code, "date": day},
            link=app_path("cases.show", code=case.code),
        )
        key = f"{Kind.reflection_ending}:{case.id}:{period.screening_id}:{screener.id}"
        if enqueue(session, letter, screener, case_id=case.id, dedup_key=key) is not None:
            made += 1
    return made


def send_digests(session: Session, settings: queries.Settings, now: datetime) -> int:
    """One message a day to each screener and supervisor with referrals in reach still
    waiting for an answer past their due time: the case codes and their links."""
    made = 0
    day = now.astimezone(local_timezone()).date().isoformat()
    hours = int(settings.answer_due.total_seconds() // 3600)
    people = session.exec(
        select(User).where(
            User.active == True,  # noqa: E712
            User.role.in_(("screener", "supervisor")),  # type: ignore[attr-defined]
        )
    ).all()
    for user in people:
        overdue = queries.overdue_referrals(session, Reach.of(user), now, settings.answer_due)
        if not overdue:
            continue
        codes = dict.fromkeys(case.code for _referral, case in overdue)  # in order, once each
        items = tuple(f"- {code}: {_link(code)}" for code in codes)
        letter = Letter(
            Kind.answers_overdue, DIGEST_SUBJECT, (DIGEST_TEXT,), {"hours": hours}, items=items
        )
        key = f"{Kind.answers_overdue}:{day}:{user.id}"
        if enqueue(session, letter, user, dedup_key=key) is not None:
            made += 1
    return made


def _link(code: str) -> str:
    return public_url(app_path("cases.show", code=code))


def run_clocks(app: Flask, now: datetime | None = None) -> ClockReport:
    """Everything due at ``now`` into the outbox (once), then the outbox sent."""
    moment = now or utcnow()
    settings = queries.Settings.of(app.config)
    report = ClockReport()
    with get_db(app).transaction() as session:
        report.escalated = escalate_child_notices(session, settings, moment)
        report.reminded = remind_reflection_endings(session, settings, moment)
        report.digests = send_digests(session, settings, moment)
    sent = sending.send_waiting(app)
    report.sent, report.failed = sent.sent, sent.failed + sent.given_up
    report.cleared = sending.clear_old_texts(app, moment)
    return report
