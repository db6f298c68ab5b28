"""The loop panel bounded by what it reads (issue 17, third pass): first answers as maintained
counts (``answer_count``: whole-hour bins by day, month, year and all time, folded from the
same deltas as ``aggregate_count``) and each case's legal clocks (``loop_clock``: when its
child-protection notice fell due while none is recorded, when its reflection period
started), both filled here from the rows already present.

Revision ID: 0020_perf_loop
Revises: 0019_screener_list
Create Date: 2026-11-30
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0020_perf_loop"
down_revision = "0019_screener_list"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answer_count",
        sa.Column("grain", sa.String(1), primary_key=True),
        sa.Column("bucket", sa.String(10), primary_key=True),
        sa.Column("state", sa.String(8), primary_key=True),
        sa.Column("service", sa.String(120), primary_key=True),
        sa.Column("need", sa.String(40), primary_key=True),
        sa.Column("answered_by", sa.String(10), primary_key=True),
        sa.Column("hours", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "loop_clock",
        sa.Column(
            "case_id",
            sa.Integer(),
            sa.ForeignKey("case_file.id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("notice_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reflection_starts_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_loop_clock_notice", "loop_clock", ["notice_due_at", "state"])
    op.create_index("ix_loop_clock_state_notice", "loop_clock", ["state", "notice_due_at"])
    op.create_index("ix_loop_clock_reflection", "loop_clock", ["reflection_starts_at", "state"])
    op.create_index(
        "ix_loop_clock_state_reflection", "loop_clock", ["state", "reflection_starts_at"]
    )
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM case_file")).scalar_one():
        _backfill(bind)


def _backfill(bind: sa.Connection) -> None:
    """Both tables from the rows, with the code that keeps them (one pass over the referral
    events and the minors' and indicated foreign screenings)."""
    from referral.supervision import aggregates

    session: Any = _OnConnection(bind)
    answers = aggregates.recounted_answers(session)
    aggregates._upsert_answers(session, answers)
    clocks = 0
    for part in aggregates.clock_row_windows(session):  # a window of case ids at a time
        rows = [part[k] for k in sorted(part)]
        for start in range(0, len(rows), 2000):
            bind.execute(sa.insert(aggregates.CLOCK_TABLE), rows[start : start + 2000])
        clocks += len(rows)
    answered = sum(n for key, n in answers.items() if key[0] == aggregates.ALL_TIME)
    print(f"0019: {answered} first answers counted, {clocks} case clocks")


class _OnConnection:
    """What the counting code asks of a session, answered by the migration's connection (a
    session of its own would open a transaction of its own)."""

    def __init__(self, bind: sa.Connection) -> None:
        self.bind = bind

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        return self.bind.execute(*args, **kwargs)

    def get_bind(self) -> sa.Connection:
        return self.bind

    def connection(self) -> sa.Connection:
        return self.bind


def downgrade() -> None:
    op.drop_index("ix_loop_clock_state_reflection", table_name="loop_clock")
    op.drop_index("ix_loop_clock_reflection", table_name="loop_clock")
    op.drop_index("ix_loop_clock_state_notice", table_name="loop_clock")
    op.drop_index("ix_loop_clock_notice", table_name="loop_clock")
    op.drop_table("loop_clock")
    op.drop_table("answer_count")
