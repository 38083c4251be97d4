"""Reads under load: a read never writes (contacts are stamped later, out of band), and a burst of event
streams starting at once waits for its turn instead of failing for want of a pooled connection.

These tests need committed members, keys and sessions (the server's own connections must see them), so
they make their own and delete them afterwards.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, event, select, update
from sqlalchemy.orm import Session

from govops.app import create_app
from govops.auth.models import User, UserSession
from govops.auth.service import create_user, start_session
from govops.db.base import utcnow
from govops.db.engine import make_engine, transaction
from govops.exchange.models import ApiKey, Member
from govops.exchange.service import create_member, issue_key
from govops.settings import Settings
from govops.web.signin import SESSION_COOKIE
from tests.cli.conftest import free_port


@dataclass
class Callers:
    member_ids: list[int]
    keys: list[str]
    user_session_id: int
    cookie: str
    long_ago: datetime


@pytest.fixture
def callers(engine: Engine, request: pytest.FixtureRequest) -> Iterator[Callers]:
    """Member systems with a key each and a signed-in viewer, committed, last seen an hour ago."""
    count = getattr(request, "param", 1)
    suffix = uuid.uuid4().hex[:8]
    long_ago = utcnow() - timedelta(hours=1)
    with transaction(engine) as session:
        members, keys = [], []
        for n in range(count):
            member = create_member(
                session=session, agency="MOF", system=f"t-{suffix}-{n}", name="load test", clearance="public"
            )
            keys.append(issue_key(session=session, member=member).key)
            member.last_contact_at = long_ago
            members.append(member)
        user = create_user(
            session=session, username=f"t.{suffix}", password="correct horse battery", full_name="T", agency="GO",
            role="viewer",
        )  # fmt: skip
        cookie, user_session = start_session(session=session, user=user, now=long_ago + timedelta(minutes=1))
        session.flush()
        found = Callers([m.id for m in members], keys, user_session.id, cookie, long_ago)
    try:
        yield found
    finally:
        with transaction(engine) as session:
            session.execute(delete(UserSession).where(UserSession.id == found.user_session_id))
            session.execute(delete(User).where(User.username == f"t.{suffix}"))
            session.execute(delete(ApiKey).where(ApiKey.member_id.in_(found.member_ids)))
            session.execute(delete(Member).where(Member.id.in_(found.member_ids)))


def _app(engine: Engine, tmp_path: Path, **settings: float) -> FastAPI:
    return create_app(
        Settings(
            database_url=str(engine.url),
            signing_key_file=tmp_path / "signing-key.pem",
            page_warmer=False,
            worker=False,
            **settings,  # type: ignore[arg-type]
        ),
        engine=engine,
    )


class Holder:
    """Another writer in the middle of a long transaction, holding the rows (and on SQLite the store)."""

    def __init__(self, engine: Engine, callers: Callers) -> None:
        self.engine, self.callers = engine, callers

    def __enter__(self) -> Holder:
        self._session = Session(self.engine.execution_options(govops_writer=True))
        self._session.execute(update(Member).where(Member.id.in_(self.callers.member_ids)).values(name=Member.name))
        self._session.execute(
            update(UserSession).where(UserSession.id == self.callers.user_session_id).values(ip=UserSession.ip)
        )
        return self

    def __exit__(self, *_: object) -> None:
        self._session.rollback()
        self._session.close()


def test_reads_answer_at_once_while_another_writer_holds_the_store(
    engine: Engine, callers: Callers, tmp_path: Path
) -> None:
    app = _app(engine, tmp_path, contact_flush_seconds=3600)
    with TestClient(app) as client:
        stamps = app.state.contact_stamps
        with Holder(engine, callers):
            started = time.monotonic()
            by_key = client.get(
                "/api/v1/observations", params={"limit": 1}, headers={"Authorization": f"Bearer {callers.keys[0]}"}
            )
            assert by_key.status_code == 200, by_key.text
            client.cookies.set(SESSION_COOKIE, callers.cookie)
            page = client.get("/provinces")
            assert page.status_code == 200 and 'href="/provinces/79"' in page.text
            by_user = client.get("/api/v1/indicators", params={"limit": 5})
            assert by_user.status_code == 200
            client.cookies.clear()
            # The old way waited for the write lock (up to 30 s on SQLite, for ever on PostgreSQL).
            assert time.monotonic() - started < 10
            # The contact stamps cannot write either; they give up at once and keep what they noted.
            assert stamps.flush() == 0 and stamps.pending() == 2
        assert stamps.flush() == 2 and stamps.pending() == 0
    with Session(engine) as session:
        member = session.get(Member, callers.member_ids[0])
        key = session.scalar(select(ApiKey).where(ApiKey.member_id == callers.member_ids[0]))
        user_session = session.get(UserSession, callers.user_session_id)
        assert member is not None and key is not None and user_session is not None
        assert member.last_contact_at is not None and member.last_contact_at > callers.long_ago + timedelta(minutes=59)
        assert key.last_used_at is not None and key.last_used_at > callers.long_ago + timedelta(minutes=59)
        assert user_session.last_seen_at > callers.long_ago + timedelta(minutes=59)


def test_the_server_stamps_contacts_by_itself(engine: Engine, callers: Callers, tmp_path: Path) -> None:
    app = _app(engine, tmp_path, contact_flush_seconds=0.05)
    with TestClient(app) as client:
        headers = {"Authorization": f"Bearer {callers.keys[0]}"}
        assert client.get("/api/v1/changes", params={"limit": 1}, headers=headers).status_code == 200
        deadline = time.monotonic() + 10
        while app.state.contact_stamps.pending() and time.monotonic() < deadline:
            time.sleep(0.05)  # the flusher's next turn
    with Session(engine) as session:
        member = session.get(Member, callers.member_ids[0])
        assert member is not None and member.last_contact_at is not None
        assert member.last_contact_at > callers.long_ago + timedelta(minutes=59)


STREAMS = 200


@pytest.mark.parametrize("callers", [10], indirect=True)
def test_a_burst_of_streams_all_start_on_a_small_pool(engine: Engine, callers: Callers, tmp_path: Path) -> None:
    """200 event streams opened at once, on a pool of 4 connections that gives up after half a second."""
    small = make_engine(engine.url.render_as_string(hide_password=False), pool_size=4, max_overflow=0, pool_timeout=0.5)
    key_lookups = []

    @event.listens_for(small, "before_cursor_execute")
    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "FROM exchange_api_key" in statement:
            key_lookups.append(1)

    app = _app(small, tmp_path)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", backlog=STREAMS * 2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    all_in = threading.Barrier(STREAMS)

    def open_stream(n: int) -> tuple[int, str]:
        headers = {"Authorization": f"Bearer {callers.keys[n % len(callers.keys)]}"} if n % 5 else {}
        all_in.wait(timeout=60)
        with http.stream("GET", "/api/v1/events", headers=headers) as response:
            if response.status_code != 200:
                return response.status_code, response.read().decode()
            for line in response.iter_lines():
                if line.startswith(": connected"):
                    # Held open until every stream has started, so that they are all alive at once.
                    all_in.wait(timeout=60)
                    return 200, line
            return 200, "ended without the first event"

    try:
        for _ in range(200):
            if server.started:
                break
            thread.join(0.05)
        assert server.started
        limits = httpx.Limits(max_connections=STREAMS, max_keepalive_connections=0)
        with (
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=httpx.Timeout(30), limits=limits) as http,
            ThreadPoolExecutor(max_workers=STREAMS) as pool,
        ):
            answers = list(pool.map(open_stream, range(STREAMS)))
        assert [code for code, _ in answers] == [200] * STREAMS, [a for a in answers if a[0] != 200][:3]
        assert all(text.startswith(": connected; events after") for _, text in answers)
        # 160 of them came with a key (8 different ones): each key was looked up once for the whole burst.
        used = {n % len(callers.keys) for n in range(STREAMS) if n % 5}
        assert len(used) == 8 and len(key_lookups) == len(used)
    finally:
        server.should_exit = True
        thread.join(15)
        small.dispose()
