from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.errors import Rejected
from govops.paging import Page
from govops.warehouse.filters import ObservationFilter
from govops.warehouse.models import Observation, ObservationRevision
from govops.warehouse.schemas import ObservationIn, ObservationOut
from govops.warehouse.service import list_observations, write_observations
from govops.warehouse.validation import CatalogIndex, check_rows
from tests.warehouse.conftest import obs, put

pytestmark = pytest.mark.usefixtures("catalogue")


def listed(
    session: Session, *, as_of: datetime | None = None, after_id: int = 0, limit: int = 100, **filters: Any
) -> Page[ObservationOut]:
    """The observations an API query's filters select, read through the filter object."""
    where = ObservationFilter.of(session=session, **filters)
    return list_observations(session=session, where=where, as_of=as_of, after_id=after_id, limit=limit)


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_upsert_creates_updates_and_leaves_unchanged(session: Session) -> None:
    first = put(session, [obs("T_FLOW2", "01", "2025-07", 10.0), obs("T_FLOW2", "79", "2025-07", 20.0)])
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    second = put(session, [obs("T_FLOW2", "01", "2025-07", 11.5), obs("T_FLOW2", "79", "2025-07", 20.0)])
    assert (second.created, second.updated, second.unchanged) == (0, 1, 1)
    page = listed(session, indicator="T_FLOW2")
    assert {(o.area, o.value, o.version) for o in page.items} == {("01", 11.5, 2), ("79", 20.0, 1)}


def test_every_change_is_kept_as_a_revision_and_readable_as_of_a_moment(session: Session) -> None:
    rows = list(check_rows(CatalogIndex(session), [(1, obs("T_FLOW2", "01", "2025-07", 10.0))])[0])
    t0 = datetime(2025, 8, 5, 9, 0, tzinfo=UTC)
    write_observations(session=session, rows=rows, now=t0)
    revised = list(check_rows(CatalogIndex(session), [(1, obs("T_FLOW2", "01", "2025-07", 12.0, status="final"))])[0])
    write_observations(session=session, rows=revised, now=t0 + timedelta(days=30))

    history = session.execute(
        select(ObservationRevision.value, ObservationRevision.status).order_by(ObservationRevision.version)
    ).all()
    assert [tuple(r) for r in history] == [(10.0, "provisional"), (12.0, "final")]

    def value_at(moment: datetime) -> list[float]:
        return [o.value for o in listed(session, indicator="T_FLOW2", as_of=moment).items]

    assert value_at(t0 - timedelta(seconds=1)) == []
    assert value_at(t0 + timedelta(days=1)) == [10.0]
    assert value_at(t0 + timedelta(days=31)) == [12.0]
    assert [o.status for o in listed(session, indicator="T_FLOW2").items] == ["final"]


def test_a_batch_with_one_bad_row_writes_nothing(session: Session) -> None:
    before = count(session, Observation), count(session, ObservationRevision)
    with pytest.raises(Rejected) as caught:
        put(
            session,
            [
                obs("T_FLOW2", "01", "2025-07", 1.0),
                obs("T_FLOW2", "01", "2025-13", 2.0),
                obs("T_FLOW2", "01", "2025-08", 3.0),
            ],
            where="upload.csv",
        )
    assert (count(session, Observation), count(session, ObservationRevision)) == before
    err = caught.value
    assert err.status == 422 and err.where == "upload.csv"
    assert [(p.row, p.field) for p in err.problems] == [(2, "period")]
    assert "2025-13" in err.problems[0].message


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        (obs("NOPE", "01", "2025-07", 1.0), "indicator", "unknown indicator"),
        (obs("T_FLOW2", "99", "2025-07", 1.0), "area", "unknown area"),
        (obs("T_Q", "01", "2025-07", 1.0), "period", "quarter"),  # finer than the indicator's quarters
        (obs("T_FLOW2", "74", "2025-08", 1.0), "area", "merged into 79"),
        (obs("T_FLOW2", "00004", "2024-12", 1.0), "area", "exists only from 2025-07-01"),
        (obs("T_BALANCE", "01", "2025-07", 1.0), "indicator", "derived"),
        (obs("T_FLOW", "01", "2025-07", 1.0, dims={"COLOUR": "RED"}), "dims.COLOUR", "no dimension"),
        (obs("T_FLOW", "01", "2025-07", 1.0, dims={"T_SECTOR": "XXX"}), "dims.T_SECTOR", "not a code"),
        (obs("T_FLOW2", "01", "2025-07", 1.0, unit="T_USD"), "unit", "cannot be converted"),
        (obs("T_FLOW2", "01", "2025-07", 1.0, source="NOBODY"), "source", "unknown agency"),
        (obs("T_FLOW2", "01", "2025-07", "1.234,5"), "value", "valid number"),
        (obs("T_FLOW2", "01", "2025-07", "nan"), "value", "finite"),
        (obs("T_FLOW2", "01", "2025-07", 1.0, status="guess"), "status", "provisional"),
        ({"indicator": "T_FLOW2", "area": "01", "value": 1.0}, "period", "missing"),
    ],
)
def test_bad_rows_say_what_where_and_how_to_fix(
    session: Session, row: dict[str, object], field: str, words: str
) -> None:
    valid, problems = check_rows(CatalogIndex(session), [(7, row)])
    assert valid == []
    assert len(problems) >= 1
    problem = next(p for p in problems if p.field == field)
    assert problem.row == 7
    assert words in problem.message or words in (problem.hint or "")


