"""Bulk writes at the speed of the database: COPY on PostgreSQL, a plain executemany on SQLite.

The ORM's INSERT ... RETURNING spends most of its time building and parsing giant statements;
here ids are allocated up front instead, so that observations and their revisions can be
streamed in without asking anything back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session


def allocate_ids(session: Session, table: Table, count: int) -> list[int]:
    """`count` fresh primary keys for `table`, taken in the current transaction."""
    if count == 0:
        return []
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        return list(
            conn.execute(
                text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
                {"table": table.name, "count": count},
            ).scalars()
        )
    # SQLite: writers hold the database's write lock from BEGIN IMMEDIATE, so no one else can take these.
    start = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(start + 1, start + count + 1))


def insert_rows(session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    session.flush()
    conn = session.connection()
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        raw: Any = conn.connection.dbapi_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    processors = [table.c[name].type.bind_processor(conn.dialect) for name in columns]
    prepared = [
        tuple(value if p is None or value is None else p(value) for p, value in zip(processors, row, strict=True))
        for row in rows
    ]
    if prepared:
        placeholders = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({placeholders})", prepared)
