"""The privacy ledger: every differentially private release, stored once (issue 15).

A release is keyed by year of data, scope (the whole country or one state), table, privacy
loss parameter (epsilon) and edition; its numbers are computed once and kept, so asking
again gives the same numbers (fresh noise on every request could be averaged away). It
spends epsilon of the budget of every (year, state) in ``states``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Float, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from referral.casework.models import Gap
from referral.db import timestamp_column, user_fk

# A case's gap records in order: the public tables keep each case's earliest gaps, per
# state (without it SQLite scanned every gap for each case of a state: 5 minutes at
# 1,000,000 cases). Declared here, on casework's table, like supervision's indexes.
STATS_INDEXES = (Index("ix_gap_case", Gap.__table__.c.case_id, Gap.__table__.c.id),)  # type: ignore[attr-defined]


class PrivacyRelease(SQLModel, table=True):
    __tablename__ = "privacy_release"
    __table_args__ = (
        UniqueConstraint(
            "year", "scope", "table_name", "epsilon", "edition", name="uq_privacy_release_key"
        ),
        Index("ix_privacy_release_year", "year"),
    )

    id: int | None = Field(default=None, primary_key=True)
    year: int
    scope: str = Field(max_length=8)  # "national" or a state code (ISO 3166-2:MX, "unknown")
    table_name: str = Field(max_length=20)  # "summary" | "synthetic"
    epsilon: float = Field(sa_column=Column(Float, nullable=False))
    edition: int = Field(default=1)  # a later edition holds cases that arrived after
    states: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    watermark: int = Field(default=0)  # the newest screening id counted
    numbers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = timestamp_column(nullable=False)
    created_by: int | None = user_fk(nullable=True)  # None: the server console
