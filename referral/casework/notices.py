"""What casework tells people by mail (issue 14): supervisors of a case in immediate danger or
of a minor, a service of a new referral, the screener of a service's answer.

Every message names the case by its code and links to it; never a detail of the person.
They go to the outbox in the transaction of the change (referral.mail.outbox).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, select

from referral.auth.models import ServiceAccount, User
from referral.casework.models import Case, EventChannel, Referral, Screening
from referral.mail.outbox import Letter, app_path, enqueue, enqueue_all, supervisors_of
from referral.rules.contract import Alert
from referral.rules.errors import N_


class Kind:
    """The kinds of message (outbox_message.kind)."""

    immediate_danger = "immediate_danger"
    minor_case = "minor_case"
    referral_created = "referral_created"
    referral_answered = "referral_answered"
    child_notice_overdue = "child_notice_overdue"
    reflection_ending = "reflection_ending"
    answers_overdue = "answers_overdue"
    case_handed_over = "case_handed_over"


DANGER_SUBJECT = N_("Ruta: case %(code)s is in immediate danger")
DANGER_TEXT = N_(
    "The screening of case %(code)s says the person is in immediate danger. Open the case "
    "to see what was done and what is recommended."
)
MINOR_SUBJECT = N_("Ruta: case %(code)s is a minor's")
MINOR_TEXT = N_(
    "Case %(code)s is the case of a child or adolescent: the child-protection authority must "
    "be notified at once (LGDNNA Art. 12). Open the case to see whether it was."
)
CREATED_SUBJECT = N_("Ruta: a new referral for your service (case %(code)s)")
CREATED_TEXT = N_(
    "Case %(code)s was referred to your service. Open the link to see the referral and answer."
)
HANDED_TO_SUBJECT = N_("Ruta: case %(code)s is now yours")
HANDED_TO_TEXT = N_(
    "A supervisor handed case %(code)s over to you. Open the case to see where it stands."
)
HANDED_FROM_SUBJECT = N_("Ruta: case %(code)s was handed over")
HANDED_FROM_TEXT = N_(
    "A supervisor handed case %(code)s over to another screener. It no longer appears in your "
    "cases."
)
ANSWERED_SUBJECT = N_("Ruta: the service answered the referral of case %(code)s")
ANSWERED_TEXT = N_(
    "The service answered a referral of case %(code)s. Open the case to see the answer."
)


def _alerts(screening: Screening | None) -> set[str]:
    if screening is None:
        return set()
    return {a.get("code", "") for a in (screening.result or {}).get("alerts", [])}


def screening_alerts(
    session: Session, case: Case, screening: Screening, previous: Screening | None
) -> list[Any]:
    """At a screening's submission: mail the state's supervisors when the case is found in
    immediate danger, or found to be a minor's, and the screening before did not say so."""
    made: list[Any] = []
    danger = Alert.immediate_danger.value
    told_of_danger = danger in _alerts(screening) and danger not in _alerts(previous)
    told_of_minor = screening.minor and not (previous is not None and previous.minor)
    if not (told_of_danger or told_of_minor):
        return made  # most screenings: the supervisors are not looked up
    link = app_path("cases.show", code=case.code)
    values = {"code": case.code}
    supervisors = supervisors_of(session, case.state)
    if told_of_danger:
        letter = Letter(Kind.immediate_danger, DANGER_SUBJECT, (DANGER_TEXT,), values, link=link)
        made += enqueue_all(
            session,
            letter,
            supervisors,
            case_id=case.id,
            dedup_prefix=f"{Kind.immediate_danger}:{screening.id}",
        )
    if told_of_minor:
        letter = Letter(Kind.minor_case, MINOR_SUBJECT, (MINOR_TEXT,), values, link=link)
        made += enqueue_all(
            session,
            letter,
            supervisors,
            case_id=case.id,
            dedup_prefix=f"{Kind.minor_case}:{screening.id}",
        )
    return made


def notify_referral_created(
    session: Session, referral: Referral, recipients: Iterable[User], link: str | None = None
) -> list[Any]:
    """Tell the service's people (``recipients``) of a new referral; ``link`` (an app path)
    opens the view where they answer (the referral's sheet when not given)."""
    case = session.get(Case, referral.case_id)
    assert case is not None
    letter = Letter(
        Kind.referral_created,
        CREATED_SUBJECT,
        (CREATED_TEXT,),
        {"code": case.code},
        link=link or app_path("cases.referral_sheet", referral_id=referral.id),
    )
    return enqueue_all(
        session,
        letter,
        recipients,
        case_id=case.id,
        referral_id=referral.id,
        dedup_prefix=f"{Kind.referral_created}:{referral.id}",
    )


def notify_referral_answered(session: Session, referral: Referral, channel: str) -> Any:
    """Tell the case's screener that the service answered a referral (the service's own
    account, its answer link or its system; not the screener's own record of a call). The
    case's screener now, not who made the referral: after a handover the case, and its
    mail, are the new screener's."""
    if channel == EventChannel.screener:
        return None
    case = session.get(Case, referral.case_id)
    screener = session.get(User, case.screener_id) if case is not None else None
    if screener is None or not screener.active or case is None:
        return None
    letter = Letter(
        Kind.referral_answered,
        ANSWERED_SUBJECT,
        (ANSWERED_TEXT,),
        {"code": case.code},
        link=app_path("cases.show", code=case.code),
    )
    return enqueue(
        session,
        letter,
        screener,
        case_id=case.id,
        referral_id=referral.id,
        dedup_key=f"{Kind.referral_answered}:{referral.id}:{referral.version}",
    )


def service_people(session: Session, service_id: str | None) -> list[User]:
    """The active accounts that answer for a directory service (its provider accounts)."""
    if service_id is None:
        return []
    return list(
        session.exec(
            select(User)
            .join(ServiceAccount, ServiceAccount.user_id == User.id)  # type: ignore[arg-type]
            .where(ServiceAccount.service_id == service_id, User.active == True)  # noqa: E712
        ).all()
    )


def notify_service_of_referral(session: Session, referral: Referral) -> list[Any]:
    """A directory service with accounts hears of a new referral, with a link to its inbox."""
    people = service_people(session, referral.service_id)
    if not people:
        return []
    link = app_path("provider.referral", referral_id=referral.id)
    return notify_referral_created(session, referral, people, link=link)


def notify_handover(
    session: Session, case: Case, from_user: User | None, to_user: User, event_id: int | None
) -> list[Any]:
    """Both screeners hear of a handover: the new one that the case is theirs, the former
    one that it left their list. Nothing about the person, only the case code."""
    made = []
    key = f"{Kind.case_handed_over}:{case.id}:{event_id}"
    for user, subject, text, link in (
        (to_user, HANDED_TO_SUBJECT, HANDED_TO_TEXT, app_path("cases.show", code=case.code)),
        (from_user, HANDED_FROM_SUBJECT, HANDED_FROM_TEXT, app_path("cases.index")),
    ):
        if user is None or not user.active:
            continue
        letter = Letter(Kind.case_handed_over, subject, (text,), {"code": case.code}, link=link)
        made.append(
            enqueue(
                session,
                letter,
                user,
                case_id=case.id,
                dedup_key=f"{key}:{user.id}",
            )
        )
    return made
