"""every foreign key indexed: deleting an observation no longer scans the whole change feed

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 01:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# (table, column): each foreign key that did not lead an index or primary key before.
FOREIGN_KEYS = (
    ("agency", "area_id"),
    ("agency", "parent_id"),
    ("area", "successor_id"),
    ("area_rollup", "area_id"),
    ("change_event", "area_id"),
    ("change_event", "observation_id"),
    ("exchange_api_key", "member_id"),
    ("exchange_grant", "group_id"),
    ("exchange_webhook", "member_id"),
    ("indicator", "area_weight_id"),
    ("indicator", "owner_id"),
    ("indicator", "unit_id"),
    ("indicator_dimension", "codelist_id"),
    ("indicator_group_member", "group_id"),
    ("observation", "area_id"),
    ("observation", "source_agency_id"),
    ("observation_revision", "source_agency_id"),
)


def upgrade() -> None:
    for table, column in FOREIGN_KEYS:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(FOREIGN_KEYS):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
