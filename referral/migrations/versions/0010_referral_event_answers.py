"""Referral events say who answered and how (channel), with an optional note.

A service may answer its referrals itself (account, answer link or API), so an event's
account may be empty; then the name and role the person answering gave are kept. A note
may accompany each status change (kept with the case, never exported).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("referral_event") as batch:
        batch.add_column(
            sa.Column("channel", sa.String(length=10), nullable=False, server_default="screener")
        )
        batch.add_column(sa.Column("responder_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("responder_role", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch.alter_column("by_user_id", existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table("referral") as batch:
        batch.alter_column("updated_by", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("referral") as batch:
        batch.alter_column("updated_by", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("referral_event") as batch:
        batch.alter_column("by_user_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("note")
        batch.drop_column("responder_role")
        batch.drop_column("responder_name")
        batch.drop_column("channel")
