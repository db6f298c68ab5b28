"""Covering indexes for the two dashboard panels that scanned whole tables at scale.

Screenings by encounter read only (encounter, status, state, screened_at); referral outcomes
read only (status, accepted_at, state, created_at). With these, both are answered from the
index alone instead of the wide screening and referral rows (measured at 1,000,000 cases:
docs/benchmarks.md).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_screening_encounter_cover", "screening", ["encounter", "status", "state", "screened_at"]),
    ("ix_referral_outcome_cover", "referral", ["status", "accepted_at", "state", "created_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
