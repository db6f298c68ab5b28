"""Drafts keep which sections were saved valid (a fingerprint of each section's values), so
a submission validates again only the sections changed since.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("intake_draft") as batch:
        batch.add_column(sa.Column("checked", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("intake_draft") as batch:
        batch.drop_column("checked")
