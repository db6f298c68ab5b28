"""Indexes for the supervision dashboard's SQL aggregations.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEXES = (
    # National date-range panels (admins and national supervisors have no state to lead with).
    ("ix_gap_opened_kind", "gap", ["opened_at", "kind"]),
    ("ix_gap_referral", "gap", ["referral_id"]),
    ("ix_referral_created", "referral", ["created_at", "state"]),
    ("ix_referral_case_accepted", "referral", ["case_id", "accepted_at"]),
    ("ix_screening_state_screened", "screening", ["state", "screened_at"]),
    ("ix_screening_form_form", "screening_form", ["form"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
