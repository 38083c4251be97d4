"""Stored roll-ups give exactly what adding up the observations gives, and stay in step with every write."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from govops.catalog.models import Area, Indicator
from govops.catalog.schemas import CatalogueDoc, IndicatorDoc
from govops.catalog.service import export_catalogue, import_catalogue
from govops.demo.loader import load_demo
from govops.warehouse.models import AreaRollup, IndicatorState
from govops.warehouse.rollup import refresh_stale
from govops.warehouse.series import SeriesQuery, build_series
from govops.warehouse.series_cache import cached_series
from tests.warehouse.conftest import obs, put

AREAS = ["VN", "79", "01", "80", "25747"]


def _series(session: Session, code: str, **kwargs: object) -> list[dict[str, object]]:
    query = SeriesQuery.of(code, AREAS, **kwargs)  # type: ignore[arg-type]
    return [s.model_dump() for s in build_series(session=session, query=query)]


def _summed_up(session: Session, code: str, **kwargs: object) -> list[dict[str, object]]:
    """The same series with the stored roll-ups out of the way: added up from the observations."""
    nested = session.begin_nested()
    session.execute(delete(IndicatorState))
    try:
        return _series(session, code, **kwargs)
    finally:
        nested.rollback()


def _wards(session: Session, province: str, count: int) -> list[str]:
    parent = select(Area.id).where(Area.code == province).scalar_subquery()
    return list(session.scalars(select(Area.code).where(Area.parent_id == parent).order_by(Area.code).limit(count)))


@pytest.fixture
def demo(session: Session) -> None:
    load_demo(session=session, end_month="2016-03")


@pytest.mark.usefixtures("demo")
def test_every_demo_indicator_reads_the_same_from_roll_ups_as_from_observations(session: Session) -> None:
    stored = session.scalar(select(func.count()).select_from(AreaRollup))
    assert stored and stored > 100
    assert (session.scalar(select(func.count()).select_from(IndicatorState)) or 0) > 60
    codes = list(session.scalars(select(Indicator.code).order_by(Indicator.code)))
    assert len(codes) > 60
    for code in codes:
        assert _series(session, code) == _summed_up(session, code), code
    # Pre-2025 provinces re-aggregated onto their successor, quarterly and annual sums, weighted means.
    for code, freq in [("ENT_NEW", "A"), ("EXPORTS", "Q"), ("CPI", "Q"), ("GRDP_PER_CAPITA", "A")]:
        assert _series(session, code, freq=freq) == _summed_up(session, code, freq=freq), code


@pytest.mark.usefixtures("catalogue")
def test_ward_values_roll_up_to_province_and_nation_at_each_write(session: Session) -> None:
    first, second = _wards(session, "79", 2)
    put(session, [obs("T_FLOW2", first, "2026-01", 10), obs("T_FLOW2", second, "2026-01", 5)])
    nation, province = build_series(session=session, query=SeriesQuery.of("T_FLOW2", ["VN", "79"]))
    assert province.points[0].value == 15 and province.points[0].areas is not None
    assert (province.points[0].areas.have, province.points[0].areas.expected) == (2, len(_wards(session, "79", 999)))
    assert nation.points[0].value == 15 and nation.points[0].areas and nation.points[0].areas.have == 1

    put(session, [obs("T_FLOW2", first, "2026-01", 20), obs("T_FLOW2", _wards(session, "01", 1)[0], "2026-02", 7)])
    nation, province = build_series(session=session, query=SeriesQuery.of("T_FLOW2", ["VN", "79"]))
    assert [p.value for p in nation.points] == [25, 7]
    assert [p.value for p in province.points] == [25]
    # The province's own figure, once reported, is what its series shows; the nation then adds it up.
    put(session, [obs("T_FLOW2", "79", "2026-01", 30)])
    nation, province = build_series(session=session, query=SeriesQuery.of("T_FLOW2", ["VN", "79"]))
    assert province.points[0].value == 30 and province.points[0].source == "reported"
    assert nation.points[0].value == 30
    assert _series(session, "T_FLOW2") == _summed_up(session, "T_FLOW2")


@pytest.mark.usefixtures("catalogue")
def test_a_new_population_reweights_the_indices_weighted_by_it(session: Session) -> None:
    put(
        session,
        [
            obs("T_POP", "01", "2025", 1000),
            obs("T_POP", "79", "2025", 3000),
            obs("T_INDEX", "01", "2025-08", 100),
            obs("T_INDEX", "79", "2025-08", 200),
        ],
    )
    assert build_series(session=session, query=SeriesQuery.of("T_INDEX", ["VN"]))[0].points[0].value == 175
    put(session, [obs("T_POP", "01", "2025", 3000)])
    assert build_series(session=session, query=SeriesQuery.of("T_INDEX", ["VN"]))[0].points[0].value == 150
    assert _series(session, "T_INDEX") == _summed_up(session, "T_INDEX")


@pytest.mark.usefixtures("catalogue")
def test_a_changed_rule_reads_correctly_at_once_and_is_stored_again_by_refresh(session: Session) -> None:
    put(session, [obs("T_FLOW2", "01", "2025-08", 100), obs("T_FLOW2", "79", "2025-08", 200)])
    assert build_series(session=session, query=SeriesQuery.of("T_FLOW2", ["VN"]))[0].points[0].value == 300
    doc = export_catalogue(session=session)
    item = next(i for i in doc.indicators if i.code == "T_FLOW2")
    changed = IndicatorDoc.model_validate({**item.model_dump(), "area_aggregation": "mean", "time_aggregation": "mean"})
    import_catalogue(session=session, doc=CatalogueDoc(indicators=[changed]))
    # Stale roll-ups are never read: the mean comes from the observations until they are recomputed.
    assert build_series(session=session, query=SeriesQuery.of("T_FLOW2", ["VN"]))[0].points[0].value == 150
    assert "T_FLOW2" in refresh_stale(session=session)
    assert refresh_stale(session=session) == []
    assert build_series(session=session, query=SeriesQuery.of("T_FLOW2", ["VN"]))[0].points[0].value == 150
    assert _series(session, "T_FLOW2") == _summed_up(session, "T_FLOW2")


@pytest.mark.usefixtures("catalogue")
def test_pages_reuse_a_series_until_a_write_to_its_own_inputs(session: Session) -> None:
    put(session, [obs("T_FLOW", "01", "2025-08", 10), obs("T_FLOW2", "01", "2025-08", 4)])
    balance = cached_series(session=session, query=SeriesQuery.of("T_BALANCE", ["VN"]))
    flow2 = cached_series(session=session, query=SeriesQuery.of("T_FLOW2", ["VN"]))
    assert balance[0].points[0].value == 6
    put(session, [obs("T_FLOW", "79", "2025-08", 5)])
    # The formula's input changed: a new answer. T_FLOW2's inputs did not: the same answer, not recomputed.
    assert cached_series(session=session, query=SeriesQuery.of("T_BALANCE", ["VN"]))[0].points[0].value == 11
    assert cached_series(session=session, query=SeriesQuery.of("T_FLOW2", ["VN"]))[0] is flow2[0]
