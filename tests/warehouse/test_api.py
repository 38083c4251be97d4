from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.exchange import service
from govops.warehouse.models import Observation
from tests.warehouse.conftest import obs

pytestmark = pytest.mark.usefixtures("catalogue")


@pytest.fixture
def client(client: TestClient, session: Session) -> TestClient:
    """The test client with the API key of the statistics office's system, which owns the test indicators."""
    member = service.create_member(session=session, agency="NSO", system="stats", name="")
    service.grant(session=session, member=member, group="T_GROUP", read=True, write=True)
    client.headers["Authorization"] = f"Bearer {service.issue_key(session=session, member=member).key}"
    return client


def test_post_a_batch_then_read_it_back(client: TestClient) -> None:
    body = {
        "observations": [
            obs("T_FLOW2", "01", "2025-07", 104.2),
            obs("T_FLOW2", "79", "2025-07", 99.5),
            obs("T_FLOW", "01", "2025-07", 3.0, dims={"T_SECTOR": "AGR"}),
        ]
    }
    created = client.post("/api/v1/observations", json=body)
    assert created.status_code == 201, created.text
    receipt = created.json()
    assert (receipt["status"], receipt["member"], receipt["received"], receipt["created"]) == (
        "accepted", "NSO/stats", 3, 3
    )  # fmt: skip
    assert (receipt["updated"], receipt["unchanged"], receipt["rejected"], receipt["problems"]) == (0, 0, 0, [])
    again = client.post("/api/v1/observations", json=body)
    assert again.status_code == 201 and again.json()["unchanged"] == 3 and again.json()["id"] != receipt["id"]
    listed = client.get("/api/v1/observations", params={"indicator": "T_FLOW2"}).json()
    assert [(o["area"], o["value"], o["status"]) for o in listed["items"]] == [
        ("01", 104.2, "provisional"),
        ("79", 99.5, "provisional"),
    ]
    assert listed["next_cursor"] is None
    dims = client.get("/api/v1/observations", params={"indicator": "T_FLOW", "dims": "T_SECTOR:AGR"}).json()
    assert [o["dims"] for o in dims["items"]] == [{"T_SECTOR": "AGR"}]


def test_a_bad_row_rejects_the_whole_batch_with_rows_and_fields(client: TestClient, session: Session) -> None:
    before = session.scalar(select(func.count()).select_from(Observation))
    response = client.post(
        "/api/v1/observations",
        json={
            "observations": [
                obs("T_FLOW2", "01", "2025-07", 1.0),
                obs("T_FLOW2", "01", "July 2025", 1.0),
                obs("BAD", "01", "2025-07", 1.0),
            ]
        },
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "rejected" and "nothing was stored" in error["message"]
    assert [(p["row"], p["field"]) for p in error["problems"]] == [(2, "period"), (3, "indicator")]
    assert all(p["message"] and "hint" in p for p in error["problems"])
    assert session.scalar(select(func.count()).select_from(Observation)) == before


def test_malformed_body_gets_the_same_error_shape(client: TestClient) -> None:
    response = client.post(
        "/api/v1/observations",
        json={"observations": [{"indicator": "T_FLOW2", "area": "01", "period": "2025-07", "value": "abc"}]},
    )
    assert response.status_code == 422
    problem = response.json()["error"]["problems"][0]
    assert (problem["row"], problem["field"]) == (1, "value")
    broken = client.post("/api/v1/observations", content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "rejected"
    [problem] = broken.json()["error"]["problems"]
    assert "not valid JSON" in problem["message"]


def test_observations_page_with_a_cursor(client: TestClient) -> None:
    client.post(
        "/api/v1/observations",
        json={"observations": [obs("T_FLOW2", "01", f"2024-{m:02d}", float(m)) for m in range(1, 13)]},
    )
    first = client.get("/api/v1/observations", params={"indicator": "T_FLOW2", "limit": 10}).json()
    assert len(first["items"]) == 10 and first["next_cursor"]
    second = client.get(
        "/api/v1/observations", params={"indicator": "T_FLOW2", "limit": 10, "cursor": first["next_cursor"]}
    ).json()
    assert [o["period"] for o in second["items"]] == ["2024-11", "2024-12"] and second["next_cursor"] is None
    bad = client.get("/api/v1/observations", params={"cursor": "garbage!"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"


def test_series_endpoint_aggregates_and_reports_completeness(client: TestClient) -> None:
    client.post(
        "/api/v1/observations",
        json={
            "observations": [
                obs("T_FLOW2", "01", "2025-07", 1.0),
                obs("T_FLOW2", "79", "2025-07", 2.0),
                obs("T_FLOW2", "01", "2025-08", 3.0),
            ]
        },
    )
    response = client.get("/api/v1/series/T_FLOW2", params={"area": ["VN", "01"], "freq": "Q"})
    assert response.status_code == 200, response.text
    nation, hanoi = response.json()
    assert nation["area"] == "VN" and nation["freq"] == "Q" and nation["unit"] == "T_BN_VND"
    q3 = nation["points"][0]
    assert (q3["period"], q3["value"], q3["periods"]) == ("2025-Q3", 6.0, {"have": 2, "expected": 3})
    assert hanoi["points"][0]["value"] == 4.0


def test_series_as_of_needs_a_time_zone(client: TestClient) -> None:
    naive = client.get("/api/v1/series/T_FLOW2", params={"as_of": "2025-08-01T00:00:00"})
    assert naive.status_code == 422
    aware = client.get("/api/v1/series/T_FLOW2", params={"as_of": datetime(2025, 8, 1, tzinfo=UTC).isoformat()})
    assert aware.status_code == 200 and aware.json()[0]["points"] == []


def test_confidential_indicator_is_not_served_anonymously(client: TestClient) -> None:
    assert client.get("/api/v1/series/T_SECRET").status_code == 404
    assert client.get("/api/v1/observations", params={"indicator": "T_SECRET"}).status_code == 404
    assert client.get("/api/v1/indicators/T_SECRET").status_code == 404
    codes = [i["code"] for i in client.get("/api/v1/indicators", params={"limit": 1000}).json()["items"]]
    assert "T_FLOW" in codes and "T_SECRET" not in codes


def test_unknown_things_are_404_with_a_hint(client: TestClient) -> None:
    for path in ("/api/v1/series/NOPE", "/api/v1/indicators/NOPE", "/api/v1/areas/999"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found" and response.json()["error"]["hint"]
    bad = client.get("/api/v1/series/T_FLOW2", params={"start": "2025-13"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_period"
