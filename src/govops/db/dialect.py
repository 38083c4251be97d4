"""Where SQLite and PostgreSQL differ, in one place: locks, fresh ids, bulk copy, upsert and notifications.

Domains call these small functions instead of checking the dialect themselves. The rule behind the
SQLite side of each: a writing transaction there holds the whole database's write lock from its
BEGIN IMMEDIATE (see `govops.db.engine`), so what PostgreSQL needs a lock or a sequence for is
already serialised, and there is one writer process to wake.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

Bind = Connection | Engine | Session


def is_postgres(bind: Bind) -> bool:
    """Whether `bind` (a connection, an engine or a session) talks to PostgreSQL; else it is SQLite."""
    if isinstance(bind, Session):
        return bind.get_bind().dialect.name == "postgresql"
    return bind.dialect.name == "postgresql"


def _connection(bind: Connection | Session) -> Connection:
    return bind.connection() if isinstance(bind, Session) else bind


def lock_key(name: str) -> int:
    """A stable 64-bit advisory lock key for a name (e.g. "sign-in user alice")."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def advisory_xact_lock(bind: Connection | Session, key: int) -> None:
    """Hold the lock `key` until the transaction ends (waiting for it if another transaction holds it).

    PostgreSQL: pg_advisory_xact_lock. SQLite: the transaction is begun if it was not, and a writing one's
    BEGIN IMMEDIATE holds the database's write lock: what follows (reading the clock, counting) happens under
    the lock on both. Take several keys in one order, so that two transactions never wait on each other.
    """
    conn = _connection(bind)
    if is_postgres(conn):
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    elif not conn.in_transaction():
        conn.begin()


def reserve_ids(bind: Connection | Session, table: Table, count: int) -> list[int]:
    """`count` fresh primary keys (column `id`) for `table`, taken in the current transaction, in order.

    PostgreSQL: from the column's sequence (a rolled-back transaction leaves a gap). SQLite: after the
    largest id, which no one else can take while this writer holds the write lock.
    """
    if count <= 0:
        return []
    conn = _connection(bind)
    if is_postgres(conn):
        return list(
            conn.execute(
                text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
                {"table": table.name, "count": count},
            ).scalars()
        )
    start = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(start + 1, start + count + 1))


# Below this many rows, copy_rows sends one multi-row INSERT instead of a COPY.
_SMALL_COPY = 64


def copy_rows(bind: Connection | Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Append rows (values in `columns`' order, as Python values) at the speed of the database; how many.

    PostgreSQL: binary COPY ... FROM STDIN (typed once per table, no text formatting of each value).
    SQLite: one executemany of a plain INSERT. Nothing is returned but the count: allocate ids beforehand
    (`reserve_ids`) when rows refer to each other. Flush the session first.
    """
    conn = _connection(bind)
    names = ", ".join(columns)
    if is_postgres(conn):
        rows = iter(rows)
        first = list(itertools.islice(rows, _SMALL_COPY))
        if len(first) < _SMALL_COPY:
            # A few rows (one submitted value's revision, event and audit entry) go faster as one INSERT: a COPY
            # costs its own round trips, and the column types it needs are one more.
            if first:
                conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in first])
            return len(first)
        rows = itertools.chain(first, rows)
        types = _pg_types(conn, table.name)
        raw: Any = conn.connection.dbapi_connection
        count = 0
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([types[name] for name in columns])
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    # Only the columns whose type converts its values (dates, JSON, ...) are touched: most pass as they are, and a
    # demo load sends millions of values through here.
    converting = [
        (i, processor)
        for i, name in enumerate(columns)
        if (processor := table.c[name].type.bind_processor(conn.dialect)) is not None
    ]
    width = len(columns)
    prepared: list[tuple[Any, ...]] = []
    for row in rows:
        if len(row) != width:
            raise ValueError(f"a row of {len(row)} values for the {width} columns of {table.name}")
        if converting:
            values = list(row)
            for i, processor in converting:
                if values[i] is not None:
                    values[i] = processor(values[i])
            row = values
        prepared.append(row if isinstance(row, tuple) else tuple(row))  # the driver takes tuples only
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


def upsert(
    bind: Connection | Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: Sequence[str],
    update: Sequence[str] | None = None,
) -> None:
    """Insert `rows`; a row whose `key` columns match a stored one updates its `update` columns instead.

    `update` None: every column of the row but the key; empty: the stored row is kept as it is. Both
    dialects write INSERT ... ON CONFLICT (key) DO UPDATE / DO NOTHING; `key` must be a unique index.
    """
    if not rows:
        return
    conn = _connection(bind)
    stmt: Any = (postgresql.insert(table) if is_postgres(conn) else sqlite.insert(table)).values(list(rows))
    changed = [c for c in rows[0] if c not in key] if update is None else list(update)
    if changed:
        stmt = stmt.on_conflict_do_update(index_elements=list(key), set_={c: stmt.excluded[c] for c in changed})
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
    conn.execute(stmt)


def notify(bind: Connection | Session, channel: str, payload: str = "") -> None:
    """Tell the processes listening on `channel` once this transaction commits (never if it rolls back).

    PostgreSQL: pg_notify, folded with the same notifications of the transaction. SQLite: nothing to send;
    its one writer process wakes its own readers at commit.
    """
    if is_postgres(bind):
        _connection(bind).execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
        )


def announce(bind: Connection | Session, name: str) -> None:
    """Name this connection after its process (`name`), so that `count_announced` finds it while it lives.

    PostgreSQL: the session's application_name, which the server drops with the connection (a killed
    process stops counting at once). SQLite: nothing; it has one writer at a time and nobody to count.
    """
    conn = _connection(bind)
    if is_postgres(conn):
        conn.execute(text("SELECT set_config('application_name', :name, false)"), {"name": name[:63]})


def count_announced(bind: Connection | Session, prefix: str) -> int:
    """How many distinct live processes announced a name starting with `prefix` on this database (at least 1)."""
    conn = _connection(bind)
    if not is_postgres(conn):
        return 1
    found = conn.execute(
        text(
            "SELECT count(DISTINCT application_name) FROM pg_stat_activity "
            "WHERE datname = current_database() AND starts_with(application_name, :p)"
        ),
        {"p": prefix},
    ).scalar_one()
    return max(1, int(found))


def commit_without_waiting(bind: Connection | Session) -> None:
    """Let this transaction's COMMIT return before its record reaches the disk.

    Only for bookkeeping that is safe to lose in a crash of the database server itself (not of the
    caller: what is committed stays committed for everyone else at once). PostgreSQL: SET LOCAL
    synchronous_commit = off. SQLite: nothing.
    """
    conn = _connection(bind)
    if is_postgres(conn):
        conn.execute(text("SELECT set_config('synchronous_commit', 'off', true)"))
