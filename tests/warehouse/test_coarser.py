"""Figures reported for a longer period than the indicator's own: an official annual figure of a monthly indicator.

They are accepted by every entry point, stored as observations at their own period, and win over adding up the
shorter periods in the series at that frequency, for that area and breakdown; the point says it was reported.
"""

from __future__ import annotations

import csv
import io
import json
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from govops.catalog.schemas import CatalogueDoc
from govops.catalog.service import import_catalogue
from govops.errors import Rejected
from govops.events.models import DomainEvent
from govops.events.service import Event
from govops.exchange import service as exchange
from govops.interop.dhis2.metadata import catalogue_from_metadata
from govops.interop.mapping.service import save_mapping
from govops.periods import Freq, Period, PeriodError
from govops.warehouse.models import AreaRollup, IndicatorState, Observation
from govops.warehouse.schemas import Series, SeriesPoint
from govops.warehouse.series import SeriesQuery, build_series
from govops.warehouse.series_cache import cached_series
from tests.conftest import shared_file
from tests.warehouse.conftest import obs, put

pytestmark = pytest.mark.usefixtures("catalogue")

MONTHS_2023 = [f"2023-{m:02d}" for m in range(1, 13)]
MONTHS_2024 = [f"2024-{m:02d}" for m in range(1, 13)]


def one(session: Session, indicator: str, area: str, **kwargs: object) -> Series:
    return build_series(session=session, query=SeriesQuery.of(indicator, [area], **kwargs))[0]  # type: ignore[arg-type]


def by_period(series: Series) -> dict[str, SeriesPoint]:
    return {p.period: p for p in series.points}


def from_observations(session: Session, indicator: str, area: str, **kwargs: object) -> Series:
    """The same series with the stored roll-ups out of the way: added up from the observations."""
    nested = session.begin_nested()
    session.execute(delete(IndicatorState))
    try:
        return one(session, indicator, area, **kwargs)
    finally:
        nested.rollback()


def cpi_months(area: str) -> list[dict[str, object]]:
    """A monthly index (area and time rule: mean), 100 + month number in 2023 and 110 + month number in 2024."""
    return [obs("T_MEAN", area, p, 100.0 + m) for m, p in enumerate(MONTHS_2023, start=1)] + [
        obs("T_MEAN", area, p, 110.0 + m) for m, p in enumerate(MONTHS_2024, start=1)
    ]


def test_an_annual_figure_of_a_monthly_index_is_stored_and_wins_in_the_annual_series(session: Session) -> None:
    summary = put(session, [*cpi_months("01"), obs("T_MEAN", "01", "2024", 116.2, status="final")])
    assert (summary.received, summary.created) == (25, 25)
    stored = session.execute(select(Observation.period, Observation.value).where(Observation.period == "2024")).one()
    assert tuple(stored) == ("2024", 116.2)

    for series in (one(session, "T_MEAN", "01", freq="A"), from_observations(session, "T_MEAN", "01", freq="A")):
        years = by_period(series)
        assert list(years) == ["2023", "2024"]
        # 2023 is the mean of its months; 2024 is the official figure, not the mean of its months (116.5).
        assert (years["2023"].value, years["2023"].source) == (106.5, "aggregated")
        assert years["2023"].periods is not None and years["2023"].periods.have == 12
        assert (years["2024"].value, years["2024"].source, years["2024"].status) == (116.2, "reported", "final")
        assert years["2024"].periods is None

    # The months and quarters are as they were: the annual figure shows at the annual frequency only.
    months = one(session, "T_MEAN", "01")
    assert [p.period for p in months.points] == MONTHS_2023 + MONTHS_2024
    assert all(p.source == "reported" for p in months.points)
    quarters = by_period(one(session, "T_MEAN", "01", freq="Q"))
    assert len(quarters) == 8 and all(p.source == "aggregated" for p in quarters.values())
    assert quarters["2024-Q4"].value == 121.0
    assert one(session, "T_MEAN", "01", freq="Q") == from_observations(session, "T_MEAN", "01", freq="Q")


def test_a_reported_quarter_wins_in_the_quarterly_series_only(session: Session) -> None:
    put(session, [*cpi_months("01"), obs("T_MEAN", "01", "2024-Q2", 115.0)])
    for series in (one(session, "T_MEAN", "01", freq="Q"), from_observations(session, "T_MEAN", "01", freq="Q")):
        quarters = by_period(series)
        assert (quarters["2024-Q2"].value, quarters["2024-Q2"].source) == (115.0, "reported")
        assert (quarters["2024-Q1"].value, quarters["2024-Q1"].source) == (112.0, "aggregated")
    # The year still averages its months.
    year = by_period(one(session, "T_MEAN", "01", freq="A"))["2024"]
    assert (year.value, year.source) == (116.5, "aggregated")


