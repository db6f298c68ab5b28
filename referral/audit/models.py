"""The audit table. Rows are only ever inserted (see referral.audit.operations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer
from sqlmodel import Field, SQLModel

from referral.db import timestamp_column


class AuditEvent(SQLModel, table=True):
    """Who (a user, or the server console when empty) did what to which object, and when.

    Codes only: no free text and no data about the people being screened. ``changes`` maps
    each changed field to ``[before, after]`` (codes and values), or to None where only the
    field's name may be kept (a case's fields, free text).
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_at", "at"),
        Index("ix_audit_event_actor_at", "actor_id", "at"),
        Index("ix_audit_event_action_at", "action", "at"),
        Index("ix_audit_event_object", "object_kind", "object_id"),
        Index("ix_audit_event_state_at", "state", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = timestamp_column(nullable=False)
    actor_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("user_account.id"), nullable=True)
    )
    action: str = Field(max_length=40)
    object_kind: str | None = Field(default=None, max_length=20)
    object_id: str | None = Field(default=None, max_length=64)
    state: str | None = Field(default=None, max_length=8)
    changes: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
