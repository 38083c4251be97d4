"""The unit of work: a route's writes are committed before its answer is sent, or not at all; a reading
session never writes. Real app, real store, real commits (no test session in between)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, event, func, select, text

from govops.app import create_app
from govops.audit.models import AuditEntry
from govops.audit.service import record
from govops.settings import Settings
from govops.web.access import public_write
from govops.web.deps import SessionDep, WriteSessionDep

# Its foreign key is checked only at COMMIT: a row naming a missing parent makes the commit itself fail.
PROBE = """CREATE TABLE uow_probe (
    id INTEGER PRIMARY KEY,
    parent INTEGER REFERENCES uow_probe (id) DEFERRABLE INITIALLY DEFERRED
)"""


@pytest.fixture
def probe(engine: Engine) -> Iterator[None]:
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS uow_probe"))
        conn.execute(text(PROBE))
    yield
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE uow_probe"))
        # The other tests find the trail as they would without these (the tail of a chain is still a chain).
        conn.execute(delete(AuditEntry).where(AuditEntry.action == "probe.write"))


def stored(engine: Engine) -> tuple[list[int], int]:
    with engine.connect() as conn:
        ids = list(conn.execute(text("SELECT id FROM uow_probe ORDER BY id")).scalars())
        audit = conn.scalar(select(func.count()).select_from(AuditEntry.__table__))
    return ids, int(audit or 0)


@pytest.fixture
def client(engine: Engine, probe: None, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(
        Settings(
            database_url=str(engine.url),
            signing_key_file=tmp_path / "signing-key.pem",
            audit_checkpoint_file=tmp_path / "audit-checkpoints.jsonl",
            page_warmer=False,
            worker=False,
        ),
        engine=engine,
    )
    add_probe_routes(app)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def add_probe_routes(app: FastAPI) -> None:
    @app.post("/probe/{row_id}")
    @public_write
    def write(session: WriteSessionDep, row_id: int, parent: int, fail: bool = False) -> dict[str, Any]:
        session.execute(
            text("INSERT INTO uow_probe (id, parent) VALUES (:id, :parent)"), {"id": row_id, "parent": parent}
        )
        record(session=session, action="probe.write", actor_kind="system", actor="test", target=str(row_id))
        if fail:
            raise RuntimeError("the route fails after writing")
        return {"written": row_id}

    @app.get("/probe/read-then-write/{row_id}")
    def sneaky(session: SessionDep, row_id: int) -> dict[str, Any]:
        session.add(AuditEntry(id=row_id))
        session.flush()
        return {"written": row_id}


def test_a_route_that_returns_has_its_writes_committed(client: TestClient, engine: Engine) -> None:
    _, audit_before = stored(engine)
    answer = client.post("/probe/1", params={"parent": 1})
    assert answer.status_code == 200, answer.text
    assert stored(engine) == ([1], audit_before + 1)


def test_a_commit_that_fails_is_answered_with_an_error_and_nothing_is_stored(
    client: TestClient, engine: Engine
) -> None:
    _, audit_before = stored(engine)
    # The INSERT passes; only the COMMIT finds the missing parent. Were the commit made after the answer was
    # sent, the client would have been told 200 for data that is not there.
    answer = client.post("/probe/2", params={"parent": 999})
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["code"] == "conflict"
    assert stored(engine) == ([], audit_before)


def test_a_route_that_raises_after_writing_leaves_nothing_behind(client: TestClient, engine: Engine) -> None:
    _, audit_before = stored(engine)
    answer = client.post("/probe/3", params={"parent": 3, "fail": True})
    assert answer.status_code == 500
    assert stored(engine) == ([], audit_before)
    # The session went back to the pool clean: the next request writes normally.
    assert client.post("/probe/4", params={"parent": 4}).status_code == 200
    assert stored(engine) == ([4], audit_before + 1)


def test_a_reading_session_refuses_to_write(client: TestClient, engine: Engine) -> None:
    _, audit_before = stored(engine)
    answer = client.get("/probe/read-then-write/123456")
    assert answer.status_code == 500
    assert stored(engine) == ([], audit_before)


def test_the_read_routes_send_no_write_to_the_store(client: TestClient, engine: Engine) -> None:
    """Reading the API (catalogue, observations, changes, series, SDMX) issues not one INSERT, UPDATE or DELETE."""
    writes: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE", "COPY"}:
            writes.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        for path in (
            "/api/v1/indicators",
            "/api/v1/indicators/CPI",
            "/api/v1/observations?indicator=CPI",
            "/api/v1/changes",
            "/api/v1/series/CPI",
            "/api/v1/sdmx/dataflow",
            "/api/v1/sdmx/data/CPI",
            "/signin",
        ):
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert writes == []
