"""`govops serve` as a real process, spoken to over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2 as httpx
import pytest

from tests.cli.conftest import Govops, serving


@pytest.fixture
def server(govops: Govops) -> Iterator[str]:
    with serving(govops) as base:
        yield base


def test_an_agency_system_pushes_data_and_reads_the_series(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as http:
        rows = [
            {"indicator": "EXPORTS", "area": "VN", "period": f"2025-{m:02d}", "value": 30000.0 + m} for m in range(1, 7)
        ]
        created = http.post("/api/v1/observations", json={"observations": rows})
        assert created.status_code == 201, created.text
        assert created.json()["created"] == 6
        assert created.headers["x-request-id"]
        series = http.get("/api/v1/series/EXPORTS", params={"freq": "Q"}).json()[0]
        assert [(p["period"], p["value"]) for p in series["points"]] == [("2025-Q1", 90006.0), ("2025-Q2", 90015.0)]
        rejected = http.post("/api/v1/observations", json={"observations": [dict(rows[0], area="99")]})
        assert rejected.status_code == 422 and rejected.json()["error"]["problems"][0]["field"] == "area"


def test_concurrent_submissions_all_land_exactly_once(server: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    provinces = ["01", "04", "08", "11", "12", "14", "15", "19"]

    def submit(area: str) -> int:
        body = {
            "observations": [
                {"indicator": "RETAIL_SALES", "area": area, "period": f"2024-{m:02d}", "value": 1000.0 + m}
                for m in range(1, 13)
            ]
        }
        with httpx.Client(base_url=server, timeout=60) as http:
            return http.post("/api/v1/observations", json=body).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(submit, provinces * 2))
    assert codes == [201] * 16
    with httpx.Client(base_url=server, timeout=10) as http:
        listed = http.get("/api/v1/observations", params={"indicator": "RETAIL_SALES", "limit": 1000}).json()
    assert len(listed["items"]) == 8 * 12
    assert all(o["version"] == 1 for o in listed["items"])
