"""warehouse: the roll-ups indexed as pages read them (indicators at a few areas since a first day), carrying the
figures on PostgreSQL so that a page's read need not visit the table

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 16:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_area_rollup_series",
        "area_rollup",
        ["indicator_id", "dim_key", "area_id", "period_start"],
        postgresql_include=["period", "value", "status", "have", "expected"],
    )


def downgrade() -> None:
    op.drop_index("ix_area_rollup_series", table_name="area_rollup")
