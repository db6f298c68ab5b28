"""Cases, their screenings, and the drafts screeners fill in before a case exists."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Text, text
from sqlmodel import Field, SQLModel

from referral.db import datetime_column, timestamp_column, user_fk


class EventChannel(StrEnum):
    """Who gave a referral's answer: the screener recording it, or the service itself."""

    screener = "screener"  # the screener recorded what the service said
    provider = "provider"  # the service, signed in to its own account
    link = "link"  # the service, through the answer link on its copy of the referral
    api = "api"  # a system of the service's, through the JSON API


class CaseClosedReason(StrEnum):
    """Why a case was closed (the screener or supervisor chooses one)."""

    services_completed = "services_completed"
    person_unreachable = "person_unreachable"
    person_declined = "person_declined"
    transferred = "transferred"
    duplicate = "duplicate"
    other = "other"  # needs a short note, kept with the case and never exported


class CaseEventKind(StrEnum):
    """A step in the life of a case (its history on the manage page)."""

    closed = "closed"
    reopened = "reopened"
    handed_over = "handed_over"
    consent_referral_withdrawn = "consent_referral_withdrawn"
    consent_statistics_withdrawn = "consent_statistics_withdrawn"


class Case(SQLModel, table=True):
    """One person screened, under a non-guessable code. No name is stored."""

    __tablename__ = "case_file"
    __table_args__ = (
        Index("ix_case_file_state_status", "state", "latest_status"),
        Index("ix_case_file_screener", "screener_id", "updated_at"),
        Index("ix_case_file_first_screened", "first_screened_at"),
        Index("ix_case_file_closed", "closed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    state: str = Field(max_length=8)  # where the person is now (latest screening)
    screener_id: int = user_fk(nullable=False)
    consent_referral: bool = Field(default=False)
    consent_statistics: bool = Field(default=False)
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    latest_status: str = Field(max_length=20)
    latest_screening_id: int | None = Field(default=None)
    first_screened_at: datetime = datetime_column(nullable=False)
    created_at: datetime = timestamp_column(nullable=False)
    updated_at: datetime = timestamp_column(nullable=False)
    # Closed cases leave the working lists; retention erases them after a configured time.
    closed_at: datetime | None = datetime_column(nullable=True)
    closed_reason: str | None = Field(default=None, max_length=20)  # CaseClosedReason
    # Who closed it: a user id (accounts are deactivated, never deleted). No foreign key, so
    # migration 0011 adds the column in place instead of copying case_file on SQLite.
    closed_by: int | None = Field(default=None)
    # The person withdrew consent to statistics: the case leaves every later release.
    statistics_withdrawn_at: datetime | None = datetime_column(nullable=True)


class CaseEvent(SQLModel, table=True):
    """One step in the life of a case: closed, reopened, handed over, consent withdrawn.

    ``note`` is free text kept with the case (the note of an "other" closure, why a case was
    reopened), never exported and never in the audit log, which records codes only.
    """

    __tablename__ = "case_event"
    __table_args__ = (Index("ix_case_event_case", "case_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("case_file.id"), nullable=False)
    )
    kind: str = Field(max_length=40)  # CaseEventKind
    reason: str | None = Field(default=None, max_length=40)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    at: datetime = timestamp_column(nullable=False)
    by_user_id: int | None = user_fk(nullable=True)  # None: the server console
    from_user_id: int | None = user_fk(nullable=True)  # a handover's previous screener
    to_user_id: int | None = user_fk(nullable=True)  # a handover's new screener


class Screening(SQLModel, table=True):
    """One screening of a case: the CONTRACT record in, the routing result out.

    ``result`` is stored without ``excluded`` (CONTRACT section 2); ``rules_version`` says
    which seeds and directory version produced it. A re-screening adds a row.
    """

    __tablename__ = "screening"
    __table_args__ = (
        Index("ix_screening_case", "case_id", "screened_at"),
        Index("ix_screening_screened_at", "screened_at"),
        Index("ix_screening_state_encounter", "state", "encounter"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("case_file.id"), nullable=False)
    )
    screener_id: int = user_fk(nullable=False)
    screened_at: datetime = datetime_column(nullable=False)
    record: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    result: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    rules_version: str = Field(max_length=80)
    lang: str = Field(default="es", max_length=5)  # the language of the result's texts
    # Facts copied out of the record and result so dashboards aggregate in SQL.
    status: str = Field(max_length=20)
    state: str = Field(max_length=8)
    encounter: str = Field(max_length=40)
    sex: str = Field(max_length=10)
    age: int | None = Field(default=None)
    minor: bool
    foreign: bool
    nationality: str = Field(max_length=2)
    # The answer to each screening question (QuestionAnswer), not part of the CONTRACT
    # record: None when the record came without answers (API, CLI, import, or before them).
    answers: dict[str, str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    questions_not_asked: int | None = Field(default=None)


class ScreeningForm(SQLModel, table=True):
    """A form of exploitation derived by one screening (one row per form, for counting)."""

    __tablename__ = "screening_form"

    screening_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("screening.id"), primary_key=True)
    )
    form: str = Field(primary_key=True, max_length=40)


class Draft(SQLModel, table=True):
    """What a screener has typed so far, saved on the server section by section.

    ``key`` is the random id in the draft's URL; once submitted, ``case_id`` points at the
    case it made, so pressing submit again shows that case instead of making another.
    """

    __tablename__ = "intake_draft"
    __table_args__ = (Index("ix_intake_draft_user", "user_id", "updated_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)
    user_id: int = user_fk(nullable=False)
    rescreen_case_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("case_file.id"), nullable=True)
    )
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # section -> fingerprint of the section's values when they were saved and found valid:
    # submission validates again only the sections whose values changed since.
    checked: dict[str, str] | None = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=True)
    )
    section: str = Field(default="encounter", max_length=20)
    submitted_case_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("case_file.id"), nullable=True)
    )
    created_at: datetime = timestamp_column(nullable=False)
    updated_at: datetime = timestamp_column(nullable=False)


