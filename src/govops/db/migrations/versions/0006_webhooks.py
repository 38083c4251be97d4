"""webhooks: members' subscriptions and their deliveries

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 21:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_webhook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("filters", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("cursor_event_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["exchange_member.id"], name=op.f("fk_exchange_webhook_member_id_exchange_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_webhook")),
    )
    op.create_table(
        "exchange_webhook_delivery",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("first_event_id", sa.BigInteger(), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_by", sa.String(length=64), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["exchange_webhook.id"],
            name=op.f("fk_exchange_webhook_delivery_subscription_id_exchange_webhook"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_webhook_delivery")),
    )
    op.create_index("ix_exchange_webhook_delivery_due", "exchange_webhook_delivery", ["status", "next_attempt_at"])
    op.create_index(
        op.f("ix_exchange_webhook_delivery_subscription_id"), "exchange_webhook_delivery", ["subscription_id"]
    )


def downgrade() -> None:
    op.drop_table("exchange_webhook_delivery")
    op.drop_table("exchange_webhook")
