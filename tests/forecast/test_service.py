"""Forecasts of the store's series: every series forecast and stored as a vintage; a value far outside its band
raises a warning on the outbox and in the analysts' inbox, naming the province that drives it; the API serves
both."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.auth.service import create_user
from govops.events.models import DomainEvent
from govops.forecast import service
from govops.forecast.models import Forecast, ForecastPoint, ForecastWarning
from govops.notify.models import Notification
from govops.warehouse.accept import accept

MONTHS = 48


def month(i: int) -> str:
    return f"{2021 + i // 12}-{i % 12 + 1:02d}"


def retail(area: str, i: int, base: float) -> float:
    # A seed of its own per value: Python's hash() of a str changes from one process to the next.
    rng = np.random.default_rng(zlib.crc32(f"{area}-{i}".encode()))
    return round(base * (1 + 0.01 * i) * (1 + 0.08 * np.sin(2 * np.pi * i / 12)) + rng.normal(0, base * 0.01), 1)


def submit(session: Session, rows: list[tuple[str, str, float]]) -> None:
    outcome = accept(
        session=session,
        rows=[
            (n, {"indicator": "RETAIL_SALES", "area": area, "period": period, "value": value})
            for n, (area, period, value) in enumerate(rows, start=1)
        ],
        recorded_by="test",
    )
    assert outcome.accepted, outcome.problems


@pytest.fixture
def history(session: Session) -> None:
    submit(
        session,
        [(area, month(i), retail(area, i, base)) for i in range(MONTHS) for area, base in (("01", 5e4), ("79", 9e4))],
    )
    create_user(
        session=session,
        username="analyst1",
        password="a long enough password 1",
        full_name="Analyst",
        agency="GO",
        role="analyst",
        email="analyst1@example.org",
    )


def test_every_series_is_forecast_and_stored_with_its_bands(session: Session, history: None) -> None:
    series = service.store_series(session=session, indicator="RETAIL_SALES")
    areas = {s.area_id for s in series}
    assert len(series) >= 3  # the two provinces and the nation's roll-up
    summary = service.run(session=session, series=series, trigger="test")
    assert summary.forecasts == len(series)
    rows = session.scalars(select(Forecast).where(Forecast.run_id == summary.run_id)).all()
    assert {r.area_id for r in rows} == areas
    first = rows[0]
    assert first.origin == month(MONTHS - 1) and first.backtest_mase is not None
    points = session.scalars(select(ForecastPoint).where(ForecastPoint.forecast_id == first.id)).all()
    # 2024-12 is the origin: 2025-01..2025-12 the short and medium horizons, then the long one to 2029-12.
    assert [p.period for p in points][:2] == ["2025-01", "2025-02"] and len(points) == 60
    assert points[-1].period == "2029-12"
    for p in points:
        assert p.lo95 is not None and p.lo80 is not None and p.hi80 is not None and p.hi95 is not None
        assert p.lo95 <= p.lo80 <= p.mean <= p.hi80 <= p.hi95


def test_a_value_far_outside_its_band_warns_the_outbox_and_the_inbox_naming_its_driver(
    session: Session, history: None
) -> None:
    service.run(session=session, series=service.store_series(session=session, indicator="RETAIL_SALES"), trigger="t")
    # The next month: Ho Chi Minh City's retail sales double, Ha Noi's as expected.
    submit(
        session,
        [("79", month(MONTHS), 2 * retail("79", MONTHS, 9e4)), ("01", month(MONTHS), retail("01", MONTHS, 5e4))],
    )
    summary = service.run(
        session=session, series=service.store_series(session=session, indicator="RETAIL_SALES"), trigger="t"
    )
    assert summary.warnings >= 2  # the city and the nation
    warnings = session.scalars(select(ForecastWarning).order_by(ForecastWarning.id)).all()
    national = [w for w in warnings if w.drivers]
    assert national, "the nation's warning names the provinces behind it"
    assert national[0].drivers[0]["area"] == "79" and national[0].drivers[0]["share"] > 0.8
    assert all(w.period == month(MONTHS) and w.upper is not None and w.value > w.upper for w in warnings)
    events = session.scalars(select(DomainEvent).where(DomainEvent.type == "forecast.warning")).all()
    assert len(events) == len(warnings)
    assert json.loads(events[-1].payload)["indicator"] == "RETAIL_SALES"
    inbox = session.scalars(select(Notification).where(Notification.kind == "forecast_warning")).all()
    assert len(inbox) == len(warnings) and inbox[0].email_state == "pending"
    # Run again: the same values are not warned twice.
    again = service.run(
        session=session, series=service.store_series(session=session, indicator="RETAIL_SALES"), trigger="t"
    )
    assert again.warnings == 0


def test_the_api_serves_the_forecast_with_the_levels_asked_and_the_warnings(
    client: TestClient, session: Session, history: None
) -> None:
    assert client.get("/api/v1/forecasts/RETAIL_SALES?area=79").status_code == 404
    service.run(session=session, series=service.store_series(session=session, indicator="RETAIL_SALES"), trigger="t")
    session.commit()
    got = client.get("/api/v1/forecasts/RETAIL_SALES", params={"area": "79", "h": 3, "level": "95"})
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["origin"] == month(MONTHS - 1) and body["model"]
    assert [p["horizon"] for p in body["points"]] == ["short"] * 3
    assert list(body["points"][0]["bounds"]) == ["95"]
    low, high = body["points"][0]["bounds"]["95"]
    assert low < body["points"][0]["mean"] < high
    whole = client.get("/api/v1/forecasts/RETAIL_SALES", params={"area": "79"}).json()["points"]
    kinds = [p["horizon"] for p in whole]
    assert kinds == ["short"] * 3 + ["medium"] * 9 + ["long"] * 48
    width = [p["bounds"]["95"][1] - p["bounds"]["95"][0] for p in whole]
    assert width[-1] > 1.5 * width[11]  # five years out, the trend scenario's band is far wider
    bad = client.get("/api/v1/forecasts/RETAIL_SALES", params={"area": "79", "level": "99"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "forecast_bad_level"
    assert client.get("/api/v1/warnings").json() == []


def test_an_unknown_indicator_is_said(session: Session) -> None:
    with pytest.raises(Exception, match="NOPE"):
        service.store_series(session=session, indicator="NOPE")
