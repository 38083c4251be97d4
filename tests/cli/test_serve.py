"""`govops serve` as a real process, spoken to over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx2 as httpx
import pytest

from tests.cli.conftest import Govops, serving


def _key(govops: Govops, member: str, group: str) -> dict[str, str]:
    """The Authorization header of a new member system with a write grant on `group`."""
    agency, system = member.split("/")
    added = govops("exchange", "add", agency, system)
    assert added.code == 0, added.err
    found = re.search(r"gvk_\w{12}_[\w-]{32}", added.out)
    assert found
    assert govops("exchange", "grant", member, group, "--read", "--write").code == 0
    return {"Authorization": f"Bearer {found.group(0)}"}


@pytest.fixture
def server(govops: Govops) -> Iterator[str]:
    with serving(govops) as base:
        yield base


def test_an_agency_system_pushes_data_and_reads_the_series(govops: Govops) -> None:
    customs = _key(govops, "CUSTOMS/vnaccs", "TRADE")
    with serving(govops) as server, httpx.Client(base_url=server, timeout=10, headers=customs) as http:
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


def test_writing_needs_credentials(server: str) -> None:
    rows = [{"indicator": "EXPORTS", "area": "VN", "period": "2025-01", "value": 1.0}]
    with httpx.Client(base_url=server, timeout=10) as http:
        refused = http.post("/api/v1/observations", json={"observations": rows})
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
        assert http.get("/api/v1/observations", params={"indicator": "EXPORTS"}).json()["items"] == []


def test_concurrent_submissions_all_land_exactly_once(govops: Govops) -> None:
    from concurrent.futures import ThreadPoolExecutor

    statistics = _key(govops, "NSO/retail", "TRADE")
    provinces = ["01", "04", "08", "11", "12", "14", "15", "19"]

    def submit(server: str, area: str) -> int:
        body = {
            "observations": [
                {"indicator": "RETAIL_SALES", "area": area, "period": f"2024-{m:02d}", "value": 1000.0 + m}
                for m in range(1, 13)
            ]
        }
        with httpx.Client(base_url=server, timeout=60, headers=statistics) as http:
            return http.post("/api/v1/observations", json=body).status_code

    with serving(govops) as server:
        with ThreadPoolExecutor(max_workers=8) as pool:
            codes = list(pool.map(lambda area: submit(server, area), provinces * 2))
        with httpx.Client(base_url=server, timeout=10) as http:
            listed = http.get("/api/v1/observations", params={"indicator": "RETAIL_SALES", "limit": 1000}).json()
    # Each batch twice: the second is the same data again (unchanged), a submission of its own.
    assert codes == [201] * 16
    assert len(listed["items"]) == 8 * 12
    assert all(o["version"] == 1 for o in listed["items"])
