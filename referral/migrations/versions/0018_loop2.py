"""The referrals newest first, for the API's list of a screener or supervisor (issue 14).

Revision ID: 0018_loop2
Revises: 0017
Create Date: 2026-11-30
"""

from alembic import op

revision = "0018_loop2"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_referral_created_at", "referral", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_referral_created_at", table_name="referral")
