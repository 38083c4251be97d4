"""tasks: an index of the open tasks by the date they are judged against (the deadline, or a recurring task's next
report date), for the leader's view and the list of tasks long overdue; on PostgreSQL, where large stores live

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_task_open_due",
            "task",
            [sa.text("coalesce(deadline, next_due_on)"), "id"],
            postgresql_where=sa.text("closed_on IS NULL"),
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_task_open_due", table_name="task")
