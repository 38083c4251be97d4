"""events: one cursor table for every follower of the outbox; the compliance follower's and the forecast watcher's
positions move into it and their own tables go

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The followers' own tables and cursor names before, and their names in `event_follower`.
MOVED = (
    ("reporting_cursor", "observations", "reporting.follow-changes"),
    ("forecast_cursor", "watch", "forecast.watch"),
)


def _cursor_table(name: str) -> sa.TableClause:
    return sa.table(
        name,
        sa.column("name", sa.String()),
        sa.column("last_event_id", BigId),
        sa.column("moved_at", sa.DateTime(timezone=True)),
    )


def upgrade() -> None:
    followers = op.create_table(
        "event_follower",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("last_event_id", BigId, nullable=False),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_event_follower")),
    )
    conn = op.get_bind()
    for table, old, new in MOVED:
        old_rows = _cursor_table(table)
        for last_event_id, moved_at in conn.execute(
            sa.select(old_rows.c.last_event_id, old_rows.c.moved_at).where(old_rows.c.name == old)
        ):
            conn.execute(followers.insert().values(name=new, last_event_id=last_event_id, moved_at=moved_at))
        op.drop_table(table)


def downgrade() -> None:
    conn = op.get_bind()
    followers = _cursor_table("event_follower")
    for table, old, new in MOVED:
        moved = op.create_table(
            table,
            sa.Column("name", sa.String(length=40), nullable=False),
            sa.Column("last_event_id", BigId, nullable=False),
            sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("name", name=op.f(f"pk_{table}")),
        )
        for last_event_id, moved_at in conn.execute(
            sa.select(followers.c.last_event_id, followers.c.moved_at).where(followers.c.name == new)
        ):
            conn.execute(moved.insert().values(name=old, last_event_id=last_event_id, moved_at=moved_at))
    op.drop_table("event_follower")
