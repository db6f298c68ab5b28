"""Referrals (FHIR Task statuses), their history, and referral-gap records (CONTRACT section 5)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, Integer, String, text
from sqlmodel import Field, SQLModel

from referral.intake.models import user_fk
from referral.models import timestamp_column


class Referral(SQLModel, table=True):
    """A case referred to one service (or to a provider outside the directory) for one need."""

    __tablename__ = "referral"
    __table_args__ = (
        Index("ix_referral_case", "case_id"),
        Index("ix_referral_state_status", "state", "status"),
        Index("ix_referral_created_by", "created_by", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("case_file.id"), nullable=False)
    )
    screening_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("screening.id"), nullable=True)
    )
    need: str = Field(max_length=40)
    service_id: str | None = Field(
        default=None, sa_column=Column(String(120), ForeignKey("service.id"), nullable=True)
    )
    # An ad hoc referral names a provider outside the directory and says why.
    ad_hoc_provider: str | None = Field(default=None, max_length=200)
    ad_hoc_reason: str | None = Field(default=None, max_length=500)
    state: str = Field(max_length=8)
    status: str = Field(max_length=20)
    reason_code: str | None = Field(default=None, max_length=40)
    version: int = Field(default=1)
    created_by: int = user_fk(nullable=False)
    updated_by: int = user_fk(nullable=False)
    created_at: datetime = timestamp_column(nullable=False)
    updated_at: datetime = timestamp_column(nullable=False)
    accepted_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class ReferralEvent(SQLModel, table=True):
    """One status of a referral, when and by whom: the referral's history."""

    __tablename__ = "referral_event"
    __table_args__ = (Index("ix_referral_event_referral", "referral_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("referral.id"), nullable=False)
    )
    status: str = Field(max_length=20)
    reason_code: str | None = Field(default=None, max_length=40)
    at: datetime = timestamp_column(nullable=False)
    by_user_id: int = user_fk(nullable=False)


class Gap(SQLModel, table=True):
    """A referral gap: a need with no option (routing), an ad hoc referral, or a decline.

    One case, need and kind have at most one open gap; it closes when a referral for that
    need is accepted.
    """

    __tablename__ = "gap"
    __table_args__ = (
        Index(
            "uq_gap_open",
            "case_id",
            "need",
            "kind",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index("ix_gap_state_opened", "state", "opened_at"),
        Index("ix_gap_need_kind", "need", "kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("case_file.id"), nullable=False)
    )
    screening_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("screening.id"), nullable=True)
    )
    referral_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("referral.id"), nullable=True)
    )
    need: str = Field(max_length=40)
    kind: str = Field(max_length=20)  # routing | ad_hoc | declined
    state: str = Field(max_length=8)
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    opened_at: datetime = timestamp_column(nullable=False)
    closed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class GapReason(SQLModel, table=True):
    """One reason of a gap, one row each, so reasons are counted in SQL."""

    __tablename__ = "gap_reason"
    __table_args__ = (Index("ix_gap_reason_reason", "reason"),)

    gap_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("gap.id"), primary_key=True)
    )
    reason: str = Field(primary_key=True, max_length=40)
