"""Where SQLite and PostgreSQL differ, in one place, so that domains never check which one they run on.

Bulk writes: PostgreSQL takes rows by binary COPY (typed once per table, no text formatting of each
value), SQLite by one executemany. Primary keys are allocated before the rows are written, so that
a table and the rows referring to it can be streamed in without asking anything back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, func, select, text

POSTGRESQL = "postgresql"


def is_postgresql(conn: Connection) -> bool:
    return conn.dialect.name == POSTGRESQL


def allocate_ids(conn: Connection, table: Table, count: int) -> list[int]:
    """`count` fresh primary keys for `table`, taken in the current transaction."""
    if count == 0:
        return []
    if is_postgresql(conn):
        return list(
            conn.execute(
                text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
                {"table": table.name, "count": count},
            ).scalars()
        )
    # SQLite: writers hold the database's write lock from BEGIN IMMEDIATE, so no one else can take these.
    start = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(start + 1, start + count + 1))


def copy_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Append `rows` (values in the order of `columns`, as Python values) to `table`; how many were written."""
    names = ", ".join(columns)
    if is_postgresql(conn):
        types = _pg_types(conn, table.name)
        raw: Any = conn.connection.dbapi_connection
        count = 0
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([types[name] for name in columns])
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    processors = [table.c[name].type.bind_processor(conn.dialect) for name in columns]
    prepared = [
        tuple(value if p is None or value is None else p(value) for p, value in zip(processors, row, strict=True))
        for row in rows
    ]
    if prepared:
        placeholders = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({placeholders})", prepared)
    return len(prepared)


def _pg_types(conn: Connection, table: str) -> dict[str, str]:
    """Each column's type as the server names it, which binary COPY needs to encode the values."""
    found = conn.execute(
        text(
            "SELECT attname, atttypid::regtype::text FROM pg_attribute "
            "WHERE attrelid = CAST(:table AS regclass) AND attnum > 0 AND NOT attisdropped"
        ),
        {"table": table},
    ).all()
    return {name: kind for name, kind in found}
