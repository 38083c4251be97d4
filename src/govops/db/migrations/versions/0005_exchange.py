"""data exchange: members (agency systems), their API keys, grants per indicator group, submissions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exchange_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("system_code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=True),
        sa.Column("clearance", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_contact_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_exchange_member_agency_id_agency")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_member")),
        sa.UniqueConstraint("agency_id", "system_code", name=op.f("uq_exchange_member_agency_id_system_code")),
        sa.UniqueConstraint("code", name=op.f("uq_exchange_member_code")),
    )
    op.create_table(
        "exchange_api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["exchange_member.id"], name=op.f("fk_exchange_api_key_member_id_exchange_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_api_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_exchange_api_key_prefix")),
    )
    op.create_table(
        "exchange_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("can_read", sa.Boolean(), nullable=False),
        sa.Column("can_write", sa.Boolean(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["indicator_group.id"], name=op.f("fk_exchange_grant_group_id_indicator_group")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["exchange_member.id"], name=op.f("fk_exchange_grant_member_id_exchange_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_grant")),
        sa.UniqueConstraint("member_id", "group_id", name=op.f("uq_exchange_grant_member_id_group_id")),
    )

    op.create_table(
        "exchange_submission",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("client_signature", sa.String(length=100), nullable=True),
        sa.Column("server_signature", sa.String(length=100), nullable=False),
        sa.Column("server_key_id", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["exchange_member.id"], name=op.f("fk_exchange_submission_member_id_exchange_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_submission")),
        sa.UniqueConstraint(
            "member_id", "idempotency_key", name=op.f("uq_exchange_submission_member_id_idempotency_key")
        ),
    )


def downgrade() -> None:
    op.drop_table("exchange_submission")
    op.drop_table("exchange_grant")
    op.drop_table("exchange_api_key")
    op.drop_table("exchange_member")
