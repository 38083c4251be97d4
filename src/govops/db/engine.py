"""Engines and sessions for the embedded SQLite store and for PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from govops.errors import GovopsError

# How long a SQLite writer waits for the write lock before giving up ("database is locked").
_SQLITE_BUSY_SECONDS = 30


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": _SQLITE_BUSY_SECONDS}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    raise GovopsError(
        f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}",
        code="bad_configuration",
        hint="set GOVOPS_DATABASE_URL to sqlite:///path/to/file.db or postgresql+psycopg://user@host/db",
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling would defer BEGIN and break SAVEPOINTs; we emit BEGIN ourselves.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # FULL: a commit that was acknowledged survives a power cut, not only a crash of the process.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A writer that reads first and then writes must hold the write lock from the start: otherwise
    # two of them deadlock and SQLite fails one at once instead of letting it wait its turn.
    writer = conn.get_execution_options().get(WRITER_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


WRITER_OPTION = "govops_writer"


def make_session_factory(engine: Engine, *, writer: bool = False) -> sessionmaker[Session]:
    """Sessions for reading, or (writer=True) for transactions that will write."""
    bind = engine.execution_options(**{WRITER_OPTION: True}) if writer else engine
    return sessionmaker(bind, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A writing session whose work is committed when the block ends and rolled back if it raises."""
    with make_session_factory(engine, writer=True)() as session, session.begin():
        yield session


@contextmanager
def impatient_transaction(engine: Engine, *, wait: float = 0.1) -> Iterator[Session]:
    """A writing transaction for work that can wait for a better moment (housekeeping stamps).

    It gives up (OperationalError) when it cannot have its locks within `wait` seconds instead of queueing
    behind the writers that matter; committed when the block ends, rolled back if it raises.
    """
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        raw: Any = conn.connection.driver_connection
        if sqlite:
            raw.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
        try:
            with Session(bind=conn.execution_options(**{WRITER_OPTION: True})) as session, session.begin():
                if not sqlite:
                    session.execute(text(f"SET LOCAL lock_timeout = '{int(wait * 1000)}ms'"))
                yield session
        finally:
            if sqlite:
                raw.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_SECONDS * 1000}")
