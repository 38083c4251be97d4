"""Two agency systems over real HTTP against a real `govops serve`: one submits, the other is told at once."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from govops.catalog.models import Area
from govops.db.engine import make_engine
from govops.exchange.models import Submission
from govops.warehouse.models import Observation, ObservationRevision
from tests.cli.conftest import Govops, free_port, serving


def _key(govops: Govops, *args: str) -> str:
    result = govops("exchange", "add", *args)
    assert result.code == 0, result.err
    found = re.search(r"gvk_\w{12}_[\w-]{32}", result.out)
    assert found
    return found.group(0)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, str, str]]:
    """A served store with a province system that writes enterprises and a ministry system that reads them.

    One server for the module: each test writes its own periods and listens only to what comes after it connects.
    """
    folder = tmp_path_factory.mktemp("live")
    govops = Govops(folder / "govops.db", folder)
    assert govops("init").code == 0
    writer = _key(govops, "PC-79", "ioc")
    reader = _key(govops, "MOF", "enterprise-registry")
    assert govops("exchange", "grant", "PC-79/ioc", "ENTERPRISES", "--read", "--write").code == 0
    assert govops("exchange", "grant", "MOF/enterprise-registry", "ENTERPRISES", "--read").code == 0
    with serving(govops) as base:
        yield folder, base, writer, reader


@pytest.fixture
def live(served: tuple[Path, str, str, str]) -> tuple[str, str, str]:
    return served[1:]


class Listener:
    """Reads a Server-Sent Events stream in a thread, as an agency system's client would."""

    def __init__(self, base: str, key: str, last_event_id: int | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.ids: list[int] = []
        self.ready = threading.Event()
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self._client = httpx.Client(base_url=base, timeout=httpx.Timeout(5, read=30))
        self._thread = threading.Thread(target=self._listen, args=(headers,), daemon=True)
        self._thread.start()
        assert self.ready.wait(10), "the stream did not open"

    def _listen(self, headers: dict[str, str]) -> None:
        try:
            with self._client.stream("GET", "/api/v1/events", headers=headers) as response:
                assert response.status_code == 200
                event_id = None
                for line in response.iter_lines():
                    if line.startswith(": connected"):
                        self.ready.set()
                    elif line.startswith("id: "):
                        event_id = int(line[4:])
                    elif line.startswith("data: ") and event_id is not None:
                        self.ids.append(event_id)
                        self.events.append(json.loads(line[6:]))
        except (httpx.ReadError, httpx.RemoteProtocolError):
            pass  # closed by close()

    def wait_for(self, count: int, seconds: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + seconds
        while len(self.events) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.events

    def close(self) -> None:
        self._client.close()


def test_a_submission_reaches_a_subscribed_agency_at_once_and_a_reconnect_resumes(
    live: tuple[str, str, str],
) -> None:
    base, writer, reader = live
    listener = Listener(base, reader)
    try:
        rows = "indicator,area,period,value\nENT_NEW,79,2026-09,4100\nENT_NEW,25747,2026-09,35\n"
        sent = time.monotonic()
        response = httpx.post(
            f"{base}/api/v1/submissions",
            content=rows.encode(),
            headers={
                "Authorization": f"Bearer {writer}",
                "Idempotency-Key": uuid.uuid4().hex,
                "Content-Type": "text/csv",
            },
        )
        assert response.status_code == 201, response.text
        events = listener.wait_for(2)
        assert time.monotonic() - sent < 5
        assert [(e["indicator"], e["area"], e["value"]) for e in events] == [
            ("ENT_NEW", "79", 4100.0), ("ENT_NEW", "25747", 35.0)
        ]  # fmt: skip
        assert all(e["submission"] == response.json()["id"] for e in events)
        assert listener.ids == sorted(listener.ids)
    finally:
        listener.close()
    # Back after a break: everything after the last id it saw comes first.
    resumed = Listener(base, reader, last_event_id=listener.ids[0])
    try:
        assert [e["area"] for e in resumed.wait_for(1)] == ["25747"]
    finally:
        resumed.close()
    # The same changes by pull.
    pulled = httpx.get(f"{base}/api/v1/changes", headers={"Authorization": f"Bearer {reader}"}).json()["items"]
    assert [e["id"] for e in pulled if e["indicator"] == "ENT_NEW"][-2:] == listener.ids


def test_a_stream_shows_only_what_the_reader_may_read(live: tuple[str, str, str]) -> None:
    base, writer, _reader = live
    anonymous = Listener(base, "")
    try:
        response = httpx.post(
            f"{base}/api/v1/submissions",
            content=json.dumps(
                {"observations": [{"indicator": "ENT_NEW", "area": "79", "period": "2026-08", "value": 1}]}
            ),
            headers={"Authorization": f"Bearer {writer}", "Idempotency-Key": "k", "Content-Type": "application/json"},
        )
        assert response.status_code == 201
        # ENT_NEW is public: an anonymous reader sees it too; the writer's key is not needed to listen.
        assert [e["value"] for e in anonymous.wait_for(1)] == [1.0]
    finally:
        anonymous.close()
    bad = httpx.get(f"{base}/api/v1/events", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_more_streams_than_database_connections_all_get_the_event(live: tuple[str, str, str]) -> None:
    """A stream holds no database connection while it waits: 24 streams outnumber the pool's 15."""
    base, writer, reader = live
    listeners = [Listener(base, reader) for _ in range(24)]
    try:
        response = httpx.post(
            f"{base}/api/v1/submissions",
            content=b"indicator,area,period,value\nENT_NEW,79,2026-07,12\n",
            headers={"Authorization": f"Bearer {writer}", "Idempotency-Key": "many", "Content-Type": "text/csv"},
        )
        assert response.status_code == 201, response.text
        assert all([e["value"] for e in listener.wait_for(1)] == [12.0] for listener in listeners)
        assert httpx.get(f"{base}/healthz").status_code == 200
    finally:
        for listener in listeners:
            listener.close()


def _post_csv(base: str, key: str, idem: str, csv: str) -> int:
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": idem, "Content-Type": "text/csv"}
    return httpx.post(f"{base}/api/v1/submissions", content=csv.encode(), headers=headers, timeout=10).status_code


def test_a_server_killed_during_submissions_loses_and_doubles_nothing(tmp_path: Path) -> None:
    """SIGKILL mid-stream; after a restart the client sends again what was not acknowledged, same keys."""
    govops = Govops(tmp_path / "govops.db", tmp_path)
    assert govops("init").code == 0
    key = _key(govops, "PC-79", "ioc")
    assert govops("exchange", "grant", "PC-79/ioc", "ENTERPRISES", "--read", "--write").code == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'govops.db'}")
    with Session(engine) as session:
        parent = select(Area.id).where(Area.code == "79").scalar_subquery()
        wards = list(session.scalars(select(Area.code).where(Area.parent_id == parent).order_by(Area.code).limit(40)))
    bodies = {f"ward-{w}": f"indicator,area,period,value\nENT_NEW,{w},2026-09,{i + 1}\n" for i, w in enumerate(wards)}
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def start() -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "govops", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=govops.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    return proc
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("the server did not start")

    acknowledged: set[str] = set()
    server = start()
    # Killed a moment after the fifth acknowledgement: in the middle of the next submission.
    killer = threading.Timer(0.015, lambda: server.send_signal(signal.SIGKILL))
    for idem, csv in bodies.items():
        try:
            if _post_csv(base, key, idem, csv) == 201:
                acknowledged.add(idem)
                if len(acknowledged) == 5:
                    killer.start()
        except httpx.TransportError:
            pass  # the server is gone: not acknowledged
    killer.join()
    server.wait()
    assert 0 < len(acknowledged) < len(bodies), "the kill should land in the middle of the submissions"
    server = start()
    try:
        # A client sends everything again with the same keys: what was stored before the kill comes back as a replay.
        again = {idem: _post_csv(base, key, idem, csv) for idem, csv in bodies.items()}
        assert all(again[idem] == 200 for idem in acknowledged)
        assert set(again.values()) <= {200, 201}
    finally:
        server.terminate()
        server.wait(timeout=15)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == len(bodies)
        stored = session.scalars(select(Observation.value).where(Observation.period == "2026-09")).all()
        assert sorted(stored) == [float(i + 1) for i in range(len(bodies))]
        assert session.scalar(select(func.count()).select_from(ObservationRevision)) == len(bodies)
    engine.dispose()


def test_a_catalogue_change_reaches_a_stream_under_the_readers_rights(served: tuple[Path, str, str, str]) -> None:
    folder, base, writer, reader = served
    govops = Govops(folder / "govops.db", folder)  # the store being served
    member, anonymous = Listener(base, reader), Listener(base, "")
    try:
        assert govops("catalog", "export", "--format", "json", "-o", "catalogue.json").code == 0
        doc = json.loads((folder / "catalogue.json").read_text(encoding="utf-8"))
        for item in doc["indicators"]:
            if item["code"] in ("ENT_NEW", "CPI", "TREASURY_CASH"):
                item["name_en"] += " (renamed)"
        (folder / "catalogue.json").write_text(json.dumps(doc), encoding="utf-8")
        result = govops("catalog", "import", "catalogue.json")
        assert result.code == 0, result.err
        # A change the member may read comes after, so anything it may not read would have come before it.
        assert _post_csv(base, writer, "after", "indicator,area,period,value\nENT_NEW,79,2026-06,7\n") == 201
        # The member reads the ENTERPRISES group: not CPI; TREASURY_CASH is confidential and not granted.
        assert [(e["type"], e["subject"]) for e in member.wait_for(2)] == [
            ("indicator.updated", "ENT_NEW"), ("observation.changed", "ENT_NEW/79/2026-06")
        ]  # fmt: skip
        # Anyone reads public indicators (ENT_NEW, CPI), never the confidential one.
        assert [(e["type"], e["subject"]) for e in anonymous.wait_for(3)] == [
            ("indicator.updated", "CPI"),
            ("indicator.updated", "ENT_NEW"),
            ("observation.changed", "ENT_NEW/79/2026-06"),
        ]  # fmt: skip
        assert member.events[0]["name_en"].endswith("(renamed)") and member.events[0]["topic"] == "catalog"
    finally:
        member.close()
        anonymous.close()
