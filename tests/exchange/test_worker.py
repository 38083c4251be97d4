"""Several `govops worker` processes sharing one PostgreSQL store: every delivery once, in order, despite failures."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from govops.catalog.service import load_reference
from govops.db import dialect
from govops.db.engine import make_engine, transaction
from govops.db.migrate import upgrade
from govops.events.models import DomainEvent
from govops.events.service import ReadRule, emit
from govops.exchange import service, webhooks
from govops.exchange.models import WebhookDelivery, WebhookSubscription
from govops.exchange.worker import PRESENCE, Worker
from govops.jobs.models import JobRun
from govops.jobs.registry import Job, JobContext
from govops.jobs.schedule import Every
from govops.settings import Settings
from tests.warehouse.conftest import obs, put

SUBSCRIPTIONS = 4
WRITES = 16


@pytest.fixture
def pg_store(database_url: str) -> Iterator[Engine]:
    """A database of its own: the workers commit, and the suite's store must stay as it was."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("several workers share work through PostgreSQL row locks; SQLite has a single writer")
    name = f"{url.database}_workers"
    server = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(url.set(database=name).render_as_string(hide_password=False))
    upgrade(engine)
    with transaction(engine) as session:
        load_reference(session=session)
    yield engine
    engine.dispose()
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


class FlakyReceiver:
    """Answers 500 to every third request and stalls past the worker's timeout on one; keeps every request."""

    def __init__(self) -> None:
        self.requests: list[tuple[int, int, list[int], str]] = []  # delivery, subscription, event ids, outcome
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver.lock:
                    n = len(receiver.requests)
                    outcome = "stalled" if n == 5 else "failed" if n % 3 == 2 else "ok"
                    receiver.requests.append(
                        (body["delivery"], body["subscription"], [e["id"] for e in body["events"]], outcome)
                    )
                if outcome == "stalled":
                    time.sleep(2.5)  # the worker gives up after 1 s: for it, this attempt failed
                self.send_response(500 if outcome == "failed" else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[FlakyReceiver]:
    made = FlakyReceiver()
    yield made
    made.close()


def _deliveries(store: Engine) -> int:
    with Session(store) as session:
        return session.scalar(select(func.count()).select_from(WebhookDelivery)) or 0


def _wait_for(condition: Callable[[], bool], *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the workers never started"
        time.sleep(0.1)


def _pending(store: Engine) -> int:
    """Deliveries not yet delivered, counting as one the events no delivery holds yet (not fanned out)."""
    with Session(store) as session:
        undelivered = session.scalar(select(func.count()).where(WebhookDelivery.status != "delivered")) or 0
        newest = session.scalar(select(func.max(DomainEvent.id))) or 0
        behind = session.scalar(select(func.count()).where(WebhookSubscription.cursor_event_id < newest)) or 0
        return undelivered + behind


def test_two_worker_processes_deliver_every_event_once_and_in_order_despite_failures(
    pg_store: Engine, receiver: FlakyReceiver, tmp_path: Path
) -> None:
    with transaction(pg_store) as session:
        member = service.create_member(session=session, agency="MOF", system="registry", name="", clearance="internal")
        service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=False)
        for _ in range(SUBSCRIPTIONS):
            webhooks.subscribe(session=session, member=member, url=receiver.url)
    env = {
        "GOVOPS_DATABASE_URL": str(pg_store.url.render_as_string(hide_password=False)),
        "GOVOPS_WEBHOOK_TIMEOUT": "1",
        "GOVOPS_WEBHOOK_FIRST_RETRY": "0.2",
        "PATH": "/usr/bin:/bin",
    }
    workers = [
        subprocess.Popen([sys.executable, "-m", "govops", "worker", "--every", "0.1"], cwd=tmp_path, env=env)
        for _ in range(2)
    ]
    try:
        for n in range(WRITES):
            with transaction(pg_store) as session:
                rows = [obs("ENT_NEW", "79", f"2026-{n % 12 + 1:02d}", n + 1), obs("ENT_NEW", "01", "2026-01", n)]
                put(session, rows)
            if n == 0:
                # The workers are up once they fan the first write out: the rest then spread over deliveries.
                _wait_for(lambda: _deliveries(pg_store) >= SUBSCRIPTIONS, seconds=60)
            time.sleep(0.1)
        deadline = time.monotonic() + 60
        while _pending(pg_store) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _pending(pg_store) == 0, "deliveries left undelivered"
        assert all(w.poll() is None for w in workers), "a worker died"
    finally:
        for w in workers:
            w.terminate()
            w.wait(10)
    with Session(pg_store) as session:
        # The observation changes written above (the reference catalogue's own events came before subscribing).
        written = select(DomainEvent.id).where(DomainEvent.type == "observation.changed")
        events = list(session.scalars(written.order_by(DomainEvent.id)))
        deliveries = session.execute(select(WebhookDelivery.id, WebhookDelivery.subscription_id)).all()
    assert len(events) >= WRITES and len(deliveries) > SUBSCRIPTIONS  # the writes spread over several deliveries
    acknowledged = [(d, s, ids) for d, s, ids, outcome in receiver.requests if outcome == "ok"]
    # No delivery was acknowledged twice, so no two workers sent the same one.
    assert sorted(d for d, _, _ in acknowledged) == sorted(d for d, _ in deliveries)
    assert any(outcome != "ok" for *_, outcome in receiver.requests)
    by_subscription: dict[int, list[int]] = {}
    for _, subscription, ids in acknowledged:
        by_subscription.setdefault(subscription, []).extend(ids)
    # Each subscription got every event exactly once, in the order written, whoever sent each batch.
    assert len(by_subscription) == SUBSCRIPTIONS
    assert all(ids == events for ids in by_subscription.values())


def test_two_workers_each_lease_their_share_of_the_subscriptions(pg_store: Engine, receiver: FlakyReceiver) -> None:
    """The first worker up no longer keeps every subscription: with two announced, each takes half."""
    with transaction(pg_store) as session:
        member = service.create_member(session=session, agency="MOF", system="registry", name="")
        service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=False)
        for _ in range(SUBSCRIPTIONS):
            webhooks.subscribe(session=session, member=member, url=receiver.url)
    with transaction(pg_store) as session:
        put(session, [obs("ENT_NEW", "79", "2026-01", 1.0)])
    with transaction(pg_store) as session:
        assert webhooks.fan_out(session=session) == SUBSCRIPTIONS

    # Each worker's connection stays open under its name for as long as the worker lives.
    with pg_store.connect() as first, pg_store.connect() as second:
        dialect.announce(first, PRESENCE + "first")
        first.commit()
        with Session(bind=first) as session:
            assert dialect.count_announced(session, PRESENCE) == 1
        dialect.announce(second, PRESENCE + "second")
        second.commit()
        taken: dict[str, list[int]] = {}
        for name, conn in (("first", first), ("second", second)):
            with Session(bind=conn) as session:
                workers = dialect.count_announced(session, PRESENCE)
                leases = webhooks.claim(
                    session=session, worker=name, lease=timedelta(seconds=30), limit=16, workers=workers
                )
                session.commit()
            taken[name] = [lease.delivery_id for lease in leases]
    assert workers == 2
    assert len(taken["first"]) == len(taken["second"]) == SUBSCRIPTIONS // 2
    assert not set(taken["first"]) & set(taken["second"])
    with Session(pg_store) as session:
        held = session.execute(select(WebhookDelivery.locked_by, func.count()).group_by(WebhookDelivery.locked_by))
        assert {name: count for name, count in held} == {"first": 2, "second": 2}
    # Workers gone (their connections closed) no longer count: one starting now is alone.
    pg_store.dispose()
    with pg_store.connect() as alone:
        dialect.announce(alone, PRESENCE + "third")
        alone.commit()
        with Session(bind=alone) as session:
            assert dialect.count_announced(session, PRESENCE) == 1