class Referral(SQLModel, table=True):
    """A case referred to one service (or to a provider outside the directory) for one need."""

    __tablename__ = "referral"
    __table_args__ = (
        Index("ix_referral_case", "case_id"),
        Index("ix_referral_state_status", "state", "status"),
        Index("ix_referral_created_by", "created_by", "status"),
        # The API's lists of a screener's and a supervisor's referrals: newest first, read
        # through the case's current screener or state (kept equal to the case's, below).
        Index("ix_referral_case_screener_created", "case_screener_id", "created_at", "id"),
        Index("ix_referral_case_state_created", "case_state", "created_at", "id"),
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
    state: str = Field(max_length=8)  # the case's state when the referral was made
    status: str = Field(max_length=20)
    reason_code: str | None = Field(default=None, max_length=40)
    version: int = Field(default=1)
    created_by: int = user_fk(nullable=False)
    # The case's current screener and state, copied so a list in reach reads one index and
    # stops at its page (access.Reach decides on the case's: workflow.follow_case keeps them
    # equal on handover and re-screening). No foreign key: migration 0019 adds them in place.
    case_screener_id: int = Field(sa_column=Column(Integer, nullable=False))
    case_state: str = Field(sa_column=Column(String(8), nullable=False))
    # None when the last change came from outside any account (the service's answer link).
    updated_by: int | None = user_fk(nullable=True)
    created_at: datetime = timestamp_column(nullable=False)
    updated_at: datetime = timestamp_column(nullable=False)
    accepted_at: datetime | None = datetime_column(nullable=True)


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
    # Who acted: an account (by_user_id), or, through the service's answer link, the name
    # and role the person answering gave (then by_user_id is None).
    by_user_id: int | None = user_fk(nullable=True)
    channel: str = Field(
        default=EventChannel.screener,
        sa_column=Column(String(10), nullable=False, server_default=EventChannel.screener.value),
    )
    responder_name: str | None = Field(default=None, max_length=200)
    responder_role: str | None = Field(default=None, max_length=200)
    # A note on this change: kept with the case like the case notes, never exported.
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


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
    closed_at: datetime | None = datetime_column(nullable=True)
    closed_reason: str | None = Field(default=None, max_length=20)  # GapClosedReason


class GapReason(SQLModel, table=True):
    """One reason of a gap, one row each, so reasons are counted in SQL."""

    __tablename__ = "gap_reason"
    __table_args__ = (Index("ix_gap_reason_reason", "reason"),)

    gap_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("gap.id"), primary_key=True)
    )
    reason: str = Field(primary_key=True, max_length=40)
