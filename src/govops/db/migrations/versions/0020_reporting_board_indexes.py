"""reporting: indexes the compliance board reads by: the latest periods, and each period's reports by agency and
status (read from the index alone, without the table)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 08:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_reporting_expected_period_start", "reporting_expected", ["period_start", "period"])
    op.drop_index("ix_reporting_expected_period_status", table_name="reporting_expected")
    op.create_index(
        "ix_reporting_expected_period_agency_status", "reporting_expected", ["period", "agency_id", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_reporting_expected_period_agency_status", table_name="reporting_expected")
    op.create_index("ix_reporting_expected_period_status", "reporting_expected", ["period", "status"])
    op.drop_index("ix_reporting_expected_period_start", table_name="reporting_expected")
