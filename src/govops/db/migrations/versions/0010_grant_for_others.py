"""exchange: a grant may let a member submit a group's figures with another agency as their source

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exchange_grant") as batch:
        batch.add_column(sa.Column("for_others", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("exchange_grant") as batch:
        batch.drop_column("for_others")
