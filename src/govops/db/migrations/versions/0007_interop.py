"""interop: stored SDMX and DHIS2 mappings; the mapping a submission was read with

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 00:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "interop_mapping",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("structure", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interop_mapping")),
        sa.UniqueConstraint("name", name=op.f("uq_interop_mapping_name")),
    )
    with op.batch_alter_table("exchange_submission") as batch:
        batch.add_column(sa.Column("mapping", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("file_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exchange_submission") as batch:
        batch.drop_column("file_name")
        batch.drop_column("mapping")
    op.drop_table("interop_mapping")
