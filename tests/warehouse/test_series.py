from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.catalog.models import Area
from govops.errors import GovopsError
from govops.warehouse.schemas import Series, SeriesPoint
from govops.warehouse.series import SeriesQuery, build_series
from govops.warehouse.service import write_observations
from govops.warehouse.validation import CatalogIndex, check_rows
from tests.warehouse.conftest import obs, put

pytestmark = pytest.mark.usefixtures("catalogue")


def current_provinces(session: Session) -> list[str]:
    return list(
        session.scalars(select(Area.code).where(Area.level == "province", Area.valid_to.is_(None)).order_by(Area.code))
    )


def one(session: Session, indicator: str, area: str = "VN", as_of: datetime | None = None, **kwargs: object) -> Series:
    return build_series(session=session, query=SeriesQuery.of(indicator, [area], **kwargs), as_of=as_of)[0]  # type: ignore[arg-type]


def by_period(series: Series) -> dict[str, SeriesPoint]:
    return {p.period: p for p in series.points}


def test_nation_sums_the_provinces_and_says_how_many_reported(session: Session) -> None:
    provinces = current_provinces(session)
    assert len(provinces) == 34
    put(session, [obs("T_FLOW2", code, "2025-07", 1.0 + i) for i, code in enumerate(provinces[:32])])
    point = by_period(one(session, "T_FLOW2"))["2025-07"]
    assert point.value == sum(1.0 + i for i in range(32))
    assert point.source == "aggregated"
    assert (point.areas.have, point.areas.expected) == (32, 34)  # type: ignore[union-attr]


def test_a_reported_national_figure_wins_over_the_sum(session: Session) -> None:
    put(session, [obs("T_FLOW2", "01", "2025-07", 5.0), obs("T_FLOW2", "VN", "2025-07", 900.0, status="final")])
    point = by_period(one(session, "T_FLOW2"))["2025-07"]
    assert (point.value, point.source, point.status) == (900.0, "reported", "final")


def test_wards_roll_up_to_their_province_and_on_to_the_nation(session: Session) -> None:
    wards = list(
        session.scalars(
            select(Area.code).where(Area.level == "ward", Area.parent.has(code="01")).order_by(Area.code).limit(3)
        )
    )
    put(session, [obs("T_FLOW2", w, "2025-08", 2.0) for w in wards] + [obs("T_FLOW2", "79", "2025-08", 10.0)])
    province = by_period(one(session, "T_FLOW2", "01"))["2025-08"]
    assert province.value == 6.0 and province.source == "aggregated"
    assert province.areas is not None and province.areas.have == 3 and province.areas.expected > 100
    nation = by_period(one(session, "T_FLOW2"))["2025-08"]
    assert nation.value == 16.0 and nation.areas is not None and nation.areas.have == 2


def test_months_add_up_to_quarters_and_years_by_the_time_rule(session: Session) -> None:
    put(
        session,
        [obs("T_FLOW2", "01", f"2024-{m:02d}", float(m)) for m in range(1, 13)]
        + [obs("T_STOCK", "01", f"2024-{m:02d}", float(m * 10)) for m in range(1, 11)]
        + [obs("T_MEAN", "01", f"2024-{m:02d}", float(m)) for m in range(1, 4)],
    )
    quarters = by_period(one(session, "T_FLOW2", "01", freq="Q"))
    assert [quarters[f"2024-Q{q}"].value for q in range(1, 5)] == [6.0, 15.0, 24.0, 33.0]
    assert quarters["2024-Q1"].periods is not None and quarters["2024-Q1"].periods.have == 3
    year = by_period(one(session, "T_FLOW2", "01", freq="A"))["2024"]
    assert year.value == 78.0
    stock = by_period(one(session, "T_STOCK", "01", freq="Q"))
    assert stock["2024-Q3"].value == 90.0
    # Q4 has only October: the last value stands, and the point says it is incomplete.
    assert stock["2024-Q4"].value == 100.0 and stock["2024-Q4"].periods.have == 1  # type: ignore[union-attr]
    assert by_period(one(session, "T_MEAN", "01", freq="Q"))["2024-Q1"].value == 2.0


def test_weighted_mean_over_provinces_uses_the_weight_indicator(session: Session) -> None:
    put(
        session,
        [
            obs("T_POP", "01", "2024", 8000.0),
            obs("T_POP", "79", "2024", 2000.0),
            obs("T_INDEX", "01", "2025-07", 110.0),
            obs("T_INDEX", "79", "2025-07", 100.0),
        ],
    )
    point = by_period(one(session, "T_INDEX"))["2025-07"]
    # The 2024 weights carry forward to 2025 when 2025 is not yet published.
    assert point.value == pytest.approx(108.0)


def test_indicator_without_area_rule_is_not_summed(session: Session) -> None:
    put(session, [obs("T_NONE", "01", "2025-07", 1.0)])
    assert one(session, "T_NONE").points == []
    with pytest.raises(GovopsError, match="no rule to add up over time"):
        one(session, "T_NONE", "01", freq="Q")