def test_the_api_answers_which_points_are_reported(client: TestClient, session: Session) -> None:
    put(session, [*cpi_months("01"), obs("T_MEAN", "01", "2024", 116.2)])
    response = client.get("/api/v1/series/T_MEAN", params={"area": "01", "freq": "A"})
    assert response.status_code == 200, response.text
    points = [(p["period"], p["value"], p["source"]) for p in response.json()[0]["points"]]
    assert points == [("2023", 106.5, "aggregated"), ("2024", 116.2, "reported")]
    schema = client.get("/openapi.json").json()["components"]["schemas"]["SeriesPoint"]["properties"]["source"]
    assert schema["enum"] == ["reported", "aggregated", "derived", "missing"]
    assert "longer period" in schema["description"]


def test_a_reported_national_figure_wins_over_the_provinces_and_a_provincial_one_stays_at_its_province(
    session: Session,
) -> None:
    put(
        session,
        [obs("T_FLOW2", "01", p, 10.0) for p in MONTHS_2024]
        + [obs("T_FLOW2", "79", p, 20.0) for p in MONTHS_2024]
        # Ha Noi's official annual figure differs from the sum of its months (120).
        + [obs("T_FLOW2", "01", "2024", 125.0, status="final")],
    )
    assert session.scalar(select(func.count()).select_from(AreaRollup).where(AreaRollup.period == "2024")) == 0
    nation = by_period(one(session, "T_FLOW2", "VN", freq="A"))["2024"]
    # The nation adds up its own months (each the sum of the provinces): 12 * 30.
    assert (nation.value, nation.source) == (360.0, "aggregated")
    assert by_period(one(session, "T_FLOW2", "01", freq="A"))["2024"].value == 125.0
    assert by_period(one(session, "T_FLOW2", "79", freq="A"))["2024"].source == "aggregated"

    put(session, [obs("T_FLOW2", "VN", "2024", 370.0, status="final")])
    for series in (one(session, "T_FLOW2", "VN", freq="A"), from_observations(session, "T_FLOW2", "VN", freq="A")):
        year = by_period(series)["2024"]
        assert (year.value, year.source, year.status) == (370.0, "reported", "final")
    months = by_period(one(session, "T_FLOW2", "VN"))
    assert months["2024-06"].value == 30.0 and months["2024-06"].source == "aggregated"
    both = build_series(session=session, query=SeriesQuery.of("T_FLOW2", ["01", "79", "VN"], freq="A"))
    assert [(s.area, s.points[0].value, s.points[0].source) for s in both] == [
        ("01", 125.0, "reported"),
        ("79", 240.0, "aggregated"),
        ("VN", 370.0, "reported"),
    ]


def test_a_revised_annual_figure_changes_the_series_pages_show_and_is_in_the_change_feed(session: Session) -> None:
    first = put(session, [*cpi_months("01"), obs("T_MEAN", "01", "2024", 116.2, status="provisional")])
    query = SeriesQuery.of("T_MEAN", ["01"], freq="A")
    before = cached_series(session=session, query=query)
    assert before[0].points[-1].value == 116.2
    assert cached_series(session=session, query=query)[0] is before[0]

    summary = put(session, [obs("T_MEAN", "01", "2024", 116.4, status="final")])
    assert (summary.updated, summary.created) == (1, 0)
    after = cached_series(session=session, query=query)
    assert (after[0].points[-1].value, after[0].points[-1].status, after[0].points[-1].source) == (
        116.4,
        "final",
        "reported",
    )
    # As the series stood before the revision.
    then = build_series(session=session, query=query, as_of=first.recorded_at)[0].points[-1]
    assert (then.value, then.status, then.source) == (116.2, "provisional", "reported")
    events = [Event.of(row).payload for row in session.scalars(select(DomainEvent).order_by(DomainEvent.id))]
    in_2024 = [(e["period"], e["value"], e["version"]) for e in events if e.get("period") == "2024"]
    assert in_2024 == [("2024", 116.2, 1), ("2024", 116.4, 2)]


def test_a_breakdown_keeps_its_own_annual_figure(session: Session) -> None:
    put(
        session,
        [obs("T_FLOW", "01", p, 1.0, dims={"T_SECTOR": "AGR"}) for p in MONTHS_2024]
        + [obs("T_FLOW", "01", p, 2.0) for p in MONTHS_2024]
        + [obs("T_FLOW", "01", "2024", 13.0, dims={"T_SECTOR": "AGR"})],
    )
    agr = by_period(one(session, "T_FLOW", "01", freq="A", dims={"T_SECTOR": "AGR"}))["2024"]
    total = by_period(one(session, "T_FLOW", "01", freq="A"))["2024"]
    assert (agr.value, agr.source) == (13.0, "reported")
    assert (total.value, total.source) == (24.0, "aggregated")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        # Finer than the indicator's own periods: refused as before.
        (obs("T_Q", "01", "2024-07", 1.0), "'2024-07' is a month, but a quarter is expected (e.g. 2025-Q3)"),
        (obs("T_POP", "01", "2024-S1", 1.0), "'2024-S1' is a half-year, but a year is expected (e.g. 2025)"),
        # No rule to add up over time: a longer period has no meaning for it.
        (obs("T_NONE", "01", "2024", 1.0), "'2024' is a year, but a month is expected (e.g. 2025-07)"),
    ],
)
def test_a_period_shorter_than_the_indicators_is_still_refused(
    session: Session, row: dict[str, object], message: str
) -> None:
    before = session.scalar(select(func.count()).select_from(Observation))
    with pytest.raises(Rejected) as caught:
        put(session, [obs("T_Q", "01", "2024-Q3", 5.0), row])
    assert [(p.row, p.field, p.message) for p in caught.value.problems] == [(2, "period", message)]
    assert caught.value.problems[0].hint
    assert session.scalar(select(func.count()).select_from(Observation)) == before


