"""Bulk writes at the speed of the database, for the warehouse's session-holding code (see `govops.db.dialect`).

The ORM's INSERT ... RETURNING spends most of its time building and parsing giant statements;
here ids are allocated up front instead, so that observations and their revisions can be
streamed in without asking anything back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session

from govops.db.dialect import copy_rows, reserve_ids


def allocate_ids(session: Session, table: Table, count: int) -> list[int]:
    """`count` fresh primary keys for `table`, taken in the current transaction."""
    return reserve_ids(session, table, count)


def insert_rows(session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    session.flush()
    copy_rows(session, table, columns, rows)
