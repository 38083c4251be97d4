"""forecast: thresholds (levels the Government cares about), the warnings that name the level they crossed, and
the cursor of the watcher that checks each new value against its forecast's band

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03 12:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "forecast_threshold",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(length=40), nullable=False, unique=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("indicator_id", sa.Integer(), sa.ForeignKey("indicator.id"), nullable=False),
        sa.Column("area_id", sa.Integer(), sa.ForeignKey("area.id"), nullable=False),
        sa.Column("dim_key", sa.String(length=200), nullable=False),
        sa.Column("measure", sa.String(length=10), nullable=False),
        sa.Column("direction", sa.String(length=5), nullable=False),
        sa.Column("level", sa.Float(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("name_vi", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_forecast_threshold_indicator_id", "forecast_threshold", ["indicator_id"])
    op.create_index("ix_forecast_threshold_area_id", "forecast_threshold", ["area_id"])
    with op.batch_alter_table("forecast_warning") as batch:
        batch.add_column(sa.Column("threshold_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_forecast_warning_threshold", "forecast_threshold", ["threshold_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_forecast_warning_threshold_id", ["threshold_id"])
    op.create_table(
        "forecast_cursor",
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("last_event_id", BigId, nullable=False),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("forecast_cursor")
    with op.batch_alter_table("forecast_warning") as batch:
        batch.drop_index("ix_forecast_warning_threshold_id")
        batch.drop_constraint("fk_forecast_warning_threshold", type_="foreignkey")
        batch.drop_column("threshold_id")
    op.drop_index("ix_forecast_threshold_area_id", table_name="forecast_threshold")
    op.drop_index("ix_forecast_threshold_indicator_id", table_name="forecast_threshold")
    op.drop_table("forecast_threshold")
