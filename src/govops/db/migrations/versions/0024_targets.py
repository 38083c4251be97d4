"""targets: plans, their targets (cascaded to provinces and ministries), responsible agencies, linked tasks, the
progress the data show and the rating history

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "target_plan",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(length=40), nullable=False, unique=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title_vi", sa.String(length=500), nullable=False),
        sa.Column("title_en", sa.String(length=500), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('resolution', 'decision', 'five_year_plan', 'programme')", name="kind"),
    )
    op.create_table(
        "target",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("target_plan.id", ondelete="CASCADE"), nullable=False),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("target.id", ondelete="CASCADE"), nullable=True),
        sa.Column("code", sa.String(length=60), nullable=False, unique=True),
        sa.Column("name_vi", sa.String(length=500), nullable=False),
        sa.Column("name_en", sa.String(length=500), nullable=False),
        sa.Column("indicator_id", sa.Integer(), sa.ForeignKey("indicator.id"), nullable=True),
        sa.Column("comparator", sa.String(length=10), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("value_high", sa.Float(), nullable=True),
        sa.Column("tolerance", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("base_value", sa.Float(), nullable=True),
        sa.Column("base_year", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("area_id", sa.Integer(), sa.ForeignKey("area.id"), nullable=False),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), nullable=True),
        sa.Column("article", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("alert_below", sa.Float(), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("assessed_rating", sa.String(length=10), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("comparator IN ('at_least', 'at_most', 'between', 'about')", name="comparator"),
        sa.CheckConstraint("level IN ('nation', 'province', 'ministry')", name="level"),
    )
    op.create_index("ix_target_plan_id", "target", ["plan_id"])
    op.create_index("ix_target_parent_id", "target", ["parent_id"])
    op.create_index("ix_target_indicator_id", "target", ["indicator_id"])
    op.create_index("ix_target_area_id", "target", ["area_id"])
    op.create_index("ix_target_agency_id", "target", ["agency_id"])
    op.create_index("ix_target_period_level", "target", ["period", "level"])
    op.create_table(
        "target_agency",
        sa.Column("target_id", sa.Integer(), sa.ForeignKey("target.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("agency.id"), primary_key=True),
    )
    op.create_index("ix_target_agency_agency_id", "target_agency", ["agency_id"])
    op.create_table(
        "target_task",
        sa.Column("target_id", sa.Integer(), sa.ForeignKey("target.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("task.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_target_task_task_id", "target_task", ["task_id"])
    op.create_table(
        "target_progress",
        sa.Column("target_id", sa.Integer(), sa.ForeignKey("target.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.String(length=16), nullable=True),
        sa.Column("actual", sa.Float(), nullable=True),
        sa.Column("actual_kind", sa.String(length=10), nullable=False),
        sa.Column("required", sa.Float(), nullable=True),
        sa.Column("gap", sa.Float(), nullable=True),
        sa.Column("projected", sa.Float(), nullable=True),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=True),
        sa.Column("growth_ratio", sa.Float(), nullable=True),
        sa.Column("status_index", sa.Float(), nullable=True),
        sa.Column("anticipated_index", sa.Float(), nullable=True),
        sa.Column("rating", sa.String(length=10), nullable=False),
        sa.Column("path", sa.JSON(), nullable=False),
        sa.Column("drivers", sa.JSON(), nullable=False),
    )
    op.create_table(
        "target_rating",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("target_id", sa.Integer(), sa.ForeignKey("target.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.String(length=16), nullable=True),
        sa.Column("rating", sa.String(length=10), nullable=False),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.Column("alerted", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_target_rating_target_id_id", "target_rating", ["target_id", "id"])


def downgrade() -> None:
    op.drop_table("target_rating")
    op.drop_table("target_progress")
    op.drop_table("target_task")
    op.drop_table("target_agency")
    op.drop_table("target")
    op.drop_table("target_plan")
