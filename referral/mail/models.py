"""The outbox: one row per message, rendered in its recipient's language when enqueued."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from referral.db import datetime_column, timestamp_column, user_fk


class OutboxMessage(SQLModel, table=True):
    """A message waiting, sent or given up. ``last_error`` is a code, never what was sent.

    ``case_id`` and ``referral_id`` say which case a message speaks of, so erasing a case
    finds its messages; ``dedup_key`` makes a message that must go once (a clock's reminder,
    a day's digest) unique, whoever enqueues it and however often.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_due", "sent_at", "next_attempt_at"),
        Index("ix_outbox_message_case", "case_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)  # mail.notices.Kind
    recipient_id: int | None = user_fk(nullable=True)
    address: str | None = Field(default=None, max_length=254)  # when not a user's
    language: str = Field(max_length=5)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    case_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("case_file.id"), nullable=True)
    )
    referral_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("referral.id"), nullable=True)
    )
    dedup_key: str | None = Field(
        default=None, sa_column=Column(String(200), unique=True, nullable=True)
    )
    created_at: datetime = timestamp_column(nullable=False)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=40)
    next_attempt_at: datetime = timestamp_column(nullable=False)
    sent_at: datetime | None = datetime_column(nullable=True)
    given_up_at: datetime | None = datetime_column(nullable=True)
