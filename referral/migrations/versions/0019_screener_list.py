"""A referral carries its case's current screener and state (``case_screener_id``,
``case_state``), so the API's list for a screener or a supervisor reads one index newest
first and stops at its page (issue 14). ``referral.state`` keeps its meaning (the case's
state when the referral was made: the dashboard counts by it).

Revision ID: 0019_screener_list
Revises: 0018
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_screener_list"
down_revision = "0018"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_referral_case_screener_created", ["case_screener_id", "created_at", "id"]),
    ("ix_referral_case_state_created", ["case_state", "created_at", "id"]),
)


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    # PostgreSQL writes a new version of every row the UPDATE below touches, and an entry for
    # it in each of the table's indexes: with them in place the backfill took 173 s at
    # 1,000,000 referrals, dropped first and built again after it 51 s (docs/benchmarks.md).
    rebuilt = [] if sqlite else list(bind.execute(sa.text(REFERRAL_INDEXES)).all())
    for name, _definition in rebuilt:
        op.drop_index(name, table_name="referral")
    # Plain ALTER TABLE, no batch (a SQLite batch copies referral and breaks the foreign keys
    # pointing at it). SQLite adds a NOT NULL column only with a default; every row gets its
    # case's value at once below, and PostgreSQL drops the default afterwards.
    op.add_column(
        "referral",
        sa.Column("case_screener_id", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "referral", sa.Column("case_state", sa.String(length=8), nullable=False, server_default="")
    )
    # One statement for every row (UPDATE ... FROM: PostgreSQL, and SQLite since 3.33).
    op.execute(
        "UPDATE referral SET case_screener_id = case_file.screener_id, "
        "case_state = case_file.state FROM case_file WHERE case_file.id = referral.case_id"
    )
    if not sqlite:
        op.alter_column("referral", "case_screener_id", server_default=None)
        op.alter_column("referral", "case_state", server_default=None)
    for _name, definition in rebuilt:
        bind.execute(sa.text(definition))
    # Built after the UPDATE, so it does not maintain them row by row.
    for name, columns in INDEXES:
        op.create_index(name, "referral", columns)


# The referral table's indexes other than its constraints', as PostgreSQL would create them.
REFERRAL_INDEXES = """
SELECT indexname, indexdef FROM pg_indexes
WHERE schemaname = current_schema() AND tablename = 'referral' AND indexname NOT IN (
    SELECT conname FROM pg_constraint WHERE conrelid = 'referral'::regclass
)
ORDER BY indexname
"""


def downgrade() -> None:
    for name, _columns in INDEXES:
        op.drop_index(name, table_name="referral")
    # SQLite 3.35 and later drop a column in place (no copy of the table, see upgrade).
    op.drop_column("referral", "case_state")
    op.drop_column("referral", "case_screener_id")
