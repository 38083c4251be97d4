"""quality: validation rules, the flags raised on suspicious values, and each flag's timeline

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 08:16:58
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quality_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name_vi", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("left", sa.Text(), nullable=False),
        sa.Column("operator", sa.String(length=16), nullable=False),
        sa.Column("right", sa.Text(), nullable=False),
        sa.Column("tolerance", sa.Float(), nullable=False),
        sa.Column("missing", sa.String(length=24), nullable=False),
        sa.Column("importance", sa.String(length=8), nullable=False),
        sa.Column("blocking", sa.Boolean(), nullable=False),
        sa.Column("area_level", sa.String(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("periodicity", sa.String(length=3), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.CheckConstraint("area_level IN ('any', 'nation', 'province')", name=op.f("ck_quality_rule_area_level")),
        sa.CheckConstraint("importance IN ('high', 'medium', 'low')", name=op.f("ck_quality_rule_importance")),
        sa.CheckConstraint(
            "missing IN ('skip_if_any_missing', 'skip_if_all_missing', 'never_skip')",
            name=op.f("ck_quality_rule_missing"),
        ),
        sa.CheckConstraint(
            "operator IN ('==', '!=', '<', '<=', '>', '>=', 'compulsory_pair', 'exclusive_pair')",
            name=op.f("ck_quality_rule_operator"),
        ),
        sa.CheckConstraint("tolerance >= 0", name=op.f("ck_quality_rule_tolerance")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_rule")),
        sa.UniqueConstraint("code", name=op.f("uq_quality_rule_code")),
    )
    op.create_table(
        "quality_flag",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("fingerprint", sa.String(length=200), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("dim_key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("expected", sa.Float(), nullable=True),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        sa.Column("likely", sa.Float(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("source_agency_id", sa.Integer(), nullable=True),
        sa.Column("submission_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raised_by", sa.String(length=120), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=120), nullable=True),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "method IN ('rule', 'unit_slip', 'sign_error', 'digit_swap', 'outlier', 'frozen', 'level_shift', 'negative', 'revision')",
            name=op.f("ck_quality_flag_method"),
        ),
        sa.CheckConstraint("severity IN ('high', 'medium', 'low')", name=op.f("ck_quality_flag_severity")),
        sa.CheckConstraint(
            "status IN ('open', 'confirmed', 'corrected', 'dismissed')", name=op.f("ck_quality_flag_status")
        ),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], name=op.f("fk_quality_flag_area_id_area")),
        sa.ForeignKeyConstraint(
            ["indicator_id"], ["indicator.id"], name=op.f("fk_quality_flag_indicator_id_indicator")
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["quality_rule.id"], name=op.f("fk_quality_flag_rule_id_quality_rule"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["source_agency_id"], ["agency.id"], name=op.f("fk_quality_flag_source_agency_id_agency")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_flag")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_quality_flag_fingerprint")),
    )
    with op.batch_alter_table("quality_flag", schema=None) as batch_op:
        batch_op.create_index("ix_quality_flag_agency_status", ["source_agency_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_flag_area_id"), ["area_id"], unique=False)
        batch_op.create_index("ix_quality_flag_raised_at", ["raised_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_flag_rule_id"), ["rule_id"], unique=False)
        batch_op.create_index("ix_quality_flag_series", ["indicator_id", "area_id", "dim_key", "period"], unique=False)

    op.create_table(
        "quality_flag_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("flag_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=120), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["flag_id"],
            ["quality_flag.id"],
            name=op.f("fk_quality_flag_event_flag_id_quality_flag"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_flag_event")),
    )
    with op.batch_alter_table("quality_flag_event", schema=None) as batch_op:
        batch_op.create_index("ix_quality_flag_event_flag_id_id", ["flag_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quality_flag_event", schema=None) as batch_op:
        batch_op.drop_index("ix_quality_flag_event_flag_id_id")

    op.drop_table("quality_flag_event")
    with op.batch_alter_table("quality_flag", schema=None) as batch_op:
        batch_op.drop_index("ix_quality_flag_series")
        batch_op.drop_index(batch_op.f("ix_quality_flag_rule_id"))
        batch_op.drop_index("ix_quality_flag_raised_at")
        batch_op.drop_index(batch_op.f("ix_quality_flag_area_id"))
        batch_op.drop_index("ix_quality_flag_agency_status")

    op.drop_table("quality_flag")
    op.drop_table("quality_rule")
