"""Webhook throughput: deliveries per second to a local receiver with 1 and with 4 `govops worker` processes.

    .venv/bin/python bench/webhooks.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/bench_hooks]
                                       [--subscriptions 20] [--events 20000]

The store is created fresh (the schema `public` of the given database is dropped first). One member
reads ENTERPRISES through --subscriptions webhooks; --events changes to ENT_NEW give each of them
events/100 deliveries of 100 events. The receiver answers 200 at once. The baseline, in the same
run, is the same number of signed POSTs of the same bodies sent straight from one process by as many
threads as workers: the HTTP work alone, with no store. Every delivery must arrive exactly once
(the receiver counts them by delivery id).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2 as httpx
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from govops.catalog.service import load_reference
from govops.db.engine import make_engine, transaction
from govops.db.migrate import upgrade
from govops.exchange import service, webhooks
from govops.exchange.models import WebhookDelivery
from govops.warehouse.accept import ingest

seen: dict[int, int] = {}
lock = threading.Lock()
# When the first delivery of a run arrived: the clock starts there, not at the workers' start-up (imports, pool).
first_at: list[float] = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        delivery = json.loads(body).get("delivery", 0)
        with lock:
            if not first_at:
                first_at.append(time.perf_counter())
            seen[delivery] = seen.get(delivery, 0) + 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_hooks")
    parser.add_argument("--subscriptions", type=int, default=20)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    engine = make_engine(args.url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    with transaction(engine) as session:
        load_reference(session=session)
        member = service.create_member(session=session, agency="MOF", system="registry", name="")
        service.grant(session=session, member=member, group="ENTERPRISES", read=True, write=False)
        for _ in range(args.subscriptions):
            webhooks.subscribe(session=session, member=member, url=hook)
    wards = _wards(engine)
    # Wards exist from July 2025: month k after it, for each of the 3,321 wards in turn.
    rows = [
        (i, {"indicator": "ENT_NEW", "area": wards[i % len(wards)],
             "period": f"{2025 + (6 + i // len(wards)) // 12}-{(6 + i // len(wards)) % 12 + 1:02d}", "value": float(i)})
        for i in range(args.events)
    ]  # fmt: skip
    with transaction(engine) as session:
        ingest(session=session, rows=rows, recorded_by="bench")
    with transaction(engine) as session:
        webhooks.fan_out(session=session)
    with Session(engine) as session:
        total = session.scalar(select(func.count()).select_from(WebhookDelivery)) or 0
        bodies = [(d.id, d.payload) for d in session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))]
    print(
        f"{args.subscriptions} subscriptions, {args.events:,} events -> {total:,} deliveries on {engine.dialect.name}"
    )
    for workers in (1, 4):
        rate = _baseline(hook, bodies, workers)
        print(f"  baseline, {workers} sender thread(s): {rate:,.0f} posts/s")
        seen.clear()
        with engine.begin() as conn:
            conn.execute(
                update(WebhookDelivery).values(status="pending", attempts=0, locked_by=None, locked_until=None)
            )
        seen.clear()
        first_at.clear()
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "govops", "worker", "--every", "0.1"],
                env={**os.environ, "GOVOPS_DATABASE_URL": args.url, "GOVOPS_LOG_LEVEL": "warning"},
                stdout=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        try:
            while _pending(engine):
                time.sleep(0.05)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait()
        elapsed = time.perf_counter() - first_at[0]
        doubled = sum(1 for n in seen.values() if n > 1)
        print(
            f"  govops, {workers} worker process(es): {total / elapsed:,.0f} deliveries/s "
            f"({rate / (total / elapsed):.1f}x the baseline's time); delivered {len(seen):,}, twice {doubled}"
        )


def _baseline(hook: str, bodies: list[tuple[int, str]], threads: int) -> float:
    seen.clear()
    secret = "0" * 64

    def send(chunk: list[tuple[int, str]]) -> None:
        with httpx.Client() as client:
            for delivery_id, payload in chunk:
                body = json.dumps({"delivery": delivery_id, "events": json.loads(payload)}).encode()
                client.post(hook, content=body, headers={"Govops-Signature": webhooks.signature(secret, body, 0)})

    chunks = [bodies[i::threads] for i in range(threads)]
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(send, chunks))
    return len(bodies) / (time.perf_counter() - started)


def _pending(engine: object) -> int:
    with Session(engine) as session:  # type: ignore[call-overload]
        return (
            session.scalar(
                select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status != "delivered")
            )
            or 0
        )


def _wards(engine: object) -> list[str]:
    from govops.catalog.models import Area

    with Session(engine) as session:  # type: ignore[call-overload]
        return list(session.scalars(select(Area.code).where(Area.level == "ward").order_by(Area.code)))


if __name__ == "__main__":
    main()
