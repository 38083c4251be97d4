"""`govops serve` as a real process, spoken to over real HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx2 as httpx
import pytest

from tests.cli.conftest import Govops


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(govops: Govops) -> Iterator[str]:
    port = free_port()
    log = govops.cwd / "server.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "govops", "serve", "--port", str(port)],
            cwd=govops.cwd,
            env=govops.env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            proc.kill()
            proc.wait()
            pytest.fail(f"server did not start: {log.read_text()}")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


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