FOLLOWER = "t.follows-commits"


def test_work_that_follows_commits_starts_as_soon_as_another_connection_commits_events(engine: Engine) -> None:
    """A job marked `on_commit` runs when a commit with events wakes the worker (another pool's commit: on
    PostgreSQL it arrives through LISTEN/NOTIFY), not at its next due time, and such runs are not recorded."""
    runs: list[float] = []
    ran = threading.Event()

    def follow(context: JobContext) -> str:
        runs.append(time.monotonic())
        ran.set()
        return "followed"

    job = Job(name=FOLLOWER, schedule=Every(60), run=follow, summary="t", on_commit=True)
    settings = Settings(database_url=str(engine.url), jobs_poll_seconds=60, audit_checkpoint_minutes=0)
    other = make_engine(engine.url.render_as_string(hide_password=False))
    worker = Worker.configured(engine, settings, every=30, jobs=[job])
    worker.start()
    try:
        assert ran.wait(10)  # at start: its schedule's latest due time, and a first look
        time.sleep(1.5)
        ran.clear()
        before = len(runs)
        committed = time.monotonic()
        with transaction(other) as session:
            emit(session=session, topic="t-follow", type="t.changed", subject="x", payload={}, rule=ReadRule("public"))
        assert ran.wait(5), "the commit did not wake the work that follows commits"
        assert len(runs) == before + 1 and runs[-1] - committed < 5
        with Session(engine) as session:
            recorded = session.scalars(select(JobRun.due_at).where(JobRun.job == FOLLOWER)).all()
        assert len(recorded) <= 1  # the schedule's own run at start, if any; never the woken ones
    finally:
        worker.stop()
        other.dispose()
        with engine.begin() as conn:
            conn.execute(DomainEvent.__table__.delete().where(DomainEvent.topic == "t-follow"))
            conn.execute(JobRun.__table__.delete().where(JobRun.job == FOLLOWER))
