"""States and the service directory.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "state",
        sa.Column("code", sa.String(6), primary_key=True),
        sa.Column("name_es", sa.String(80), nullable=False),
        sa.Column("name_en", sa.String(80), nullable=False),
    )
    op.create_table(
        "directory_version",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
    )
    op.create_table(
        "service",
        sa.Column("id", sa.String(120), primary_key=True),
        sa.Column("need", sa.String(40), nullable=False),
        sa.Column("status", sa.String(40), nullable=False),
        sa.Column("name_es", sa.String(300), nullable=False),
        sa.Column("name_en", sa.String(300), nullable=False),
        sa.Column("entry", sa.JSON(), nullable=False),
        sa.Column("seed_digest", sa.String(64), nullable=True),
        sa.Column("edited", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_service_need_status", "service", ["need", "status"])


def downgrade() -> None:
    op.drop_index("ix_service_need_status", table_name="service")
    op.drop_table("service")
    op.drop_table("directory_version")
    op.drop_table("state")
