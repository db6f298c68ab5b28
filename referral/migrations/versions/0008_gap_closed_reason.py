"""Why a gap record closed: accepted, rerouted or case_closed (CONTRACT v4, section 5).

Gaps closed before this migration were all closed by an accepted referral.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gap") as batch:
        batch.add_column(sa.Column("closed_reason", sa.String(length=20), nullable=True))
    op.execute("UPDATE gap SET closed_reason = 'accepted' WHERE closed_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("gap") as batch:
        batch.drop_column("closed_reason")
