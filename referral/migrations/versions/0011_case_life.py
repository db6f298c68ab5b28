"""The life of a case: closure (when, why, by whom), withdrawn consent to statistics, and
the case's history of closures, reopenings, handovers and consent withdrawals.

Revision ID: 0011_case_life
Revises: 0010
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_case_life"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_file") as batch:
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_reason", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("closed_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("statistics_withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(
            "fk_case_file_closed_by_user_account", "user_account", ["closed_by"], ["id"]
        )
        batch.create_index("ix_case_file_closed", ["closed_at"])
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
    with op.batch_alter_table("case_file") as batch:
        batch.drop_index("ix_case_file_closed")
        batch.drop_constraint("fk_case_file_closed_by_user_account", type_="foreignkey")
        batch.drop_column("statistics_withdrawn_at")
        batch.drop_column("closed_by")
        batch.drop_column("closed_reason")
        batch.drop_column("closed_at")
