"""Sending the outbox through the configured SMTP server (standard library email + smtplib).

A message is claimed (its attempt counted and its next attempt pushed past the time a send
may take) and committed before it is sent, so two senders never send it at once; the send
itself has a timeout. A failure keeps the message with an error code and a later next
attempt; after MAX_ATTEMPTS it is given up. Nothing here raises into a request.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from flask import Flask, g
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from referral.auth.models import User
from referral.db import get_db, utcnow
from referral.mail.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12  # with the backoff below, about two days of trying
BATCH = 200


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt: 2, 4, 8 … minutes, at most 6 hours."""
    return timedelta(minutes=min(2**attempts, 360))


def configured(app: Flask) -> bool:
    return bool(app.config.get("SMTP_HOST"))


def error_code(exc: BaseException) -> str:
    """What went wrong, as a code: the log and the outbox never keep a server's message
    (it may quote the recipient or the text)."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "smtp_auth"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "smtp_recipient_refused"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return "smtp_sender_refused"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "smtp_disconnected"
    if isinstance(exc, smtplib.SMTPException):
        return "smtp_error"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "smtp_timeout"
    if isinstance(exc, ssl.SSLError):
        return "smtp_tls"
    if isinstance(exc, OSError):
        return "smtp_unreachable"
    return "send_failed"


def email_of(message: OutboxMessage, sender: str, to: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = to
    email["Subject"] = message.subject
    email["Date"] = format_datetime(utcnow())
    email["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to this
    email.set_content(message.body)
    email["Content-Language"] = message.language  # after set_content, which clears Content-*
    return email


def connect(config: Any) -> smtplib.SMTP:
    host, port, timeout = config["SMTP_HOST"], int(config["SMTP_PORT"]), config["SMTP_TIMEOUT"]
    context = ssl.create_default_context()
    server: smtplib.SMTP
    if config["SMTP_TLS"] == "ssl":
        server = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        server = smtplib.SMTP(host, port, timeout=timeout)
        if config["SMTP_TLS"] == "starttls":
            server.starttls(context=context)
    if config.get("SMTP_USER"):
        server.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
    return server


def deliver(config: Any, message: OutboxMessage, to: str) -> None:
    server = connect(config)
    try:
        server.send_message(email_of(message, config["MAIL_SENDER"], to))
    finally:
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            server.close()


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    given_up: int = 0


def claim(session: Session, message: OutboxMessage, now: datetime, lease: timedelta) -> bool:
    """Count this attempt and hold the message for ``lease``; False if another sender has."""
    claimed = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message.id,  # type: ignore[arg-type]
            OutboxMessage.attempts == message.attempts,  # type: ignore[arg-type]
            OutboxMessage.sent_at.is_(None),  # type: ignore[union-attr]
        )
        .values(attempts=message.attempts + 1, next_attempt_at=now + lease)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1  # type: ignore[attr-defined]


def due_ids(
    session: Session, now: datetime, ids: Iterable[int] | None = None, limit: int = BATCH
) -> list[int]:
    query = select(OutboxMessage.id).where(
        OutboxMessage.sent_at.is_(None),  # type: ignore[union-attr]
        OutboxMessage.given_up_at.is_(None),  # type: ignore[union-attr]
        OutboxMessage.next_attempt_at <= now,
    )
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(list(ids)))  # type: ignore[union-attr]
    return [i for i in session.exec(query.order_by(col(OutboxMessage.id)).limit(limit)).all() if i]


def send_waiting(
    app: Flask, ids: Iterable[int] | None = None, now: datetime | None = None
) -> SendReport:
    """Send the messages that are due (or those of ``ids`` that are); each in its own
    transactions. Without a mail server configured, nothing is tried."""
    report = SendReport()
    if not configured(app):
        return report
    database = get_db(app)
    lease = timedelta(seconds=int(app.config["SMTP_TIMEOUT"]) * 3 + 60)
    with database.transaction(write=False) as session:
        pending = due_ids(session, now or utcnow(), ids)
    for message_id in pending:
        moment = now or utcnow()
        with database.transaction() as session:
            message = session.get(OutboxMessage, message_id)
            if message is None or message.sent_at is not None:
                continue
            if not claim(session, message, moment, lease):
                continue
            attempts = message.attempts + 1
            to = message.address
            if message.recipient_id is not None:
                user = session.get(User, message.recipient_id)
                to = user.email if user is not None and user.active else None
        error = None
        if not to:
            error = "no_address"
        else:
            try:
                deliver(app.config, message, to)
            except Exception as exc:  # any failure of the server or the network: retried later
                error = error_code(exc)
        with database.transaction() as session:
            stored = session.get(OutboxMessage, message_id)
            assert stored is not None
            if error is None:
                stored.sent_at = utcnow()
                stored.last_error = None
                report.sent += 1
            else:
                stored.last_error = error
                stored.next_attempt_at = moment + backoff(attempts)
                if attempts >= MAX_ATTEMPTS or error == "no_address":
                    stored.given_up_at = utcnow()
                    report.given_up += 1
                else:
                    report.failed += 1
                log.warning("Outbox message %s not sent (%s)", message_id, error)
            session.add(stored)
    return report


def clear_old_texts(app: Flask, now: datetime | None = None) -> int:
    """Blank the subject and body of messages sent or given up more than OUTBOX_KEEP_DAYS
    ago: a mail's link (a service's answer link among them) and its case code need not stay
    once it has gone. The row stays, with its kind, recipient, times and dedup key, so a
    clock never sends the same reminder again. Returns how many were cleared."""
    cutoff = (now or utcnow()) - timedelta(days=int(app.config["OUTBOX_KEEP_DAYS"]))
    sent_col = col(OutboxMessage.sent_at)
    gave_up = col(OutboxMessage.given_up_at)
    with get_db(app).transaction() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(
                ((sent_col.isnot(None)) & (sent_col < cutoff))
                | ((sent_col.is_(None)) & (gave_up.isnot(None)) & (gave_up < cutoff)),
                col(OutboxMessage.body) != "",
            )
            .values(subject="", body="")
        )
        return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class OutboxCounts:
    waiting: int
    retrying: int  # waiting, after at least one failed attempt
    sent: int
    given_up: int
    configured: bool


def counts(session: Session, app: Flask) -> OutboxCounts:
    """How many messages wait, were sent or were given up (never what they say)."""
    sent_col = OutboxMessage.sent_at
    gave_up = OutboxMessage.given_up_at
    sent = session.exec(select(func.count()).where(sent_col.isnot(None))).one()  # type: ignore[union-attr]
    given_up = session.exec(
        select(func.count()).where(sent_col.is_(None), gave_up.isnot(None))  # type: ignore[union-attr]
    ).one()
    waiting = session.exec(
        select(func.count()).where(sent_col.is_(None), gave_up.is_(None))  # type: ignore[union-attr]
    ).one()
    retrying = session.exec(
        select(func.count()).where(
            sent_col.is_(None),  # type: ignore[union-attr]
            gave_up.is_(None),  # type: ignore[union-attr]
            OutboxMessage.attempts > 0,
        )
    ).one()
    return OutboxCounts(waiting, retrying, sent, given_up, configured(app))


def init_app(app: Flask) -> None:
    """After each response: send the messages this request put in the outbox (once the
    response has gone, so a slow or absent mail server never holds up the person)."""

    @app.after_request
    def _send_after_response(response: Any) -> Any:
        pending: list[int] | None = g.pop("outbox_pending", None)
        if not pending or response.status_code >= 500:
            return response
        if not configured(app):
            # Only that messages wait: never whom they are for, what they say or their link.
            log.info("%d message(s) waiting in the outbox: no mail server is set", len(pending))
            return response
        ids = list(pending)

        def send() -> None:
            try:
                send_waiting(app, ids)
            except Exception:  # the response is gone: the clocks command retries them
                log.warning("Sending %d outbox message(s) after the response failed", len(ids))

        response.call_on_close(send)
        return response
