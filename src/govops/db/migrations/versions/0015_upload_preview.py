"""exchange: console uploads previewed before they are stored, and the person who sent each

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exchange_submission") as batch:
        batch.add_column(sa.Column("submitted_by", sa.String(length=80), nullable=True))
    op.create_table(
        "exchange_upload_preview",
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("mapping", sa.String(length=80), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("plan_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_exchange_upload_preview_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["exchange_member.id"], name=op.f("fk_exchange_upload_preview_member_id_exchange_member")
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_exchange_upload_preview")),
    )
    op.create_index(op.f("ix_exchange_upload_preview_user_id"), "exchange_upload_preview", ["user_id"])
    op.create_index(op.f("ix_exchange_upload_preview_member_id"), "exchange_upload_preview", ["member_id"])
    op.create_index(op.f("ix_exchange_upload_preview_expires_at"), "exchange_upload_preview", ["expires_at"])


def downgrade() -> None:
    op.drop_table("exchange_upload_preview")
    with op.batch_alter_table("exchange_submission") as batch:
        batch.drop_column("submitted_by")
