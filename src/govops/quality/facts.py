"""What the quality checks need to know of each indicator, read in the caller's own transaction.

Plain values, kept per catalogue stamp (as the accept pipeline's catalogue index is): read in the same session, so
that a writer holding SQLite's write lock never waits on a second connection of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.catalog.models import Indicator, Unit
from govops.catalog.version import kept_by_stamp


@dataclass(frozen=True)
class Facts:
    id: int
    code: str
    unit: str
    quantity: str  # what its unit measures (usd, persons...): values of one quantity compare
    factor: float  # its unit's size in the quantity's base unit
    periodicity: str
    formula: str | None
    classification: str
    time_aggregation: str
    owner_id: int


_KEPT: dict[str, dict[str, Facts]] = {}


def indicator_facts(session: Session) -> Mapping[str, Facts]:
    """Every indicator's facts by code, as this transaction sees the catalogue."""
    return kept_by_stamp(session, _KEPT, _read)


def by_id(facts: Mapping[str, Facts]) -> dict[int, Facts]:
    return {f.id: f for f in facts.values()}


def _read(session: Session) -> dict[str, Facts]:
    i, u = Indicator, Unit
    rows = session.execute(
        select(i.id, i.code, u.code, u.quantity, u.factor, i.periodicity, i.formula, i.classification,
               i.time_aggregation, i.owner_id).join(u, u.id == i.unit_id)
    ).all()  # fmt: skip
    return {
        code: Facts(id_, code, unit, quantity, factor, periodicity, formula, classification, rule, owner)
        for id_, code, unit, quantity, factor, periodicity, formula, classification, rule, owner in rows
    }
