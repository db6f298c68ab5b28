"""The privacy ledger: differentially private statistics releases (issue 15); an index of
each case's gap records, which the public tables count per case.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("table_name", sa.String(length=20), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("edition", sa.Integer(), nullable=False),
        sa.Column("states", sa.JSON(), nullable=False),
        sa.Column("watermark", sa.Integer(), nullable=False),
        sa.Column("numbers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "year", "scope", "table_name", "epsilon", "edition", name="uq_privacy_release_key"
        ),
    )
    op.create_index("ix_privacy_release_year", "privacy_release", ["year"])
    # The public tables keep each case's earliest gap records (referral.stats.bounded).
    op.create_index("ix_gap_case", "gap", ["case_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_gap_case", table_name="gap")
    op.drop_index("ix_privacy_release_year", table_name="privacy_release")
    op.drop_table("privacy_release")
