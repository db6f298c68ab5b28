"""The dashboard's per-request panels bounded by what they read (issue 17): open gaps by
state and opening time (a partial index: open gaps only), referrals by status and creation
time (the unanswered referrals). The maintained counts gain how each gap ended: a database
that already holds cases is marked not built until `flask --app referral aggregates rebuild`.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_gap_open_state_opened",
        "gap",
        ["state", "opened_at", "need", "kind"],
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_index(
        "ix_referral_status_created", "referral", ["status", "created_at", "state", "need"]
    )
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM case_file")).scalar_one():
        bind.execute(sa.text("DELETE FROM aggregate_status"))
        bind.execute(sa.text("INSERT INTO aggregate_status (id, built) VALUES (1, false)"))


def downgrade() -> None:
    op.drop_index("ix_referral_status_created", table_name="referral")
    op.drop_index("ix_gap_open_state_opened", table_name="gap")
