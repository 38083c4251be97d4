"""The dialect seam does the same thing on SQLite and PostgreSQL (the suite runs on either)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, UniqueConstraint, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from govops.db.dialect import advisory_xact_lock, copy_rows, is_postgres, lock_key, notify, reserve_ids, upsert
from govops.db.engine import impatient_transaction, transaction

probe = Table(
    "dialect_probe",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("code", String(20), nullable=False),
    Column("value", Integer),
    Column("note", String(40)),
    UniqueConstraint("code"),
)


@pytest.fixture
def table(session: Session) -> Iterator[Table]:
    # Made inside the test's transaction, which is rolled back: the store is left as it was.
    probe.create(session.connection())
    yield probe


def rows(session: Session) -> list[tuple[int, str, int | None, str | None]]:
    return [tuple(r) for r in session.execute(select(probe).order_by(probe.c.id))]  # type: ignore[misc]


def test_upsert_inserts_new_rows_and_updates_the_named_columns_of_stored_ones(session: Session, table: Table) -> None:
    upsert(session, table, [{"id": 1, "code": "a", "value": 1, "note": "first"}], key=["code"])
    upsert(
        session,
        table,
        [{"id": 2, "code": "a", "value": 2, "note": "second"}, {"id": 3, "code": "b", "value": 3, "note": "b"}],
        key=["code"],
        update=["value"],
    )
    assert rows(session) == [(1, "a", 2, "first"), (3, "b", 3, "b")]
    upsert(session, table, [{"id": 4, "code": "b", "value": 9, "note": "kept?"}], key=["code"], update=[])
    assert rows(session) == [(1, "a", 2, "first"), (3, "b", 3, "b")]


def test_reserved_ids_are_fresh_and_copied_rows_are_stored(session: Session, table: Table) -> None:
    ids = reserve_ids(session, table, 3)
    assert ids == [1, 2, 3]
    copy_rows(session, table, ["id", "code", "value", "note"], [(i, f"c{i}", i * 10, None) for i in ids])
    assert rows(session) == [(1, "c1", 10, None), (2, "c2", 20, None), (3, "c3", 30, None)]
    assert reserve_ids(session, table, 2) == [4, 5]
    assert reserve_ids(session, table, 0) == []


def test_a_transaction_holding_an_advisory_lock_keeps_a_second_one_from_taking_it(engine: Engine) -> None:
    key = lock_key("test dialect lock")
    with transaction(engine) as holder:
        advisory_xact_lock(holder, key)
        # SQLite: the first holds the write lock, so the second cannot even begin; PostgreSQL: it waits for the key.
        with pytest.raises(OperationalError), impatient_transaction(engine, wait=0.1) as second:
            advisory_xact_lock(second, key)
    with impatient_transaction(engine, wait=5) as after:
        advisory_xact_lock(after, key)  # released with the first transaction


def test_a_notification_is_sent_when_the_transaction_commits_and_never_when_it_rolls_back(engine: Engine) -> None:
    if not is_postgres(engine):
        with transaction(engine) as session:
            notify(session, "govops_test")  # nothing to send: one writer process wakes its own readers
        return
    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as listener:
        listener.execute("LISTEN govops_test")
        with pytest.raises(RuntimeError), transaction(engine) as session:
            notify(session, "govops_test", "rolled back")
            raise RuntimeError("abandoned")
        with transaction(engine) as session:
            notify(session, "govops_test", "committed")
        received = [n.payload for n in listener.notifies(timeout=5, stop_after=1)]
    assert received == ["committed"]
