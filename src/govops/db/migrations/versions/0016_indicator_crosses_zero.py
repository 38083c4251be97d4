"""indicator.crosses_zero: a balance whose changes are differences, not percentages

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 13:40:00

A trade balance or a budget surplus/deficit can be negative one month and positive the next; a percentage
change of it ("-114.8% on the previous month") says nothing. Pages show such an indicator's changes as
differences in its own unit. The reference balances are marked when the reference catalogue is loaded.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE on SQLite too: copying the table (batch mode) would drop its catalogue-stamp triggers.
    op.add_column("indicator", sa.Column("crosses_zero", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE indicator SET crosses_zero = true WHERE code IN ('TRADE_BALANCE', 'BUDGET_BALANCE')")


def downgrade() -> None:
    op.execute("ALTER TABLE indicator DROP COLUMN crosses_zero")
