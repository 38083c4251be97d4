"""Webhooks to a real HTTP receiver: signed, in order, retried, dead-lettered, replayed, never lost."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from govops.catalog.service import export_catalogue, import_catalogue, load_reference
from govops.db.engine import make_engine, transaction
from govops.db.migrate import upgrade
from govops.exchange import service, webhooks
from govops.exchange.models import Member, WebhookDelivery
from govops.exchange.worker import Worker
from tests.warehouse.conftest import obs, put

FAST = webhooks.RetryPolicy(first_wait=0, longest_wait=0, attempts=3)


@dataclass
class Receiver:
    """A member's endpoint: answers with the next planned status (then 200), and keeps what it got."""

    plan: list[int] = field(default_factory=list)
    delay: float = 0.0
    delays: dict[str, float] = field(default_factory=dict)  # by path, instead of `delay`
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)  # of the requests in `got`
    url: str = ""

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.got]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(state.delays.get(self.path, state.delay))
            state.got.append((dict(self.headers), body))
            state.paths.append(self.path)
            self.send_response(state.plan.pop(0) if state.plan else 200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    made: list[Worker] = []
    yield made
    for worker in made:
        worker.close()


def _worker(workers: list[Worker], store: Engine, **options: Any) -> Worker:
    worker = Worker(store, policy=FAST, **options)
    workers.append(worker)
    return worker


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("webhooks") / "store.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with transaction(engine) as session:
        load_reference(session=session)
    engine.dispose()
    return path


@pytest.fixture
def store(template: Path, tmp_path: Path) -> Iterator[Engine]:
    shutil.copy(template, tmp_path / "store.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    yield engine
    engine.dispose()


def _subscribe(
    store: Engine, receiver: Receiver, clearance: str = "internal", path: str = "/hook", **filters: list[str]
) -> str:
    with transaction(store) as session:
        member = service.create_member(session=session, agency="MOF", system="registry", name="", clearance=clearance)
        service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=False)
        service.grant(session=session, member=member, group="PUBLIC_FINANCE", read=True, write=False)
        url = receiver.url.replace("/hook", path)
        return webhooks.subscribe(session=session, member=member, url=url, **filters).secret


def _write(store: Engine, *rows: tuple[str, str, str, float]) -> None:
    with transaction(store) as session:
        put(session, [obs(*row) for row in rows])


def _deliveries(store: Engine) -> list[tuple[str, int]]:
    with Session(store) as session:
        return [(d.status, d.attempts) for d in session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))]


def test_changes_arrive_signed_in_order_and_only_what_the_member_may_read(
    store: Engine, receiver: Receiver, workers: list[Worker]
) -> None:
    secret = _subscribe(store, receiver)
    _write(
        store, ("ENT_NEW", "79", "2026-09", 1), ("ENT_NEW", "01", "2026-09", 2), ("TREASURY_CASH", "VN", "2026-09", 3)
    )
    _write(store, ("ENT_NEW", "79", "2026-09", 4))
    worker = _worker(workers, store)
    assert worker.run_once() == 1
    headers, body = receiver.got[0]
    stamp, digest = dict(part.split("=") for part in headers["Govops-Signature"].split(","))["t"], None
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert headers["Govops-Signature"] == f"t={stamp},v1={digest}" and abs(time.time() - int(stamp)) < 60
    events = json.loads(body)["events"]
    # The confidential TREASURY_CASH is beyond an internal clearance; the rest come in the order written.
    assert [(e["indicator"], e["area"], e["value"]) for e in events] == [
        ("ENT_NEW", "79", 1.0), ("ENT_NEW", "01", 2.0), ("ENT_NEW", "79", 4.0)
    ]  # fmt: skip
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert _deliveries(store) == [("delivered", 1)]
    assert worker.run_once() == 0


def _rename(store: Engine, *codes: str) -> None:
    """A catalogue import that gives some indicators a new English name (each an `indicator.updated` event)."""
    with transaction(store) as session:
        doc = export_catalogue(session=session)
        indicators = [
            i.model_copy(update={"name_en": f"{i.name_en}."}) if i.code in codes else i for i in doc.indicators
        ]
        import_catalogue(session=session, doc=doc.model_copy(update={"indicators": indicators}))


def test_a_catalogue_change_reaches_the_members_that_may_read_the_indicator(
    store: Engine, receiver: Receiver, workers: list[Worker]
) -> None:
    _subscribe(store, receiver, topics=["catalog"])
    # ENT_NEW is granted; TREASURY_CASH is granted but confidential, beyond an internal clearance; CPI not granted.
    _rename(store, "ENT_NEW", "TREASURY_CASH", "CPI")
    _write(store, ("ENT_NEW", "79", "2026-09", 1))  # an observation change: not a topic it asked for
    _worker(workers, store).run_once()
    events = [e for b in receiver.bodies() for e in b["events"]]
    assert [(e["topic"], e["type"], e["subject"], e["indicator"], e["changed"]) for e in events] == [
        ("catalog", "indicator.updated", "ENT_NEW", "ENT_NEW", ["name_en"])
    ]
    assert events[0]["name_en"].endswith(".") and "read_classification" not in events[0]


def test_filters_narrow_a_subscription(store: Engine, receiver: Receiver, workers: list[Worker]) -> None:
    _subscribe(store, receiver, areas=["01"])
    _write(store, ("ENT_NEW", "79", "2026-09", 1), ("ENT_NEW", "01", "2026-09", 2))
    _worker(workers, store).run_once()
    assert [e["area"] for b in receiver.bodies() for e in b["events"]] == ["01"]


