"""The life of a case: closure (when, why, by whom), withdrawn consent to statistics, and
the case's history of closures, reopenings, handovers and consent withdrawals.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, no batch: on SQLite a batch would copy case_file, and dropping the old
    # copy fails the foreign keys of every screening, referral and gap that refers to it.
    op.add_column("case_file", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("case_file", sa.Column("closed_reason", sa.String(length=20), nullable=True))
    op.add_column("case_file", sa.Column("closed_by", sa.Integer(), nullable=True))
    op.add_column(
        "case_file",
        sa.Column("statistics_withdrawn_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_case_file_closed", "case_file", ["closed_at"])
    op.create_table(
        "case_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case_file.id"), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("from_user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("to_user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True),
    )
    op.create_index("ix_case_event_case", "case_event", ["case_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_case_event_case", table_name="case_event")
    op.drop_table("case_event")
    op.drop_index("ix_case_file_closed", table_name="case_file")
    # SQLite 3.35 and later drop a column in place (no copy of the table, see upgrade).
    for column in ("statistics_withdrawn_at", "closed_by", "closed_reason", "closed_at"):
        op.drop_column("case_file", column)
