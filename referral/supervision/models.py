"""Indexes the supervision dashboard aggregates with (migration 0004).

They sit on other features' tables, so they are declared here against those tables'
columns; importing this module adds them to SQLModel.metadata.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Index

from referral.casework.models import Gap, Referral, Screening, ScreeningForm


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
)
