from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.catalog.models import Area, Indicator
from govops.demo.loader import default_end_month, demo_loaded, load_demo, predecessors
from govops.warehouse.models import Observation
from govops.warehouse.series import SeriesQuery, build_series


def test_default_end_is_the_month_before_today() -> None:
    from datetime import date

    assert default_end_month(date(2026, 1, 15)) == "2025-12"


def test_predecessors_are_the_official_2025_merger(session: Session) -> None:
    merged = predecessors(session=session)
    assert merged["79"] == ["74", "77", "79"]
    assert len(merged) == 23 and sum(len(v) for v in merged.values()) == 23 + 29


@pytest.fixture
def demo(session: Session) -> None:
    assert not demo_loaded(session=session)
    summary = load_demo(session=session, end_month="2015-12")
    assert summary.created == session.scalar(select(func.count()).select_from(Observation)) > 10_000
    assert demo_loaded(session=session)


@pytest.mark.usefixtures("demo")
def test_demo_series_roll_up_and_reaggregate_old_provinces(session: Session) -> None:
    nation, hcmc = build_series(session=session, query=SeriesQuery.of("ENT_NEW", ["VN", "79"], freq="A"))
    old_units = session.scalar(
        select(func.count(func.distinct(Observation.area_id)))
        .join(Indicator, Indicator.id == Observation.indicator_id)
        .where(Indicator.code == "ENT_NEW")
        .join(Area, Area.id == Observation.area_id)
        .where(Area.level == "province")
    )
    assert old_units == 63
    year = hcmc.points[0]
    assert year.period == "2015" and year.value and year.periods and year.periods.have == 12
    total_of_old = session.scalar(
        select(func.sum(Observation.value))
        .join(Indicator, Indicator.id == Observation.indicator_id)
        .join(Area, Area.id == Observation.area_id)
        .where(Indicator.code == "ENT_NEW", Area.level == "province")
    )
    assert nation.points[0].value == pytest.approx(total_of_old)
    monthly = build_series(session=session, query=SeriesQuery.of("ENT_NEW", ["79"]))[0].points[0]
    assert monthly.source == "aggregated" and monthly.areas is not None and monthly.areas.expected == 3


@pytest.mark.usefixtures("demo")
def test_demo_derived_and_weighted_indicators_have_values(session: Session) -> None:
    cpi = build_series(session=session, query=SeriesQuery.of("CPI", ["VN"]))[0]
    assert len(cpi.points) == 12 and all(p.value and 80 < p.value < 120 for p in cpi.points)
    balance = build_series(session=session, query=SeriesQuery.of("TRADE_BALANCE", ["VN"], freq="Q"))[0]
    assert [p.period for p in balance.points] == ["2015-Q1", "2015-Q2", "2015-Q3", "2015-Q4"]
    assert all(p.source == "derived" and p.value is not None for p in balance.points)
