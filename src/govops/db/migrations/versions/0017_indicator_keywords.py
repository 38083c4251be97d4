"""indicator keywords: other words people use for an indicator (Vietnamese, English), found by the search

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild on SQLite): the catalogue triggers of 0014 stay on the table.
    op.add_column("indicator", sa.Column("keywords_vi", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("indicator", sa.Column("keywords_en", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    op.drop_column("indicator", "keywords_en")
    op.drop_column("indicator", "keywords_vi")
