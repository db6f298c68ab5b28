"""A screening keeps the answer to each question (yes, no, not asked, prefers not to say)
and how many questions were not asked, so supervisors see how complete screenings are.

Both are empty for screenings made before, or through the API, the CLI or bulk import
(those send indicators only).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN, not a batch: SQLite (3.35+) does both in place, while a batch would
# copy and drop the screening table, which screening_form and referral rows point at.
def upgrade() -> None:
    op.add_column("screening", sa.Column("answers", sa.JSON(), nullable=True))
    op.add_column("screening", sa.Column("questions_not_asked", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("screening", "questions_not_asked")
    op.drop_column("screening", "answers")
