"""The answer link of a referral, and the indexes a provider's inbox reads with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from referral.casework.models import Referral
from referral.db import datetime_column, timestamp_column, user_fk


class AnswerToken(SQLModel, table=True):
    """A signed link on the service's copy of one referral: only its SHA-256 digest is kept.

    It answers that one referral, once (``used_at``), until ``expires_at``, unless revoked
    (the referral closed, or the screener revoked it).
    """

    __tablename__ = "answer_token"
    __table_args__ = (Index("ix_answer_token_referral", "referral_id"),)

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(sa_column=Column(Integer, ForeignKey("referral.id"), nullable=False))
    token_hash: str = Field(max_length=64, unique=True)
    created_by: int = user_fk(nullable=False)
    created_at: datetime = timestamp_column(nullable=False)
    expires_at: datetime = datetime_column(nullable=False)
    used_at: datetime | None = datetime_column(nullable=True)
    revoked_at: datetime | None = datetime_column(nullable=True)


def _columns(model: Any, *names: str) -> list[Any]:
    table = model.__table__
    return [table.c[name] for name in names]


# A provider's inbox and the API list: referrals of some services, newest first.
PROVIDER_INDEXES = (
    Index("ix_referral_service_created", *_columns(Referral, "service_id", "created_at", "id")),
    Index("ix_referral_created_by_created", *_columns(Referral, "created_by", "created_at", "id")),
)


class ServiceEntryEdit(SQLModel, table=True):
    """A provider's edit of its own directory entry: the entry before and after, so an admin
    can see it and undo it (the directory's own version and audit event are made as well)."""

    __tablename__ = "service_entry_edit"
    __table_args__ = (Index("ix_service_entry_edit_service", "service_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    service_id: str = Field(sa_column=Column(String(120), ForeignKey("service.id"), nullable=False))
    user_id: int = user_fk(nullable=False)
    at: datetime = timestamp_column(nullable=False)
    before: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    after: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    undone_at: datetime | None = datetime_column(nullable=True)
    undone_by: int | None = user_fk(nullable=True)
