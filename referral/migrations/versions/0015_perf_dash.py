"""Maintained dashboard aggregates: counts, deltas waiting to be folded, erased cases'
contributions, and whether the counts were built (issue 17).

A database that already holds cases is marked not built: the dashboard counts from the
rows, as before, until `flask --app referral aggregates rebuild` builds the counts.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

KEY_COLUMNS = (
    ("grain", 1),
    ("scope", 60),
    ("state", 8),
    ("bucket", 10),
    ("dim", 20),
    ("key", 60),
)


def _counts(name: str) -> None:
    op.create_table(
        name,
        *[
            sa.Column(column, sa.String(length=size), nullable=False)
            for column, size in KEY_COLUMNS
        ],
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*[column for column, _size in KEY_COLUMNS]),
        sqlite_with_rowid=False,  # clustered by the key: a page's read is one range
    )


def upgrade() -> None:
    _counts("aggregate_count")
    _counts("aggregate_erased")
    op.create_table(
        "aggregate_delta",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sign", sa.Integer(), nullable=False),
        sa.Column("fact", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    status = op.create_table(
        "aggregate_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("built", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    if op.get_bind().execute(sa.text("SELECT count(*) FROM case_file")).scalar_one():
        op.bulk_insert(status, [{"id": 1, "built": False}])


def downgrade() -> None:
    for name in ("aggregate_status", "aggregate_delta", "aggregate_erased", "aggregate_count"):
        op.drop_table(name)
