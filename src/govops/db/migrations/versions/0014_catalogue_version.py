"""catalogue version: a stamp that every write to a catalogue table changes, set by triggers

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 06:40:00

Each process keeps the catalogue it checks submissions against in memory and reads this one row before
every batch to know whether it may still use it. Triggers rather than application code change the stamp,
so that every writer does, in its own transaction: the catalogue import, the reference loader, plain SQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Every table the catalogue is made of (what submissions are checked against, and what pages show of it).
TABLES = (
    "area",
    "agency",
    "unit",
    "codelist",
    "code_item",
    "indicator_group",
    "indicator_group_member",
    "indicator",
    "indicator_dimension",
)

# A fresh random stamp: a change rolled back must never leave behind a stamp a later change could take again.
_PG_STAMP = "md5(random()::text || clock_timestamp()::text)"
_SQLITE_STAMP = "lower(hex(randomblob(16)))"


def upgrade() -> None:
    op.create_table(
        "catalogue_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_version")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(f"INSERT INTO catalogue_version (id, stamp) VALUES (1, {_PG_STAMP if postgres else _SQLITE_STAMP})")
    if postgres:
        # Once per statement, however many rows it touches (a reference load inserts thousands of areas).
        op.execute(
            "CREATE FUNCTION catalogue_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN UPDATE catalogue_version SET stamp = {_PG_STAMP} WHERE id = 1; RETURN NULL; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_catalogue_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION catalogue_changed()"
            )
        return
    # SQLite has row triggers only, one event each.
    for table in TABLES:
        for event in ("insert", "update", "delete"):
            op.execute(
                f"CREATE TRIGGER {table}_catalogue_changed_{event} AFTER {event.upper()} ON {table} "
                f"BEGIN UPDATE catalogue_version SET stamp = {_SQLITE_STAMP} WHERE id = 1; END"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_catalogue_changed ON {table}")
        else:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_catalogue_changed_{event}")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS catalogue_changed()")
    op.drop_table("catalogue_version")
