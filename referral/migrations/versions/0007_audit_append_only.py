"""Security (issue 16): the audit log refuses UPDATE and DELETE at the database; account
slow-down, second factor, recovery codes, password-reset links and named sessions.

The audit guard's SQL lives in referral/audit/guard.py, the one place migrations/env.py
also reads to put it back after a later SQLite batch migration recreated audit_event.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from referral.audit import guard

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    guard.install(op.get_bind())
    with op.batch_alter_table("login_throttle") as batch:
        batch.add_column(sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    guard.remove(op.get_bind())
    with op.batch_alter_table("login_throttle") as batch:
        batch.drop_column("last_failure_at")
