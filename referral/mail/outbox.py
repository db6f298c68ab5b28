"""Putting messages in the outbox: in the caller's transaction, rendered in the recipient's
language from the catalogs, with the case code and a link, never details of the person.

Operations only add and flush; the request (or the CLI's transaction) commits, so a message
exists exactly when the change that caused it was kept.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, g, has_request_context, request
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from referral.auth.models import User
from referral.i18n import DEFAULT_LANGUAGE, LANGUAGES, gettext_for
from referral.mail.models import OutboxMessage
from referral.rules.errors import N_

log = logging.getLogger(__name__)

# The signature every message ends with (a msgid, rendered in the recipient's language).
FOOTER = N_(
    "This message was sent by Ruta. It names the case by its code only: open the link and "
    "sign in to see more."
)


@dataclass(frozen=True)
class Letter:
    """What one message says, as msgids and their values: rendered per recipient.

    ``lines`` are msgids formatted with ``values``; ``items`` are lines already made of codes
    and links (a digest's list); ``link`` is an app path (see :func:`app_path`).
    """

    kind: str
    subject: str
    lines: tuple[str, ...]
    values: Mapping[str, Any] = field(default_factory=dict)
    items: tuple[str, ...] = ()
    link: str | None = None


def app_path(endpoint: str, **values: Any) -> str:
    """The path of an endpoint, with or without a request (the CLI has none)."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def public_url(path: str) -> str:
    """An absolute link: REFERRAL_PUBLIC_URL, else the address this request came to."""
    base = current_app.config.get("PUBLIC_URL")
    if not base and has_request_context():
        base = request.url_root
    return (base or "").rstrip("/") + path


def render(letter: Letter, language: str) -> tuple[str, str]:
    """The subject and body of ``letter`` in ``language``."""
    gettext = gettext_for(language)
    subject = gettext(letter.subject) % dict(letter.values)
    paragraphs = [gettext(line) % dict(letter.values) for line in letter.lines]
    if letter.items:
        paragraphs.append("\n".join(letter.items))
    if letter.link:
        paragraphs.append(public_url(letter.link))
    paragraphs.append("-- \n" + gettext(FOOTER))
    return subject, "\n\n".join(paragraphs) + "\n"


def recipient_language(user: User) -> str:
    return user.language if user.language in LANGUAGES else DEFAULT_LANGUAGE


def enqueue(
    session: Session,
    letter: Letter,
    recipient: User,
    *,
    case_id: int | None = None,
    referral_id: int | None = None,
    dedup_key: str | None = None,
) -> OutboxMessage | None:
    """Put ``letter`` in the outbox for ``recipient`` (sent to the account's address as it is
    when sent); None when ``dedup_key`` was already used (the message went, or waits)."""
    return _enqueue(
        session,
        letter,
        recipient_language(recipient),
        recipient_id=recipient.id,
        case_id=case_id,
        referral_id=referral_id,
        dedup_key=dedup_key,
    )


def enqueue_to_address(
    session: Session,
    letter: Letter,
    address: str,
    language: str,
    *,
    case_id: int | None = None,
    referral_id: int | None = None,
    dedup_key: str | None = None,
) -> OutboxMessage | None:
    """Put ``letter`` in the outbox for an address with no account (a service's), in
    ``language``; None when ``dedup_key`` was already used."""
    return _enqueue(
        session,
        letter,
        language if language in LANGUAGES else DEFAULT_LANGUAGE,
        address=address.strip(),
        case_id=case_id,
        referral_id=referral_id,
        dedup_key=dedup_key,
    )


def _enqueue(
    session: Session,
    letter: Letter,
    language: str,
    *,
    recipient_id: int | None = None,
    address: str | None = None,
    case_id: int | None,
    referral_id: int | None,
    dedup_key: str | None,
) -> OutboxMessage | None:
    if dedup_key is not None:
        seen = session.exec(
            select(OutboxMessage.id).where(OutboxMessage.dedup_key == dedup_key)
        ).first()
        if seen is not None:
            return None
    subject, body = render(letter, language)
    message = OutboxMessage(
        kind=letter.kind,
        recipient_id=recipient_id,
        address=address,
        language=language,
        subject=subject[:300],
        body=body,
        case_id=case_id,
        referral_id=referral_id,
        dedup_key=dedup_key,
    )
    if dedup_key is None:
        session.add(message)
        session.flush()
    else:
        try:  # another process enqueued the same key since the check: that one stands
            with session.begin_nested():
                session.add(message)
        except IntegrityError:
            return None
    if has_request_context():  # sent once the response has gone (mail.sending.init_app)
        g.setdefault("outbox_pending", []).append(message.id)
    return message


def enqueue_all(
    session: Session,
    letter: Letter,
    recipients: Iterable[User],
    *,
    case_id: int | None = None,
    referral_id: int | None = None,
    dedup_prefix: str | None = None,
) -> list[OutboxMessage]:
    """One message per recipient (``dedup_prefix`` + ``:user id`` keeps each one single)."""
    made = []
    for user in recipients:
        key = f"{dedup_prefix}:{user.id}" if dedup_prefix else None
        message = enqueue(
            session, letter, user, case_id=case_id, referral_id=referral_id, dedup_key=key
        )
        if message is not None:
            made.append(message)
    return made


def supervisors_of(session: Session, state: str) -> list[User]:
    """The active supervisors who see ``state``: national ones and those of that state."""
    users = session.exec(
        select(User).where(User.role == "supervisor", User.active == True)  # noqa: E712
    ).all()
    return [u for u in users if u.national or state in (u.states or [])]
