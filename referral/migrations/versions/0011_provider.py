"""The receiving service answers: provider accounts attached to services, answer links,
providers' edits of their own directory entries (for an admin to undo),
the service's capacity maximum and when its free places were set, and inbox indexes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "service_account",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id"), primary_key=True),
        sa.Column("service_id", sa.String(120), sa.ForeignKey("service.id"), primary_key=True),
    )
    op.create_index("ix_service_account_service", "service_account", ["service_id"])
    op.create_table(
        "answer_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("referral_id", sa.Integer(), sa.ForeignKey("referral.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        _when("created_at", False),
        _when("expires_at", False),
        _when("used_at", True),
        _when("revoked_at", True),
    )
    op.create_index("ix_answer_token_referral", "answer_token", ["referral_id"])
    op.create_table(
        "service_entry_edit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("service_id", sa.String(120), sa.ForeignKey("service.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        _when("at", False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        _when("undone_at", True),
        sa.Column("undone_by", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True),
    )
    op.create_index("ix_service_entry_edit_service", "service_entry_edit", ["service_id", "at"])
    with op.batch_alter_table("service") as batch:
        batch.add_column(_when("capacity_updated", True))
        batch.add_column(sa.Column("capacity_maximum", sa.Integer(), nullable=True))
    op.create_index("ix_referral_service_created", "referral", ["service_id", "created_at", "id"])
    op.create_index(
        "ix_referral_created_by_created", "referral", ["created_by", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_referral_created_by_created", table_name="referral")
    op.drop_index("ix_referral_service_created", table_name="referral")
    # Not recreated on SQLite (3.35+ drops a column in place): referrals point at services.
    with op.batch_alter_table("service", recreate="never") as batch:
        batch.drop_column("capacity_maximum")
        batch.drop_column("capacity_updated")
    op.drop_index("ix_service_entry_edit_service", table_name="service_entry_edit")
    op.drop_table("service_entry_edit")
    op.drop_index("ix_answer_token_referral", table_name="answer_token")
    op.drop_table("answer_token")
    op.drop_index("ix_service_account_service", table_name="service_account")
    op.drop_table("service_account")
