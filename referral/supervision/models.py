"""Indexes the supervision dashboard aggregates with (migration 0004), and the maintained
aggregates themselves (migration 0011).

They sit on other features' tables, so they are declared here against those tables'
columns; importing this module adds them to SQLModel.metadata.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, text
from sqlmodel import Field, SQLModel

from referral.casework.models import Gap, Referral, Screening, ScreeningForm
from referral.db import datetime_column


def _columns(model: Any, *names: str) -> list[Any]:
    table = model.__table__
    return [table.c[name] for name in names]


SUPERVISION_INDEXES = (
    Index("ix_gap_opened_kind", *_columns(Gap, "opened_at", "kind")),
    Index("ix_gap_referral", *_columns(Gap, "referral_id")),
    Index("ix_referral_created", *_columns(Referral, "created_at", "state")),
    Index("ix_referral_case_accepted", *_columns(Referral, "case_id", "accepted_at")),
    Index("ix_screening_state_screened", *_columns(Screening, "state", "screened_at")),
    Index("ix_screening_form_form", *_columns(ScreeningForm, "form")),
    # 0005: covering indexes for screenings by encounter and referral outcomes.
    Index(
        "ix_screening_encounter_cover",
        *_columns(Screening, "encounter", "status", "state", "screened_at"),
    ),
    Index(
        "ix_referral_outcome_cover",
        *_columns(Referral, "status", "accepted_at", "state", "created_at"),
    ),
    # 0018: the per-request panels read open gaps only, and waiting referrals only.
    Index(
        "ix_gap_open_state_opened",
        *_columns(Gap, "state", "opened_at", "need", "kind"),
        sqlite_where=text("closed_at IS NULL"),
        postgresql_where=text("closed_at IS NULL"),
    ),
    Index(
        "ix_referral_status_created", *_columns(Referral, "status", "created_at", "state", "need")
    ),
)


# --- maintained dashboard aggregates (migration 0011, referral/supervision/aggregates.py) ---


class AggregateCount(SQLModel, table=True):
    """One summed count of the dashboard: per grain ("m" month, "d" day), scope (family
    of panels and filter), state ("*": every state), Mexico City bucket, dimension and key.
    Anonymous: no case is named. The key's order makes one page's read one range."""

    __tablename__ = "aggregate_count"
    # The rows clustered by their key on SQLite: a page's read is one sequential range.
    __table_args__ = {"sqlite_with_rowid": False}

    grain: str = Field(sa_column=Column(String(1), primary_key=True))
    scope: str = Field(sa_column=Column(String(60), primary_key=True))
    state: str = Field(sa_column=Column(String(8), primary_key=True))  # or "*": every state
    bucket: str = Field(sa_column=Column(String(10), primary_key=True))
    dim: str = Field(sa_column=Column(String(20), primary_key=True))
    key: str = Field(sa_column=Column(String(60), primary_key=True))
    n: int = Field(sa_column=Column(BigInteger, nullable=False))


class AggregateErased(SQLModel, table=True):
    """What erased cases had contributed to the counts (kept: the counts hold no person)."""

    __tablename__ = "aggregate_erased"
    __table_args__ = {"sqlite_with_rowid": False}

    grain: str = Field(sa_column=Column(String(1), primary_key=True))
    scope: str = Field(sa_column=Column(String(60), primary_key=True))
    state: str = Field(sa_column=Column(String(8), primary_key=True))  # or "*": every state
    bucket: str = Field(sa_column=Column(String(10), primary_key=True))
    dim: str = Field(sa_column=Column(String(20), primary_key=True))
    key: str = Field(sa_column=Column(String(60), primary_key=True))
    n: int = Field(sa_column=Column(BigInteger, nullable=False))


class AggregateDelta(SQLModel, table=True):
    """One change not yet folded into the counts: a fact (a gap, referral, screening or a
    case's first acceptances) added (sign 1) or taken away (sign -1). Appended by the
    transaction that made the change, so writers never wait on one counter row."""

    __tablename__ = "aggregate_delta"

    id: int | None = Field(default=None, primary_key=True)
    sign: int
    fact: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class AggregateStatus(SQLModel, table=True):
    """Whether the counts were built for the data present: a row with False after migrating
    a database that already held cases, until `flask --app referral aggregates rebuild`;
    no row means built (an empty database's counts are right)."""

    __tablename__ = "aggregate_status"

    id: int = Field(default=1, primary_key=True)
    built: bool


# --- the loop panel, bounded (migration 0019, issue 17 third pass) --------------------------


class AnswerCount(SQLModel, table=True):
    """How many referrals got their first answer from a service after ``hours`` whole hours,
    per grain ("d" day, "m" month, "y" year, "t" all time, bucket "*"), Mexico City bucket of
    the referral's creation, state, service (or "ad_hoc"), need and who gave the answer
    ("service" or "screener"). Anonymous; folded from ``aggregate_delta`` like
    ``aggregate_count``. The key's order makes a page's read one range per grain."""

    __tablename__ = "answer_count"
    __table_args__ = {"sqlite_with_rowid": False}

    grain: str = Field(sa_column=Column(String(1), primary_key=True))
    bucket: str = Field(sa_column=Column(String(10), primary_key=True))
    state: str = Field(sa_column=Column(String(8), primary_key=True))
    service: str = Field(sa_column=Column(String(120), primary_key=True))
    need: str = Field(sa_column=Column(String(40), primary_key=True))
    answered_by: str = Field(sa_column=Column(String(10), primary_key=True))
    hours: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    n: int = Field(sa_column=Column(BigInteger, nullable=False))


class LoopClock(SQLModel, table=True):
    """The legal clocks of a case as the dashboard counts them, kept as the case, its
    screenings and its child-protection notice change: when its notice fell due (only while
    no notice is recorded) and when its reflection period started (the first screening that
    raised the alert). A case with neither has no row. Indexed so that "overdue" and
    "ended" are counts of an index range."""

    __tablename__ = "loop_clock"
    __table_args__ = (
        Index("ix_loop_clock_notice", "notice_due_at", "state"),
        Index("ix_loop_clock_state_notice", "state", "notice_due_at"),
        Index("ix_loop_clock_reflection", "reflection_starts_at", "state"),
        Index("ix_loop_clock_state_reflection", "state", "reflection_starts_at"),
    )

    case_id: int = Field(
        sa_column=Column(Integer, ForeignKey("case_file.id"), primary_key=True, autoincrement=False)
    )
    state: str = Field(sa_column=Column(String(8), nullable=False))
    notice_due_at: datetime | None = datetime_column(nullable=True)
    reflection_starts_at: datetime | None = datetime_column(nullable=True)
