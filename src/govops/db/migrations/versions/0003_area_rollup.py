"""indicator state, area roll-ups, change events (the outbox), and an index for a few areas' series

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 20:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_observation_area_series", "observation", ["indicator_id", "dim_key", "area_id", "period_start"])
    op.create_table(
        "area_rollup",
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("dim_key", sa.String(length=200), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("have", sa.Integer(), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], name=op.f("fk_area_rollup_area_id_area")),
        sa.ForeignKeyConstraint(["indicator_id"], ["indicator.id"], name=op.f("fk_area_rollup_indicator_id_indicator")),
        sa.PrimaryKeyConstraint("indicator_id", "dim_key", "area_id", "period", name=op.f("pk_area_rollup")),
    )
    # Existing observations get their roll-ups from `govops db upgrade`, which refreshes stale ones.
    op.create_table(
        "indicator_state",
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("rollup_signature", sa.String(length=200), nullable=False),
        sa.Column("data_version", sa.Integer(), nullable=False),
        sa.Column("last_change_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"], ["indicator.id"], name=op.f("fk_indicator_state_indicator_id_indicator")
        ),
        sa.PrimaryKeyConstraint("indicator_id", name=op.f("pk_indicator_state")),
    )

    op.create_table(
        "change_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("observation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("dim_key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=True),
        sa.Column("submission_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["area_id"], ["area.id"], name=op.f("fk_change_event_area_id_area")),
        sa.ForeignKeyConstraint(
            ["indicator_id"], ["indicator.id"], name=op.f("fk_change_event_indicator_id_indicator")
        ),
        sa.ForeignKeyConstraint(
            ["observation_id"], ["observation.id"], name=op.f("fk_change_event_observation_id_observation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_event")),
        sa.UniqueConstraint("indicator_id", "seq", name=op.f("uq_change_event_indicator_id_seq")),
    )
    op.create_index(op.f("ix_change_event_submission_id"), "change_event", ["submission_id"])


def downgrade() -> None:
    op.drop_table("change_event")
    op.drop_index("ix_observation_area_series", table_name="observation")
    op.drop_table("indicator_state")
    op.drop_table("area_rollup")
