"""The child-protection notice a screener records for a minor's case."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from referral.db import datetime_column, timestamp_column, user_fk


class Authority(StrEnum):
    """To whom the notice was given."""

    procuraduria = "procuraduria"  # the state's Procuraduría de Protección (DIF)
    other = "other"  # another authority, named in ``authority_other``


class ChildNotice(SQLModel, table=True):
    """The notice to the child-protection authority (LGDNNA Art. 12): to whom and when it
    was given, as the screener recorded it. One per case; its absence is the open task."""

    __tablename__ = "child_notice"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("case_file.id"), nullable=False, unique=True),
    )
    authority: str = Field(max_length=20)
    authority_other: str | None = Field(default=None, max_length=200)
    notified_at: datetime = datetime_column(nullable=False)
    recorded_by: int = user_fk(nullable=False)
    recorded_at: datetime = timestamp_column(nullable=False)
