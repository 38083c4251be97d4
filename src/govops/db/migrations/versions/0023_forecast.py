"""forecast: runs, forecasts with their origin (vintages), their points with 80/95% bands, early warnings

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 09:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "forecast_run",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("trigger", sa.String(length=40), nullable=False),
        sa.Column("series", sa.Integer(), nullable=False),
        sa.Column("factors", sa.JSON(), nullable=False),
    )
    op.create_table(
        "forecast",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("forecast_run.id", ondelete="CASCADE"), nullable=False),
        sa.Column("indicator_id", sa.Integer(), sa.ForeignKey("indicator.id"), nullable=False),
        sa.Column("area_id", sa.Integer(), sa.ForeignKey("area.id"), nullable=False),
        sa.Column("dim_key", sa.String(length=200), nullable=False),
        sa.Column("freq", sa.String(length=3), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=60), nullable=False),
        sa.Column("backtest_smape", sa.Float(), nullable=True),
        sa.Column("backtest_mase", sa.Float(), nullable=True),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_forecast_run_id", "forecast", ["run_id"])
    op.create_index("ix_forecast_series", "forecast", ["indicator_id", "area_id", "dim_key", "origin"])
    op.create_index("ix_forecast_area_id", "forecast", ["area_id"])
    op.create_table(
        "forecast_point",
        sa.Column("forecast_id", BigId, sa.ForeignKey("forecast.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("step", sa.Integer(), primary_key=True),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        sa.Column("lo80", sa.Float(), nullable=True),
        sa.Column("hi80", sa.Float(), nullable=True),
        sa.Column("lo95", sa.Float(), nullable=True),
        sa.Column("hi95", sa.Float(), nullable=True),
    )
    op.create_table(
        "forecast_warning",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("indicator_id", sa.Integer(), sa.ForeignKey("indicator.id"), nullable=False),
        sa.Column("area_id", sa.Integer(), sa.ForeignKey("area.id"), nullable=False),
        sa.Column("dim_key", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=True),
        sa.Column("lower", sa.Float(), nullable=True),
        sa.Column("upper", sa.Float(), nullable=True),
        sa.Column("drivers", sa.JSON(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_forecast_warning_indicator_id", "forecast_warning", ["indicator_id"])
    op.create_index("ix_forecast_warning_area_id", "forecast_warning", ["area_id"])
    op.create_index(
        "ix_forecast_warning_key", "forecast_warning", ["kind", "indicator_id", "area_id", "dim_key", "period"]
    )


def downgrade() -> None:
    op.drop_table("forecast_warning")
    op.drop_table("forecast_point")
    op.drop_table("forecast")
    op.drop_table("forecast_run")
