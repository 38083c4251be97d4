"""jobs: the record of scheduled job runs, one per job, due time and scope (the claim)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 05:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("job", sa.String(length=100), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'retrying', 'succeeded', 'failed')", name=op.f("ck_job_run_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_run")),
        sa.UniqueConstraint("job", "due_at", "scope", name=op.f("uq_job_run_job_due_at_scope")),
    )
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.create_index("ix_job_run_state_next_try_at", ["state", "next_try_at"], unique=False)
        batch_op.create_index("ix_job_run_job_started_at", ["job", "started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.drop_index("ix_job_run_job_started_at")
        batch_op.drop_index("ix_job_run_state_next_try_at")
    op.drop_table("job_run")
