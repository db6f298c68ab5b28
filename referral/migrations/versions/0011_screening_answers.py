"""A screening keeps the answer to each question (yes, no, not asked, prefers not to say)
and how many questions were not asked, so supervisors see how complete screenings are.

Both are empty for screenings made before, or through the API, the CLI or bulk import
(those send indicators only).

Revision ID: 0011_screening_answers
Revises: 0010
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_screening_answers"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("screening") as batch:
        batch.add_column(sa.Column("answers", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("questions_not_asked", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("screening") as batch:
        batch.drop_column("questions_not_asked")
        batch.drop_column("answers")