def test_a_longer_period_is_one_made_of_whole_periods_of_the_indicators_own() -> None:
    assert Period.parse("2025", expected=Freq.W, or_coarser=True) == Period("2025")
    assert Period.parse("2021/2030", expected=Freq.A2, or_coarser=True).freq is Freq.A10
    with pytest.raises(PeriodError) as caught:
        Period.parse("2021/2025", expected=Freq.A2, or_coarser=True)
    assert caught.value.message.endswith("a 2-year period (e.g. 2025/2026) does not divide it exactly")
    with pytest.raises(PeriodError):
        Period.parse("2025", expected=Freq.M)


def test_annual_figures_of_a_real_dhis2_data_value_set_land_on_monthly_indicators(
    client: TestClient, session: Session
) -> None:
    """The DHIS2 sample publishes 2018 figures of funding data elements; here the ministry follows them monthly."""
    metadata = shared_file("dhis2", "aggregate_metadata.json").read_bytes()
    doc, mapping = catalogue_from_metadata(
        metadata, owner="MOH", unit="CASES", group="SOCIAL", org_units={"O6uvpzGd5pu": "79"}
    )
    annual = {i["code"] for i in doc["indicators"] if i["periodicity"] == "A"}
    assert "TA_GEN_EXT_FUND" in annual
    doc["indicators"] = [{**i, "periodicity": "M"} if i["code"] in annual else i for i in doc["indicators"]]
    import_catalogue(session=session, doc=CatalogueDoc.model_validate(doc))
    save_mapping(session=session, name="moh-dhis2", kind="dhis2", text=mapping, by="test")
    member = exchange.create_member(session=session, agency="PC-79", system="dhis2", name="dhis2")
    exchange.grant(session=session, member=member, group="SOCIAL", read=True, write=True)
    key = exchange.issue_key(session=session, member=member).key
    payload = shared_file("dhis2", "dataValues_bulk.json").read_bytes()
    yearly = [v for v in json.loads(payload)["dataValues"] if v["period"] == "2018"]
    assert len(yearly) == 9

    response = client.post(
        "/api/v1/submissions",
        params={"mapping": "moh-dhis2"},
        content=payload,
        headers={
            "Authorization": f"Bearer {key}",
            "Idempotency-Key": uuid.uuid4().hex,
            "Content-Type": "application/json",
        },
    )
    receipt = response.json()
    assert response.status_code == 201, receipt
    assert (receipt["received"], receipt["created"]) == (222, 222)
    landed = session.scalars(select(Observation.period).where(Observation.period == "2018")).all()
    assert len(landed) == 9

    # The months of 2018 add up to less than the official annual figure, which wins in the annual series.
    put(session, [obs("TA_GEN_EXT_FUND", "79", f"2018-{m:02d}", 40000.0) for m in range(1, 13)])
    years = one(session, "TA_GEN_EXT_FUND", "79", freq="A")
    assert [(p.period, p.value, p.source) for p in years.points] == [("2018", 500000.0, "reported")]
    quarters = one(session, "TA_GEN_EXT_FUND", "79", freq="Q")
    assert [p.value for p in quarters.points] == [120000.0] * 4
    months = one(session, "TA_GEN_EXT_FUND", "79")
    assert len(months.points) == 12 and "2018" not in [p.period for p in months.points]


def test_exports_answer_a_reported_year_as_a_series_of_its_own_frequency(client: TestClient, session: Session) -> None:
    put(
        session,
        [obs("CPI", "79", f"2024-{m:02d}", 100.0 + m) for m in range(1, 13)]
        + [obs("CPI", "79", "2024", 106.9, status="final")],
    )
    response = client.get("/api/v1/sdmx/data/CPI/.CPI.79._T", params={"format": "sdmx-csv"})
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    got = {(r["FREQ"], r["TIME_PERIOD"]): float(r["OBS_VALUE"]) for r in rows}
    assert len(got) == 13 and got[("A", "2024")] == 106.9 and got[("M", "2024-12")] == 112.0
    annual = client.get("/api/v1/sdmx/data/CPI/A.CPI.79._T", params={"format": "sdmx-csv"})
    assert [(r["FREQ"], r["TIME_PERIOD"]) for r in csv.DictReader(io.StringIO(annual.content.decode()))] == [
        ("A", "2024")
    ]
