"""Many event streams with different rights over real HTTP: each gets exactly the changes it may read, in order.

A real `govops serve` (on SQLite, and on PostgreSQL when GOVOPS_TEST_DATABASE_URL names a server) with
agency systems of different grants and clearances, anonymous readers and filtered streams, several of
each; four agencies submit one value at a time. Streams that connect in the middle with Last-Event-ID
catch up from the store and then go on live, without a gap or a double.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from govops.db.engine import make_engine, transaction
from govops.exchange import service as exchange
from govops.warehouse import stream as streams
from govops.warehouse.changes import Interest
from tests.cli.conftest import Govops, initialised_store, serving

__all__ = ["initialised_store"]

STREAMS_PER_READER = 12

# One value per submission, in this order: (writer, indicator, area, period, value).
WRITES = [
    ("PC-79/ioc", "ENT_NEW", "79", "2026-09", 101.0),  # public, group ENTERPRISES
    ("SBV/core", "M2", "VN", "2026-09", 202.0),  # internal, MONEY_BANKING
    ("NSO/core", "GDP_FLASH", "VN", "2026-Q3", 303.0),  # confidential, MACRO
    ("PC-79/ioc", "ENT_NEW", "25747", "2026-09", 404.0),  # a ward of province 79
    ("NSO/core", "GDP_CURRENT", "VN", "2026-Q3", 505.0),  # public, MACRO
    ("MOF/core", "ENT_DISSOLVED", "VN", "2026-09", 606.0),  # public, ENTERPRISES
]
OBSERVATION_CHANGED = "observation.changed"
# Streams connecting with Last-Event-ID after this many writes read those from the store, the rest live.
RESUME_AFTER = 3

# (reader, query): the values each of its streams must receive, in this order and nothing else.
READERS: dict[tuple[str, str], list[float]] = {
    ("", ""): [101.0, 404.0, 505.0, 606.0],  # anonymous: public only
    ("", "?indicator=GDP_CURRENT"): [505.0],
    ("MOF/registry", ""): [101.0, 404.0, 606.0],  # its granted group only, though others are public
    ("MOF/registry", "?area=79"): [101.0],
    ("SBV/analyst", ""): [101.0, 202.0, 404.0, 606.0],  # internal clearance: M2 too
    ("MOF/public-feed", ""): [101.0, 404.0, 606.0],  # granted MONEY_BANKING but cleared for public only
    ("NSO/cabinet", ""): [303.0, 505.0],  # confidential clearance
    ("NSO/staff", "?area=VN"): [505.0],  # internal clearance: not GDP_FLASH
}


@dataclass
class Stream:
    reader: tuple[str, str]
    resumed: bool
    ids: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


# Member systems: (agency, system, clearance, [(group, write)]).
MEMBERS = [
    ("PC-79", "ioc", "internal", [("ENTERPRISES", True)]),
    ("SBV", "core", "internal", [("MONEY_BANKING", True)]),
    ("NSO", "core", "confidential", [("MACRO", True)]),
    ("MOF", "core", "internal", [("ENTERPRISES", True)]),
    ("MOF", "registry", "internal", [("ENTERPRISES", False)]),
    ("SBV", "analyst", "internal", [("MONEY_BANKING", False), ("ENTERPRISES", False)]),
    ("MOF", "public-feed", "public", [("MONEY_BANKING", False), ("ENTERPRISES", False)]),
    ("NSO", "cabinet", "confidential", [("MACRO", False)]),
    ("NSO", "staff", "internal", [("MACRO", False)]),
]


def _members(url: str) -> dict[str, str]:
    """Registers MEMBERS with their grants; each member's API key by its code."""
    engine = make_engine(url)
    keys = {}
    try:
        with transaction(engine) as session:
            for agency, system, clearance, grants in MEMBERS:
                member = exchange.create_member(
                    session=session, agency=agency, system=system, name=system, clearance=clearance
                )
                keys[member.code] = exchange.issue_key(session=session, member=member).key
                for group, write in grants:
                    exchange.grant(session=session, member=member, group=group, read=True, write=write)
    finally:
        engine.dispose()
    return keys


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, initialised_store: Path, tmp_path: Path) -> Govops:
    govops = Govops(tmp_path / "govops.db", tmp_path)
    if request.param == "sqlite":
        shutil.copy(initialised_store, govops.store)
        return govops
    url = os.environ.get("GOVOPS_TEST_DATABASE_URL")
    if not url:
        pytest.skip("GOVOPS_TEST_DATABASE_URL names no PostgreSQL server")
    # A database of its own (per parallel worker), emptied for the test: the served store is set up from scratch.
    name = f"{make_url(url).database}_stream_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    server = make_engine(make_url(url).set(database="postgres").render_as_string(hide_password=False))
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    govops.env["GOVOPS_DATABASE_URL"] = make_url(url).set(database=name).render_as_string(hide_password=False)
    result = govops("init")
    assert result.code == 0, result.err
    return govops