def test_repeated_data_point_in_one_batch_is_rejected(session: Session) -> None:
    _, problems = check_rows(
        CatalogIndex(session), [(2, obs("T_FLOW2", "01", "2025-07", 1.0)), (3, obs("T_FLOW2", "01", "2025-07", 2.0))]
    )
    assert [(p.row, "row 2" in p.message) for p in problems] == [(3, True)]


def test_values_in_another_unit_of_the_same_quantity_are_converted(session: Session) -> None:
    put(session, [obs("T_FLOW2", "01", "2025-07", 2500.0, unit="T_MN_VND")])
    assert [o.value for o in listed(session, indicator="T_FLOW2").items] == [2.5]


def test_dimensions_key_the_data_and_the_total_is_the_empty_key(session: Session) -> None:
    put(
        session,
        [
            obs("T_FLOW", "01", "2025-07", 10.0),
            obs("T_FLOW", "01", "2025-07", 4.0, dims={"T_SECTOR": "AGR"}),
            obs("T_FLOW", "01", "2025-08", 9.0, dims={"T_SECTOR": "_T"}),
        ],
    )
    total = listed(session, indicator="T_FLOW", dims={})
    assert [(o.period, o.value, o.dims) for o in total.items] == [("2025-07", 10.0, {}), ("2025-08", 9.0, {})]
    agr = listed(session, indicator="T_FLOW", dims={"T_SECTOR": "AGR"})
    assert [(o.value, o.dims) for o in agr.items] == [(4.0, {"T_SECTOR": "AGR"})]


def test_source_defaults_to_the_owner_and_can_be_named(session: Session) -> None:
    put(session, [obs("T_FLOW2", "01", "2025-07", 1.0), obs("T_FLOW2", "79", "2025-07", 1.0, source="PC-79")])
    assert {o.area: o.source for o in listed(session, indicator="T_FLOW2").items} == {
        "01": "NSO",
        "79": "PC-79",
    }


def test_listing_pages_with_a_cursor_until_the_end(session: Session) -> None:
    put(session, [obs("T_FLOW2", "01", f"2024-{m:02d}", float(m)) for m in range(1, 13)])
    seen, cursor_id, pages = [], 0, 0
    while True:
        page = listed(session, indicator="T_FLOW2", after_id=cursor_id, limit=5)
        pages += 1
        seen.extend(o.period for o in page.items)
        if page.next_cursor is None:
            break
        from govops.paging import decode_cursor

        cursor_id = decode_cursor(page.next_cursor)
    assert pages == 3
    assert seen == [f"2024-{m:02d}" for m in range(1, 13)]


def test_period_range_filter(session: Session) -> None:
    put(session, [obs("T_FLOW2", "01", f"2024-{m:02d}", float(m)) for m in range(1, 13)])
    page = listed(session, indicator="T_FLOW2", start="2024-Q2", end="2024-05")
    assert [o.period for o in page.items] == ["2024-04", "2024-05"]


def test_observation_in_keeps_numeric_area_codes_as_text() -> None:
    assert ObservationIn.model_validate(obs("CPI", 1, "2025-07", 1.0)).area == "1"
