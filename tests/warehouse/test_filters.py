"""The observation filter: its SQL selects, on either database, exactly the rows its fields describe, and the
API's codes are checked as they were when the filters were keyword arguments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from govops.catalog.models import Area, Indicator
from govops.errors import GovopsError, NotFound
from govops.paging import MAX_BIG_ID, decode_cursor
from govops.warehouse.filters import ObservationFilter
from govops.warehouse.models import Observation
from govops.warehouse.service import list_observations
from tests.warehouse.conftest import obs, put

pytestmark = pytest.mark.usefixtures("catalogue")

LATER = datetime(2031, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Stored:
    id: int
    indicator: str
    classification: str
    area: str
    period: str
    period_start: date
    dim_key: str
    status: str
    updated_at: datetime


def store(session: Session) -> list[Stored]:
    rows = []
    for month in range(1, 13):
        period = f"2024-{month:02d}"
        for area in ("01", "79", "48"):
            status = "final" if month % 3 == 0 else "provisional"
            rows.append(obs("T_FLOW2", area, period, month * 1.0, status=status))
            rows.append(obs("T_FLOW", area, period, month * 2.0, dims={"T_SECTOR": "AGR"}))
            rows.append(obs("T_FLOW", area, period, month * 3.0, dims={"T_SECTOR": "IND"}))
            rows.append(obs("T_SECRET", area, period, month * 4.0))
    put(session, rows)
    # Half the rows changed later: what updated_since tells apart.
    session.execute(update(Observation).where(Observation.id % 2 == 0).values(updated_at=LATER))
    session.flush()
    stmt = (
        select(
            Observation.id,
            Indicator.code,
            Indicator.classification,
            Area.code,
            Observation.period,
            Observation.period_start,
            Observation.dim_key,
            Observation.status,
            Observation.updated_at,
        )
        .join(Indicator, Indicator.id == Observation.indicator_id)
        .join(Area, Area.id == Observation.area_id)
    )
    return [Stored(*row) for row in session.execute(stmt)]


Keep = Callable[[Stored], bool]
CASES: list[tuple[dict[str, Any], Keep]] = [
    ({}, lambda r: True),
    ({"indicator": "T_FLOW2"}, lambda r: r.indicator == "T_FLOW2"),
    ({"indicator": "T_FLOW", "dims": {"T_SECTOR": "IND"}}, lambda r: r.indicator == "T_FLOW" and "IND" in r.dim_key),
    ({"areas": ["79", "48"]}, lambda r: r.area in ("79", "48")),
    (
        {"indicator": "T_FLOW2", "start": "2024-Q2", "end": "2024-08"},
        lambda r: r.indicator == "T_FLOW2" and date(2024, 4, 1) <= r.period_start <= date(2024, 8, 31),
    ),
    ({"status": "final"}, lambda r: r.status == "final"),
    ({"updated_since": datetime(2030, 1, 1, tzinfo=UTC)}, lambda r: r.updated_at > datetime(2030, 1, 1, tzinfo=UTC)),
    ({"classifications": ["public", "internal"]}, lambda r: r.classification in ("public", "internal")),
    ({"indicator_codes": ["T_FLOW", "T_SECRET"]}, lambda r: r.indicator in ("T_FLOW", "T_SECRET")),
    (
        {
            "areas": ["01"],
            "status": "provisional",
            "classifications": ["confidential"],
            "indicator_codes": ["T_SECRET"],
        },
        lambda r: r.area == "01" and r.status == "provisional" and r.indicator == "T_SECRET",
    ),
]


@pytest.mark.parametrize(("filters", "expected"), CASES, ids=[str(sorted(f)) for f, _ in CASES])
def test_the_filter_selects_the_rows_its_fields_describe(
    session: Session, filters: dict[str, Any], expected: Keep
) -> None:
    stored = store(session)
    where = ObservationFilter.of(session=session, **filters)
    wanted = sorted(r.id for r in stored if expected(r))
    assert wanted, "a case that selects nothing would prove nothing"
    selected = sorted(session.scalars(select(Observation.id).where(where.as_sql_filter())))
    assert selected == wanted
    # list_observations pages through the same rows, in id order.
    seen: list[tuple[str, str, str]] = []
    cursor = 0
    while True:
        page = list_observations(session=session, where=where, after_id=cursor, limit=40)
        seen += [(o.indicator, o.area, o.period) for o in page.items]
        if page.next_cursor is None:
            break
        cursor = decode_cursor(page.next_cursor, max_id=MAX_BIG_ID)
    assert seen == [(r.indicator, r.area, r.period) for r in sorted(stored, key=lambda r: r.id) if expected(r)]


def test_a_filter_built_from_ids_is_the_same_as_one_built_from_codes(session: Session) -> None:
    store(session)
    by_codes = ObservationFilter.of(session=session, indicator="T_FLOW2", areas=["79"], start="2024-03", end="2024-03")
    flow2 = session.scalar(select(Indicator.id).where(Indicator.code == "T_FLOW2"))
    hcmc = session.scalar(select(Area.id).where(Area.code == "79"))
    by_ids = ObservationFilter(
        indicator_ids=frozenset({flow2}) if flow2 else None,
        area_ids=frozenset({hcmc}) if hcmc else None,
        first_day=date(2024, 3, 1),
        last_day=date(2024, 3, 31),
    )
    assert by_codes == by_ids
    assert len(session.scalars(select(Observation.id).where(by_ids.as_sql_filter())).all()) == 1


def test_what_is_wrong_with_a_query_is_said_as_before(session: Session) -> None:
    with pytest.raises(NotFound):
        ObservationFilter.of(session=session, indicator="NO_SUCH")
    with pytest.raises(NotFound):
        ObservationFilter.of(session=session, areas=["99999"])
    with pytest.raises(GovopsError) as caught:
        ObservationFilter.of(session=session, start="2024-01")
    assert caught.value.code == "invalid_filter"
    with pytest.raises(GovopsError) as bad_period:
        ObservationFilter.of(session=session, indicator="T_FLOW2", end="2024-13")
    assert bad_period.value.where == "end"