def test_failures_are_retried_and_later_batches_wait_their_turn(
    store: Engine, receiver: Receiver, workers: list[Worker]
) -> None:
    _subscribe(store, receiver)
    receiver.plan = [500, 503]
    _write(store, ("ENT_NEW", "79", "2026-09", 1))
    worker = _worker(workers, store)
    worker.run_once()
    _write(store, ("ENT_NEW", "79", "2026-10", 2))
    worker.run_once()
    worker.run_once()
    worker.run_once()
    # The same first delivery three times (two failures, then 200), and only then the second.
    assert [b["delivery"] for b in receiver.bodies()] == [1, 1, 1, 2]
    assert _deliveries(store) == [("delivered", 3), ("delivered", 1)]


def _write_deliveries(store: Engine, count: int) -> None:
    """`count` deliveries for each subscription: each write fanned out on its own."""
    for month in range(1, count + 1):
        _write(store, ("ENT_NEW", "79", f"2026-{month:02d}", month))
        with transaction(store) as session:
            webhooks.fan_out(session=session)


def test_a_failure_inside_a_run_stops_it_and_the_rest_wait_their_turn(
    store: Engine, receiver: Receiver, workers: list[Worker]
) -> None:
    _subscribe(store, receiver)
    _write_deliveries(store, 4)
    receiver.plan = [200, 500]
    # One lease takes the subscription's four deliveries; the second fails, so the third and fourth are not sent
    # behind its back: the next lease starts again from the second.
    assert _worker(workers, store).run_once() == 5
    assert [b["delivery"] for b in receiver.bodies()] == [1, 2, 2, 3, 4]
    # The deliveries left unsent count no attempt.
    assert _deliveries(store) == [("delivered", 1), ("delivered", 2), ("delivered", 1), ("delivered", 1)]


def test_a_slow_receiver_holds_up_only_its_own_subscription(
    store: Engine, receiver: Receiver, workers: list[Worker]
) -> None:
    _subscribe(store, receiver, path="/slow")
    with transaction(store) as session:
        member = session.scalars(select(Member)).one()
        webhooks.subscribe(session=session, member=member, url=receiver.url.replace("/hook", "/fast"))
    _write_deliveries(store, 3)
    receiver.delays = {"/slow": 1.0}
    worker = _worker(workers, store, run=2)
    thread = threading.Thread(target=worker.run_once)
    thread.start()
    deadline = time.monotonic() + 20
    while receiver.paths.count("/fast") < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    # Every delivery of the fast subscription is in while the slow one has not yet answered its first.
    assert (receiver.paths.count("/fast"), receiver.paths.count("/slow")) == (3, 0)
    thread.join(20)
    by_path: dict[str, list[int]] = {}
    for path, body in zip(receiver.paths, receiver.bodies(), strict=True):
        by_path.setdefault(path, []).append(body["delivery"])
    assert by_path == {"/fast": [2, 4, 6], "/slow": [1, 3, 5]}


def test_a_delivery_that_keeps_failing_goes_dead_and_is_replayed(
    store: Engine, receiver: Receiver, workers: list[Worker]
) -> None:
    _subscribe(store, receiver)
    receiver.plan = [500, 500, 500]
    _write(store, ("ENT_NEW", "79", "2026-09", 1))
    worker = _worker(workers, store)
    for _ in range(3):
        worker.run_once()
    assert _deliveries(store) == [("dead", 3)]
    with Session(store) as session:
        assert [d.last_status for d in webhooks.dead_letters(session=session)] == [500]
    _write(store, ("ENT_NEW", "79", "2026-10", 2))
    worker.run_once()
    with transaction(store) as session:
        webhooks.replay(session=session, delivery_id=1)
    worker.run_once()
    assert _deliveries(store) == [("delivered", 1), ("delivered", 1)]
    assert [b["delivery"] for b in receiver.bodies()][-2:] == [2, 1]


def test_a_worker_killed_mid_delivery_leaves_nothing_undelivered(
    store: Engine, receiver: Receiver, workers: list[Worker], tmp_path: Path
) -> None:
    _subscribe(store, receiver)
    _write(store, ("ENT_NEW", "79", "2026-09", 1))
    receiver.delay = 3.0  # the receiver takes its time: the worker is killed while waiting for it
    env = {"GOVOPS_DATABASE_URL": str(store.url), "GOVOPS_WEBHOOK_TIMEOUT": "2", "PATH": "/usr/bin:/bin"}
    worker = subprocess.Popen([sys.executable, "-m", "govops", "worker"], cwd=tmp_path, env=env)
    deadline = time.monotonic() + 20
    while not _leased(store) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _leased(store), "the worker never took the delivery"
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    receiver.delay = 0.0
    # The lease (timeout + margin) runs out; a new worker sends it again.
    again = _worker(workers, store, timeout=2)
    deadline = time.monotonic() + 20
    while _deliveries(store)[0][0] != "delivered" and time.monotonic() < deadline:
        again.run_once()
        time.sleep(0.2)
    assert _deliveries(store)[0][0] == "delivered"
    ids = {e["id"] for b in receiver.bodies() for e in b["events"]}
    assert len(ids) == 1  # at least once, the same event (the receiver de-duplicates by id)


def _leased(store: Engine) -> bool:
    with Session(store) as session:
        return session.scalar(select(WebhookDelivery.locked_by).limit(1)) is not None
