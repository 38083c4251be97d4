"""reporting: regimes versioned from a period on, expected reports with their computed compliance, signed
documents, reminders sent once, and the compliance follower's cursor

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "reporting_cursor",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last_event_id", _BIG_ID, nullable=False),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_reporting_cursor")),
    )
    op.create_table(
        "reporting_regime",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reporting_regime")),
        sa.UniqueConstraint("code", name=op.f("uq_reporting_regime_code")),
    )
    op.create_table(
        "reporting_regime_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("regime_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.String(length=16), nullable=False),
        sa.Column("valid_from_start", sa.Date(), nullable=False),
        sa.Column("name_vi", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("legal_basis", sa.String(length=300), nullable=False),
        sa.Column("legal_date", sa.Date(), nullable=True),
        sa.Column("frequency", sa.String(length=1), nullable=False),
        sa.Column("deadline_rule", sa.String(length=120), nullable=False),
        sa.Column("cutoff_rule", sa.String(length=120), nullable=True),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("lock_days", sa.Integer(), nullable=False),
        sa.Column("replaced_by_data", sa.Boolean(), nullable=False),
        sa.Column("requires_document", sa.Boolean(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("agency_kinds", sa.JSON(), nullable=False),
        sa.Column("agencies", sa.JSON(), nullable=False),
        sa.Column("coverage", sa.String(length=24), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "coverage IN ('own_area', 'own_area_and_wards', 'nation', 'provinces')",
            name=op.f("ck_reporting_regime_version_coverage"),
        ),
        sa.CheckConstraint("frequency IN ('M', 'Q', 'S', 'A')", name=op.f("ck_reporting_regime_version_frequency")),
        sa.ForeignKeyConstraint(
            ["regime_id"],
            ["reporting_regime.id"],
            name=op.f("fk_reporting_regime_version_regime_id_reporting_regime"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reporting_regime_version")),
        sa.UniqueConstraint("regime_id", "valid_from", name=op.f("uq_reporting_regime_version_regime_id_valid_from")),
    )
    with op.batch_alter_table("reporting_regime_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reporting_regime_version_regime_id"), ["regime_id"], unique=False)

    op.create_table(
        "reporting_expected",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("regime_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("grace_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lock_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("required", sa.Integer(), nullable=False),
        sa.Column("present", sa.Integer(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("days_late", sa.Integer(), nullable=True),
        sa.Column("revisions_after_lock", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('on_time', 'late', 'partial', 'missing', 'not_due')", name=op.f("ck_reporting_expected_status")
        ),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_reporting_expected_agency_id_agency")),
        sa.ForeignKeyConstraint(
            ["regime_id"],
            ["reporting_regime.id"],
            name=op.f("fk_reporting_expected_regime_id_reporting_regime"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["reporting_regime_version.id"],
            name=op.f("fk_reporting_expected_version_id_reporting_regime_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reporting_expected")),
        sa.UniqueConstraint(
            "regime_id", "agency_id", "period", name=op.f("uq_reporting_expected_regime_id_agency_id_period")
        ),
    )
    with op.batch_alter_table("reporting_expected", schema=None) as batch_op:
        batch_op.create_index("ix_reporting_expected_agency_period", ["agency_id", "period_start"], unique=False)
        batch_op.create_index("ix_reporting_expected_deadline", ["deadline"], unique=False)
        batch_op.create_index("ix_reporting_expected_period_status", ["period", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_reporting_expected_version_id"), ["version_id"], unique=False)

    op.create_table(
        "reporting_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("expected_id", _BIG_ID, nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["expected_id"],
            ["reporting_expected.id"],
            name=op.f("fk_reporting_document_expected_id_reporting_expected"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reporting_document")),
    )
    with op.batch_alter_table("reporting_document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reporting_document_expected_id"), ["expected_id"], unique=False)

    op.create_table(
        "reporting_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("expected_id", _BIG_ID, nullable=False),
        sa.Column("stage", sa.String(length=10), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "stage IN ('before', 'due', 'after', 'escalated')", name=op.f("ck_reporting_reminder_stage")
        ),
        sa.ForeignKeyConstraint(
            ["expected_id"],
            ["reporting_expected.id"],
            name=op.f("fk_reporting_reminder_expected_id_reporting_expected"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reporting_reminder")),
        sa.UniqueConstraint("expected_id", "stage", name=op.f("uq_reporting_reminder_expected_id_stage")),
    )


def downgrade() -> None:
    for table in ("reporting_reminder", "reporting_document", "reporting_expected", "reporting_regime_version"):
        op.drop_table(table)
    op.drop_table("reporting_regime")
    op.drop_table("reporting_cursor")
