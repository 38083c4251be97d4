"""Thresholds the Government cares about: a CPI forecast crossing the year's ceiling, a leading indicator falling
through its alarm line as its release arrives; each warning names the provinces driving it, in Vietnamese and
English; the thresholds are managed through the API and the command line, and bad ones are refused whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.auth.service import create_user
from govops.events.models import DomainEvent
from govops.forecast import service
from govops.forecast.models import ForecastWarning
from govops.notify.models import Notification
from govops.notify.service import render
from govops.warehouse.accept import accept
from tests.cli.conftest import Govops, govops, initialised_store
from tests.forecast.test_pages import PASSWORD, sign_in

__all__ = ["govops", "initialised_store"]

CPI_CEILING = service.ThresholdIn(
    code="CPI_CEILING_2026",
    kind="forecast",
    indicator="CPI",
    measure="ytd_yoy",
    direction="above",
    level=4.5,
    year=2026,
    name_vi="Tốc độ tăng CPI bình quân năm 2026 khoảng 4,5%",
    name_en="Average CPI increase in 2026 of about 4.5%",
    source="Nghị quyết số 244/2025/QH15",
)
IIP_FALL = service.ThresholdIn(
    code="IIP_FALL",
    kind="leading",
    indicator="IIP",
    measure="yoy",
    direction="below",
    level=0.0,
    name_vi="Sản xuất công nghiệp giảm",
    name_en="Industrial production falling",
    source="test",
)


def months(first_year: int, count: int) -> list[str]:
    return [f"{first_year + i // 12}-{i % 12 + 1:02d}" for i in range(count)]


def store(session: Session, rows: list[tuple[str, str, str, float]]) -> None:
    outcome = accept(
        session=session,
        rows=[
            (n, {"indicator": code, "area": area, "period": period, "value": value})
            for n, (code, area, period, value) in enumerate(rows, start=1)
        ],
        recorded_by="test",
    )
    assert outcome.accepted, outcome.problems


@pytest.fixture
def analyst(session: Session) -> None:
    create_user(session=session, username="an.analyst", password=PASSWORD, full_name="Analyst", agency="GO",
                role="analyst", email="analyst@example.org", language="en")  # fmt: skip


def test_a_cpi_forecast_above_the_years_ceiling_warns_naming_the_provinces_behind_it(
    session: Session, analyst: None
) -> None:
    # Prices rise 0.7% a month in Ho Chi Minh City, 0.55% in Da Nang, 0.2% in Ha Noi: the nation's average
    # inflation since January runs above 4.5% in 2026; the city drives it most.
    growth = {"79": 0.007, "48": 0.0055, "01": 0.002}
    periods = months(2023, 39)  # to 2026-03
    rows = [("CPI", a, p, round(100 * (1 + g) ** i, 3)) for a, g in growth.items() for i, p in enumerate(periods)]
    rows += [("CPI", "VN", p, round(100 * 1.005**i, 3)) for i, p in enumerate(periods)]
    store(session, rows)
    service.save_thresholds(session=session, given=[CPI_CEILING], by="test")
    summary = service.run(session=session, series=service.store_series(session=session, indicator="CPI"), trigger="t")
    assert summary.warnings == 1
    warning = session.scalars(select(ForecastWarning)).one()
    assert (warning.kind, warning.period) == ("threshold", "2026-04")  # the first forecast month
    assert warning.value > 4.5 and warning.lower == 4.5
    assert [d["area"] for d in warning.drivers] == ["79", "48"]  # Ha Noi stays under the ceiling
    assert warning.drivers[0]["share"] > 0.6
    event = session.scalars(select(DomainEvent).where(DomainEvent.type == "forecast.warning")).one()
    payload = json.loads(event.payload)
    assert payload["threshold"] == "CPI_CEILING_2026" and payload["source"] == "Nghị quyết số 244/2025/QH15"
    note = session.scalars(select(Notification).where(Notification.kind == "forecast_crossing")).one()
    english = render(note, "en")
    assert "Average CPI increase in 2026 of about 4.5%" in english.body and "above the level of 4.50" in english.body
    assert "Consumer price index" in english.subject or "CPI" in english.subject
    vietnamese = render(note, "vi")
    assert "vượt trên" in vietnamese.body and "Tốc độ tăng CPI bình quân năm 2026" in vietnamese.body
    # Forecast again: the same crossing is not warned twice.
    again = service.run(session=session, series=service.store_series(session=session, indicator="CPI"), trigger="t")
    assert again.warnings == 0


def test_a_leading_indicator_falling_through_its_line_warns_as_its_release_arrives(
    session: Session, analyst: None
) -> None:
    periods = months(2024, 26)  # to 2026-02
    store(session, [("IIP", a, p, round(100 * 1.006**i, 2)) for a in ("01", "79", "VN") for i, p in enumerate(periods)])
    service.save_thresholds(session=session, given=[IIP_FALL], by="test")
    assert service.watch_changes(session=session) == (0, 0)  # the watcher starts from here
    # March: the nation's output falls on a year earlier, Ho Chi Minh City's most.
    store(session, [("IIP", "79", "2026-03", 90.0), ("IIP", "01", "2026-03", 99.0), ("IIP", "VN", "2026-03", 96.0)])
    read, raised = service.watch_changes(session=session)
    assert read == 3 and raised >= 1
    warning = session.scalars(select(ForecastWarning).where(ForecastWarning.area_id == _area(session, "VN"))).one()
    assert (warning.kind, warning.period) == ("leading", "2026-03") and warning.value < 0
    assert warning.drivers[0]["area"] == "79" and warning.drivers[0]["share"] > 0.6
    # Nothing new: nothing warned again.
    assert service.watch_changes(session=session) == (0, 0)


def _area(session: Session, code: str) -> int:
    from govops.catalog.models import Area

    found = session.scalar(select(Area.id).where(Area.code == code))
    assert found is not None
    return found


def test_thresholds_are_managed_through_the_api_all_or_none(client: TestClient, session: Session) -> None:
    body = {"thresholds": [vars(CPI_CEILING) | {"area": "VN", "dims": ""}]}
    assert client.put("/api/v1/thresholds", json=body).status_code == 401  # no credentials
    create_user(session=session, username="a.viewer", password=PASSWORD, full_name="V", agency="GO", role="viewer")
    create_user(session=session, username="an.analyst", password=PASSWORD, full_name="A", agency="GO", role="analyst")
    token = sign_in(client, "a.viewer")
    refused = client.put("/api/v1/thresholds", json=body, headers={"X-CSRF-Token": token})
    assert refused.status_code == 403
    token = sign_in(client, "an.analyst")
    made = client.put("/api/v1/thresholds", json=body, headers={"X-CSRF-Token": token})
    assert made.status_code == 200, made.text
    assert made.json()[0]["indicator"] == "CPI" and made.json()[0]["created_by"] == "an.analyst"
    bad = {"thresholds": [vars(IIP_FALL) | {"code": "OK_ONE"}, vars(IIP_FALL) | {"code": "BAD", "indicator": "NOPE"}]}
    wrong = client.put("/api/v1/thresholds", json=bad, headers={"X-CSRF-Token": token, "Accept-Language": "vi"})
    assert wrong.status_code == 400
    problems = wrong.json()["error"]["problems"]
    assert problems[0]["field"] == "indicator" and "NOPE" in problems[0]["message"]
    listed = client.get("/api/v1/thresholds").json()
    assert [t["code"] for t in listed["items"]] == ["CPI_CEILING_2026"]  # nothing of the refused set stored
    assert client.delete("/api/v1/thresholds/CPI_CEILING_2026", headers={"X-CSRF-Token": token}).status_code == 204
    assert client.get("/api/v1/thresholds").json()["items"] == []
    gone = client.delete("/api/v1/thresholds/CPI_CEILING_2026", headers={"X-CSRF-Token": token})
    assert gone.status_code == 404


def test_the_shipped_thresholds_cite_their_source_and_load_from_the_command_line(
    tmp_path: Path, session: Session
) -> None:
    shipped = Path(service.__file__).with_name("thresholds.yaml").read_text(encoding="utf-8")
    saved = service.import_thresholds(session=session, text=shipped, where="thresholds.yaml", by="test")
    by_code = {t.code: t for t in saved}
    assert "158/2024/QH15" in by_code["CPI_CEILING_2025"].source and not by_code["CPI_CEILING_2025"].demo
    assert "244/2025/QH15" in by_code["CPI_CEILING_2026"].source
    assert all(t.demo == t.name_en.startswith("DEMO") for t in saved)
    broken = tmp_path / "bad.yaml"
    broken.write_text("thresholds:\n  - code: X\n    kind: sideways\n", encoding="utf-8")
    with pytest.raises(Exception, match="missing"):
        service.import_thresholds(session=session, text=broken.read_text(), where="bad.yaml", by="test")


def test_the_thresholds_command_imports_lists_and_deletes(govops: Govops) -> None:
    shipped = Path(service.__file__).with_name("thresholds.yaml")
    (govops.cwd / "t.yaml").write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    made = govops("forecast", "thresholds", "import", "t.yaml")
    assert made.code == 0 and "4 thresholds saved" in made.out, made.err
    listed = govops("forecast", "thresholds", "list")
    assert "CPI_CEILING_2026" in listed.out and "244/2025/QH15" in listed.out and "> 4.5" in listed.out
    assert govops("forecast", "thresholds", "delete", "DEMO_IIP_CONTRACTION").code == 0
    assert "DEMO_IIP_CONTRACTION" not in govops("forecast", "thresholds", "list").out
    (govops.cwd / "bad.yaml").write_text("thresholds:\n  - {code: X, kind: sideways, indicator: CPI, level: 1, "
                                         "name_vi: a, name_en: b, source: c}\n")  # fmt: skip
    bad = govops("forecast", "thresholds", "import", "bad.yaml")
    assert bad.code == 1 and "sideways" in bad.err and "Traceback" not in bad.err
