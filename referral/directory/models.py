"""Database tables. Input and output shapes live beside each feature, not here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from referral.db import datetime_column, timestamp_column


class State(SQLModel, table=True):
    """One of the 32 Mexican states, ISO 3166-2:MX."""

    code: str = Field(primary_key=True, max_length=6)
    name_es: str = Field(max_length=80)
    name_en: str = Field(max_length=80)


# Directory changes that make a new version for caches but not a new ``rules_version``:
# free places change too often to version (CONTRACT section 2), and the demonstration
# notice changes no entry.
CAPACITY_CHANGE = "capacity"
CONFIRMED_REASON = "confirm"
DEMONSTRATION_REASON = "demonstration"
UNVERSIONED_REASONS = (CAPACITY_CHANGE, CONFIRMED_REASON, DEMONSTRATION_REASON)


class DirectoryVersion(SQLModel, table=True):
    """Every change to the service directory makes a new version (CONTRACT section 2)."""

    __tablename__ = "directory_version"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = timestamp_column(nullable=False)
    reason: str = Field(max_length=40)  # seed | edit | import | capacity | confirm | demonstration


class Service(SQLModel, table=True):
    """A directory entry; ``entry`` holds the CONTRACT section 4 document."""

    __tablename__ = "service"
    __table_args__ = (Index("ix_service_need_status", "need", "status"),)

    id: str = Field(primary_key=True, max_length=120)
    need: str = Field(max_length=40)
    status: str = Field(max_length=40)
    name_es: str = Field(max_length=300)
    name_en: str = Field(max_length=300)
    entry: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # Digest of the seed entry this row was last loaded from; None once an admin edits it,
    # so that `flask seed` never overwrites an admin's edit.
    seed_digest: str | None = Field(default=None, max_length=64)
    edited: bool = Field(default=False)
    # HSDS 3.1 service_capacity beside ``entry["capacity_available"]``: when the free places
    # were last set, and how many places there are in all (both unversioned, like capacity).
    capacity_updated: datetime | None = datetime_column(nullable=True)
    capacity_maximum: int | None = Field(default=None)
    updated_at: datetime = timestamp_column(nullable=False)
