"""tasks: directives, the tasks they assign (co-ordinating agencies, linked indicators), progress reports,
extension requests and each task's timeline

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directive",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("signer", sa.String(length=200), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("document_url", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('resolution', 'decision', 'directive', 'dispatch', 'conclusion', 'minutes')",
            name=op.f("ck_directive_kind"),
        ),
        sa.ForeignKeyConstraint(["issuer_id"], ["agency.id"], name=op.f("fk_directive_issuer_id_agency")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directive")),
        sa.UniqueConstraint("number", name=op.f("uq_directive_number")),
    )
    with op.batch_alter_table("directive", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_directive_issuer_id"), ["issuer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_directive_signed_on"), ["signed_on"], unique=False)

    op.create_table(
        "directive_link",
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("linked_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["directive_id"],
            ["directive.id"],
            name=op.f("fk_directive_link_directive_id_directive"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["linked_id"], ["directive.id"], name=op.f("fk_directive_link_linked_id_directive"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("directive_id", "linked_id", name=op.f("pk_directive_link")),
    )
    with op.batch_alter_table("directive_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_directive_link_linked_id"), ["linked_id"], unique=False)

    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("directive_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("lead_agency_id", sa.Integer(), nullable=False),
        sa.Column("assigned_on", sa.Date(), nullable=False),
        sa.Column("recurrence", sa.String(length=10), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("original_deadline", sa.Date(), nullable=True),
        sa.Column("next_due_on", sa.Date(), nullable=True),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("health", sa.String(length=12), nullable=False),
        sa.Column("health_trend", sa.Integer(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("evidence", sa.String(length=500), nullable=True),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("evaluation", sa.Text(), nullable=True),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "health IN ('green', 'amber_green', 'amber', 'amber_red', 'red')", name=op.f("ck_task_health")
        ),
        sa.CheckConstraint("priority IN ('normal', 'high', 'urgent')", name=op.f("ck_task_priority")),
        sa.CheckConstraint(
            "recurrence IN ('once', 'monthly', 'quarterly', 'regular')", name=op.f("ck_task_recurrence")
        ),
        sa.CheckConstraint("progress >= 0 AND progress <= 100", name=op.f("ck_task_progress")),
        sa.CheckConstraint("weight > 0", name=op.f("ck_task_weight")),
        sa.ForeignKeyConstraint(["directive_id"], ["directive.id"], name=op.f("fk_task_directive_id_directive")),
        sa.ForeignKeyConstraint(["lead_agency_id"], ["agency.id"], name=op.f("fk_task_lead_agency_id_agency")),
        sa.ForeignKeyConstraint(["parent_id"], ["task.id"], name=op.f("fk_task_parent_id_task")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task")),
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index("ix_task_closed_deadline", ["closed_on", "deadline"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_directive_id"), ["directive_id"], unique=False)
        batch_op.create_index("ix_task_lead_closed_deadline", ["lead_agency_id", "closed_on", "deadline"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "task_agency",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_task_agency_agency_id_agency")),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], name=op.f("fk_task_agency_task_id_task"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("task_id", "agency_id", name=op.f("pk_task_agency")),
    )
    with op.batch_alter_table("task_agency", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_agency_agency_id"), ["agency_id"], unique=False)

    op.create_table(
        "task_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=120), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("once_key", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], name=op.f("fk_task_event_task_id_task"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_event")),
    )
    with op.batch_alter_table("task_event", schema=None) as batch_op:
        batch_op.create_index("ix_task_event_task_id_id", ["task_id", "id"], unique=False)
        batch_op.create_index("uq_task_event_once", ["task_id", "once_key"], unique=True)

    op.create_table(
        "task_extension",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("old_deadline", sa.Date(), nullable=True),
        sa.Column("new_deadline", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'approved', 'refused')", name=op.f("ck_task_extension_state")),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_task_extension_task_id_task"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_extension")),
    )
    with op.batch_alter_table("task_extension", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_extension_task_id"), ["task_id"], unique=False)

    op.create_table(
        "task_indicator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("indicator_code", sa.String(length=40), nullable=False),
        sa.Column("area_code", sa.String(length=20), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("at_least", sa.Boolean(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("reached_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_task_indicator_task_id_task"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_indicator")),
        sa.UniqueConstraint(
            "task_id", "indicator_code", "area_code", name=op.f("uq_task_indicator_task_id_indicator_code_area_code")
        ),
    )
    with op.batch_alter_table("task_indicator", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_indicator_indicator_code"), ["indicator_code"], unique=False)

    op.create_table(
        "task_report",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("percent", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("evidence", sa.String(length=500), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_by", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"], name=op.f("fk_task_report_agency_id_agency")),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], name=op.f("fk_task_report_task_id_task"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_report")),
    )
    with op.batch_alter_table("task_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_report_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index("ix_task_report_task_id_id", ["task_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task_report", schema=None) as batch_op:
        batch_op.drop_index("ix_task_report_task_id_id")
        batch_op.drop_index(batch_op.f("ix_task_report_agency_id"))

    op.drop_table("task_report")
    with op.batch_alter_table("task_indicator", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_indicator_indicator_code"))

    op.drop_table("task_indicator")
    with op.batch_alter_table("task_extension", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_extension_task_id"))

    op.drop_table("task_extension")
    with op.batch_alter_table("task_event", schema=None) as batch_op:
        batch_op.drop_index("uq_task_event_once")
        batch_op.drop_index("ix_task_event_task_id_id")

    op.drop_table("task_event")
    with op.batch_alter_table("task_agency", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_agency_agency_id"))

    op.drop_table("task_agency")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_parent_id"))
        batch_op.drop_index("ix_task_lead_closed_deadline")
        batch_op.drop_index(batch_op.f("ix_task_directive_id"))
        batch_op.drop_index("ix_task_closed_deadline")

    op.drop_table("task")
    with op.batch_alter_table("directive_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directive_link_linked_id"))

    op.drop_table("directive_link")
    with op.batch_alter_table("directive", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_directive_signed_on"))
        batch_op.drop_index(batch_op.f("ix_directive_issuer_id"))

    op.drop_table("directive")
