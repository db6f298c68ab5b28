"""Cases, screenings, intake drafts, referrals and referral gaps.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _user(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Integer(), sa.ForeignKey("user_account.id"), nullable=nullable)


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "case_file",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("state", sa.String(8), nullable=False),
        _user("screener_id"),
        sa.Column("consent_referral", sa.Boolean(), nullable=False),
        sa.Column("consent_statistics", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("latest_status", sa.String(20), nullable=False),
        sa.Column("latest_screening_id", sa.Integer(), nullable=True),
        _when("first_screened_at"),
        _when("created_at"),
        _when("updated_at"),
    )
    op.create_index("ix_case_file_state_status", "case_file", ["state", "latest_status"])
    op.create_index("ix_case_file_screener", "case_file", ["screener_id", "updated_at"])
    op.create_index("ix_case_file_first_screened", "case_file", ["first_screened_at"])

    op.create_table(
        "screening",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case_file.id"), nullable=False),
        _user("screener_id"),
        _when("screened_at"),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("rules_version", sa.String(80), nullable=False),
        sa.Column("lang", sa.String(5), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("encounter", sa.String(40), nullable=False),
        sa.Column("sex", sa.String(10), nullable=False),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("minor", sa.Boolean(), nullable=False),
        sa.Column("foreign", sa.Boolean(), nullable=False),
        sa.Column("nationality", sa.String(2), nullable=False),
    )
    op.create_index("ix_screening_case", "screening", ["case_id", "screened_at"])
    op.create_index("ix_screening_screened_at", "screening", ["screened_at"])
    op.create_index("ix_screening_state_encounter", "screening", ["state", "encounter"])

    op.create_table(
        "screening_form",
        sa.Column("screening_id", sa.Integer(), sa.ForeignKey("screening.id"), primary_key=True),
        sa.Column("form", sa.String(40), primary_key=True),
    )

    op.create_table(
        "intake_draft",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        _user("user_id"),
        sa.Column(
            "rescreen_case_id", sa.Integer(), sa.ForeignKey("case_file.id"), nullable=True
        ),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("section", sa.String(20), nullable=False),
        sa.Column(
            "submitted_case_id", sa.Integer(), sa.ForeignKey("case_file.id"), nullable=True
        ),
        _when("created_at"),
        _when("updated_at"),
    )
    op.create_index("ix_intake_draft_user", "intake_draft", ["user_id", "updated_at"])

    op.create_table(
        "referral",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case_file.id"), nullable=False),
        sa.Column("screening_id", sa.Integer(), sa.ForeignKey("screening.id"), nullable=True),
        sa.Column("need", sa.String(40), nullable=False),
        sa.Column("service_id", sa.String(120), sa.ForeignKey("service.id"), nullable=True),
        sa.Column("ad_hoc_provider", sa.String(200), nullable=True),
        sa.Column("ad_hoc_reason", sa.String(500), nullable=True),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason_code", sa.String(40), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _user("created_by"),
        _user("updated_by"),
        _when("created_at"),
        _when("updated_at"),
        _when("accepted_at", nullable=True),
    )
    op.create_index("ix_referral_case", "referral", ["case_id"])
    op.create_index("ix_referral_state_status", "referral", ["state", "status"])
    op.create_index("ix_referral_created_by", "referral", ["created_by", "status"])

    op.create_table(
        "referral_event",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("referral_id", sa.Integer(), sa.ForeignKey("referral.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason_code", sa.String(40), nullable=True),
        _when("at"),
        _user("by_user_id"),
    )
    op.create_index("ix_referral_event_referral", "referral_event", ["referral_id", "at"])

    op.create_table(
        "gap",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case_file.id"), nullable=False),
        sa.Column("screening_id", sa.Integer(), sa.ForeignKey("screening.id"), nullable=True),
        sa.Column("referral_id", sa.Integer(), sa.ForeignKey("referral.id"), nullable=True),
        sa.Column("need", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        _when("opened_at"),
        _when("closed_at", nullable=True),
    )
    op.create_index(
        "uq_gap_open",
        "gap",
        ["case_id", "need", "kind"],
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_index("ix_gap_state_opened", "gap", ["state", "opened_at"])
    op.create_index("ix_gap_need_kind", "gap", ["need", "kind"])

    op.create_table(
        "gap_reason",
        sa.Column("gap_id", sa.Integer(), sa.ForeignKey("gap.id"), primary_key=True),
        sa.Column("reason", sa.String(40), primary_key=True),
    )
    op.create_index("ix_gap_reason_reason", "gap_reason", ["reason"])


def downgrade() -> None:
    op.drop_table("gap_reason")
    op.drop_table("gap")
    op.drop_table("referral_event")
    op.drop_table("referral")
    op.drop_table("intake_draft")
    op.drop_table("screening_form")
    op.drop_table("screening")
    op.drop_table("case_file")