def test_old_provinces_are_reaggregated_onto_their_successor(session: Session) -> None:
    # Binh Duong (74) and Ba Ria - Vung Tau (77) merged into Ho Chi Minh City (79) on 2025-07-01.
    put(
        session,
        [
            obs("T_FLOW2", "79", "2025-06", 100.0),
            obs("T_FLOW2", "74", "2025-06", 40.0),
            obs("T_FLOW2", "77", "2025-06", 30.0),
            obs("T_FLOW2", "79", "2025-07", 175.0),
        ],
    )
    points = by_period(one(session, "T_FLOW2", "79"))
    assert points["2025-06"].value == 170.0 and points["2025-06"].source == "aggregated"
    assert (points["2025-06"].areas.have, points["2025-06"].areas.expected) == (3, 3)  # type: ignore[union-attr]
    assert points["2025-07"].value == 175.0 and points["2025-07"].source == "reported"
    # The nation counts each old unit once, through its successor.
    assert by_period(one(session, "T_FLOW2"))["2025-06"].value == 170.0


def test_derived_indicators_are_computed_from_their_formula(session: Session) -> None:
    put(
        session,
        [obs("T_FLOW", "01", f"{y}-{m:02d}", 10.0 * (y - 2023) + m) for y in (2024, 2025) for m in range(1, 13)]
        + [obs("T_FLOW2", "01", "2025-03", 4.0), obs("T_POP", "01", "2025", 500.0)],
    )
    balance = by_period(one(session, "T_BALANCE", "01"))
    assert balance["2025-03"].value == 23.0 - 4.0 and balance["2025-03"].source == "derived"
    assert "2025-04" not in balance or balance["2025-04"].value is None
    yoy = by_period(one(session, "T_YOY", "01"))
    assert yoy["2025-03"].value == pytest.approx((23.0 / 13.0 - 1) * 100)
    assert "2024-03" not in yoy or yoy["2024-03"].value is None
    assert by_period(one(session, "T_YTD", "01"))["2025-03"].value == 21.0 + 22.0 + 23.0
    per_head = by_period(one(session, "T_PER_HEAD", "01", freq="A"))
    assert per_head["2025"].value == pytest.approx(sum(20.0 + m for m in range(1, 13)) / 500.0 * 1000)
    quarterly_yoy = by_period(one(session, "T_YOY", "01", freq="Q"))
    assert quarterly_yoy["2025-Q1"].value == pytest.approx((66.0 / 36.0 - 1) * 100)


def test_series_as_of_a_past_moment(session: Session) -> None:
    index = CatalogIndex(session)
    t0 = datetime(2025, 8, 1, tzinfo=UTC)
    write_observations(
        session=session,
        rows=check_rows(index, [(1, obs("T_FLOW2", "01", "2025-07", 1.0)), (2, obs("T_FLOW2", "79", "2025-07", 2.0))])[
            0
        ],
        now=t0,
    )
    write_observations(
        session=session,
        rows=check_rows(index, [(1, obs("T_FLOW2", "01", "2025-07", 5.0))])[0],
        now=t0 + timedelta(days=10),
    )
    assert by_period(one(session, "T_FLOW2", as_of=t0 + timedelta(days=1)))["2025-07"].value == 3.0
    assert by_period(one(session, "T_FLOW2"))["2025-07"].value == 7.0


def test_gaps_are_explicit_and_range_filters_apply(session: Session) -> None:
    put(session, [obs("T_FLOW2", "01", "2025-01", 1.0), obs("T_FLOW2", "01", "2025-04", 4.0)])
    series = one(session, "T_FLOW2", "01")
    assert [(p.period, p.value, p.source) for p in series.points] == [
        ("2025-01", 1.0, "reported"),
        ("2025-02", None, "missing"),
        ("2025-03", None, "missing"),
        ("2025-04", 4.0, "reported"),
    ]
    assert [p.period for p in one(session, "T_FLOW2", "01", start="2025-02", end="2025-04").points] == ["2025-04"]


def test_dimension_series_and_bad_requests(session: Session) -> None:
    put(session, [obs("T_FLOW", "01", "2025-07", 9.0), obs("T_FLOW", "01", "2025-07", 4.0, dims={"T_SECTOR": "AGR"})])
    assert one(session, "T_FLOW", "01", dims={"T_SECTOR": "AGR"}).points[0].value == 4.0
    with pytest.raises(GovopsError, match="no dimension"):
        one(session, "T_FLOW", "01", dims={"COLOUR": "RED"})
    with pytest.raises(GovopsError, match="cannot be split"):
        one(session, "T_Q", "01", freq="M")
    with pytest.raises(GovopsError, match="no area"):
        one(session, "T_FLOW", "XX")


def test_a_range_gives_the_same_points_as_the_whole_series(session: Session) -> None:
    put(
        session,
        [obs("T_FLOW", "01", f"{y}-{m:02d}", float(y * 100 + m)) for y in range(2015, 2026) for m in range(1, 13)],
    )
    for indicator, freq in (("T_FLOW", "Q"), ("T_YOY", "M"), ("T_YTD", "M"), ("T_YOY", "A")):
        whole = {p.period: p.value for p in one(session, indicator, "01", freq=freq).points}
        ranged = one(session, indicator, "01", freq=freq, start="2024", end="2025")
        assert ranged.points and all(whole[p.period] == p.value for p in ranged.points), indicator