def test_many_streams_with_different_rights_each_get_exactly_what_they_may_read_in_order(store: Govops) -> None:
    keys = _members(store.env["GOVOPS_DATABASE_URL"])
    readers = {"": "", **keys}
    with serving(store) as base:
        streams = asyncio.run(_listen_while_writing(base, keys, readers))
        # What each reader pulls from /api/v1/changes under the same rights and filters is what it was pushed.
        for (reader, query), expected in READERS.items():
            headers = {"Authorization": f"Bearer {readers[reader]}"} if reader else {}
            pulled = httpx.get(f"{base}/api/v1/changes{query}", headers=headers, timeout=10)
            assert pulled.status_code == 200, pulled.text
            items = pulled.json()["items"]
            assert [item["value"] for item in items if item["type"] == OBSERVATION_CHANGED] == expected, (reader, query)
    assert len(streams) == 2 * STREAMS_PER_READER * len(READERS)
    for stream in streams:
        assert stream.values == READERS[stream.reader], (stream.reader, stream.resumed)
        assert stream.ids == sorted(set(stream.ids)), "ids in order, none twice"
    # Every stream of one reader saw the very same events.
    by_reader: dict[tuple[str, str], set[tuple[int, ...]]] = {}
    for stream in streams:
        by_reader.setdefault(stream.reader, set()).add(tuple(stream.ids))
    assert all(len(seen) == 1 for seen in by_reader.values())


async def _listen_while_writing(base: str, writers: dict[str, str], readers: dict[str, str]) -> list[Stream]:
    streams: list[Stream] = []
    limits = httpx.Limits(max_connections=500, max_keepalive_connections=500)
    async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10, read=60), limits=limits) as client:

        async def listen(
            stream: Stream, connected: asyncio.Event, complete: asyncio.Event, last_event_id: int | None
        ) -> None:
            reader, query = stream.reader
            headers = {"Authorization": f"Bearer {readers[reader]}"} if reader else {}
            if last_event_id is not None:
                headers["Last-Event-ID"] = str(last_event_id)
            expected = READERS[stream.reader]
            async with client.stream("GET", f"/api/v1/events{query}", headers=headers) as response:
                assert response.status_code == 200
                event_id = None
                async for line in response.aiter_lines():
                    if line.startswith(": connected"):
                        connected.set()
                    elif line.startswith("id: "):
                        event_id = int(line[4:])
                    elif line.startswith("data: ") and event_id is not None:
                        item = json.loads(line[6:])
                        if item["type"] != OBSERVATION_CHANGED:
                            continue  # the catalogue's own events (tested in tests/events) pass by too
                        stream.ids.append(event_id)
                        stream.values.append(item["value"])
                        if len(stream.values) >= len(expected):
                            complete.set()  # and go on reading: one more would be one too many

        tasks: list[asyncio.Task[None]] = []
        completes: list[asyncio.Event] = []

        async def open_streams(resumed: bool, last_event_id: int | None) -> None:
            waits = []
            for reader in READERS:
                for _ in range(STREAMS_PER_READER):
                    stream, connected, complete = Stream(reader, resumed), asyncio.Event(), asyncio.Event()
                    streams.append(stream)
                    completes.append(complete)
                    waits.append(connected.wait())
                    tasks.append(asyncio.create_task(listen(stream, connected, complete, last_event_id)))
            await asyncio.wait_for(asyncio.gather(*waits), 60)

        async def submit(writer: str, indicator: str, area: str, period: str, value: float) -> None:
            response = await client.post(
                "/api/v1/submissions",
                content=f"indicator,area,period,value\n{indicator},{area},{period},{value}\n".encode(),
                headers={
                    "Authorization": f"Bearer {writers[writer]}",
                    "Idempotency-Key": uuid.uuid4().hex,
                    "Content-Type": "text/csv",
                },
            )
            assert response.status_code == 201, response.text
            assert response.json()["status"] == "accepted", response.text

        await open_streams(resumed=False, last_event_id=None)
        for write in WRITES[:RESUME_AFTER]:
            await submit(*write)
        # Joining late: from the start of the feed (id 0), the first writes come from the store.
        await open_streams(resumed=True, last_event_id=0)
        for write in WRITES[RESUME_AFTER:]:
            await submit(*write)
        await asyncio.wait_for(asyncio.gather(*(complete.wait() for complete in completes)), 60)
        # The hub hands each event to every stream before the next one: once all have their last value, a stray
        # event (one a reader may not see, after its last) would already be on its way; give it a moment to land.
        await asyncio.sleep(0.5)
        for task in tasks:
            assert not task.done() or task.exception() is None
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return streams


def test_an_idle_stream_gets_keepalives_from_the_hub(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """No event for a while: the stream still sends a comment line now and then, so proxies keep it open."""
    monkeypatch.setattr(streams, "KEEPALIVE_SECONDS", 0.2)

    async def first_lines() -> list[bytes]:
        hub = streams.ChangeHub(engine)
        lines = streams.stream(hub, Interest(classifications=frozenset({"public"})), None)
        try:
            return [await asyncio.wait_for(anext(lines), 10) for _ in range(3)]
        finally:
            await lines.aclose()
            await hub.stop()

    first, *then = asyncio.run(first_lines())
    assert first.startswith(b"retry: 2000\n: connected")
    assert then == [b": keepalive\n\n", b": keepalive\n\n"]
