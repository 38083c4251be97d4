"""Webhook throughput: deliveries per second to a local receiver with 1 and with 4 `govops worker` processes.

    .venv/bin/python bench/webhooks.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/bench_hooks]
                                       [--subscriptions 20] [--events 20000]

The store is created fresh (the schema `public` of the given database is dropped first). One member
reads ENTERPRISES through --subscriptions webhooks; --events changes to ENT_NEW give each of them
events/100 deliveries of 100 events. The receiver, a process of its own, answers 200 at once. The
baseline, in the same run, is the same number of signed POSTs of the same bodies sent straight to it
by as many sender processes as there are workers (4 threads each, plain kept-alive connections): how
fast the receiver takes them alone, with no store.
Every delivery must arrive exactly once (the receiver counts them by delivery id); rates run from the
first delivery received to the last. How busy the whole machine was meanwhile (all cores, /proc/stat) is
printed beside each rate: where one worker already keeps every core busy, more workers cannot go faster.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing
import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

import httpx2 as httpx
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from govops.catalog.service import load_reference
from govops.db.engine import make_engine, transaction
from govops.db.migrate import upgrade
from govops.exchange import service, webhooks
from govops.exchange.models import WebhookDelivery
from govops.warehouse.accept import ingest

# The receiver runs in a process of its own (asyncio, a bare HTTP/1.1 reader), so that neither the workers
# nor the baseline's senders share its interpreter: it counts each delivery by id and times the first and
# the last one it got, and answers 200 at once.
DELIVERY = re.compile(rb'"delivery":\s*(\d+)')


def _receive(port: int, ready: Any) -> None:
    seen: dict[int, int] = {}
    times: list[float] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length) if length else b""
                answer = b""
                if head.startswith(b"GET /stats"):
                    doubled = sum(1 for n in seen.values() if n > 1)
                    span = times[-1] - times[0] if len(times) > 1 else 0.0
                    answer = json.dumps({"delivered": len(seen), "doubled": doubled, "posts": len(times),
                                         "seconds": span}).encode()  # fmt: skip
                elif head.startswith(b"GET /reset"):
                    seen.clear()
                    times.clear()
                else:
                    found = DELIVERY.search(body[:80])
                    delivery = int(found.group(1)) if found else 0
                    seen[delivery] = seen.get(delivery, 0) + 1
                    times.append(time.perf_counter())
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer))
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def run() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", port, backlog=512)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(run())


def _stats(hook: str) -> dict[str, Any]:
    stats: dict[str, Any] = httpx.get(hook.replace("/hook", "/stats")).json()
    return stats


class _Busy:
    """The machine's busy and total CPU time so far (Linux /proc/stat), to tell how much room workers had."""

    def __init__(self) -> None:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
        idle = fields[3] + fields[4]  # idle, iowait
        self.total, self.busy = sum(fields[:8]), sum(fields[:8]) - idle

    def __sub__(self, earlier: _Busy) -> float:
        return (self.busy - earlier.busy) / max(1, self.total - earlier.total)


def _rate(stats: dict[str, Any]) -> float:
    """Posts per second from the first to the last one received (start-up of the senders left out)."""
    return (stats["posts"] - 1) / stats["seconds"] if stats["seconds"] else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_hooks")
    parser.add_argument("--subscriptions", type=int, default=20)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    port = _free_port()
    ready = multiprocessing.get_context("spawn").Event()
    receiver = multiprocessing.get_context("spawn").Process(target=_receive, args=(port, ready), daemon=True)
    receiver.start()
    ready.wait(30)
    hook = f"http://127.0.0.1:{port}/hook"
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
    results: dict[int, float] = {}
    for workers in (1, 4):
        rate = _baseline(hook, bodies, workers)
        print(f"  receiver alone, {workers} sender process(es) of 4 threads: {rate:,.0f} posts/s")
        with engine.begin() as conn:
            conn.execute(
                update(WebhookDelivery).values(status="pending", attempts=0, locked_by=None, locked_until=None)
            )
        httpx.get(hook.replace("/hook", "/reset"))
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "govops", "worker", "--every", "0.1"],
                env={**os.environ, "GOVOPS_DATABASE_URL": args.url, "GOVOPS_LOG_LEVEL": "warning"},
                stdout=subprocess.DEVNULL,
            )
            for _ in range(workers)
        ]
        try:
            while not _stats(hook)["posts"]:
                time.sleep(0.01)
            busy_from = _Busy()
            # The workers' own CPU time from their first delivery to their last (they share two cores with the store
            # and the receiver here): a figure that a busy machine does not blur as much as the rate, and that leaves
            # their start-up (imports, connections) out.
            cpu_from = sum(_cpu_seconds(proc.pid) for proc in procs)
            while _pending(engine):
                time.sleep(0.05)
            cpu = sum(_cpu_seconds(proc.pid) for proc in procs) - cpu_from
            busy = _Busy() - busy_from
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait()
        stats = _stats(hook)
        got = _rate(stats)
        print(
            f"  govops, {workers} worker process(es): {got:,.0f} deliveries/s ({got / rate:.0%} of the receiver "
            f"alone); delivered {stats['delivered']:,} of {total:,}, twice {stats['doubled']}; "
            f"worker CPU {cpu / total * 1000:.2f} ms per delivery (start-up left out); the whole machine was "
            f"{busy:.0%} busy (of {os.cpu_count()} cores) while they delivered"
        )
        results[workers] = got
    receiver.terminate()
    print(f"  4 workers / 1 worker: {results[4] / results[1]:.2f}x")


def _send(hook: str, bodies: list[bytes], threads: int, start: Any) -> None:
    """One sender process: `threads` threads, each posting its share of `bodies` over one kept-alive connection.

    All senders wait at `start` until every one is up, so the rate does not count their start-up.
    """
    parsed = urlparse(hook)
    start.wait()
    secret = "0" * 64

    def send(chunk: list[bytes]) -> None:
        connection = http.client.HTTPConnection(parsed.netloc)
        for body in chunk:
            headers = {"Content-Type": "application/json", "Govops-Signature": webhooks.signature(secret, body, 0)}
            connection.request("POST", parsed.path, body=body, headers=headers)
            connection.getresponse().read()
        connection.close()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(send, [bodies[i::threads] for i in range(threads)]))


def _baseline(hook: str, bodies: list[tuple[int, str]], processes: int) -> float:
    """The same signed bodies posted straight to the receiver by `processes` processes of 4 threads each.

    Plain kept-alive connections, several processes: the senders are not what limits the rate, so the
    figure is how fast the receiver takes posts on this machine right now, with no store.
    """
    httpx.get(hook.replace("/hook", "/reset"))
    # Bodies framed beforehand as the worker frames them: the senders only sign and post.
    framed = [f'{{"delivery":{i},"subscription":0,"events":{payload}}}'.encode() for i, payload in bodies]
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(processes + 1)
    senders = [context.Process(target=_send, args=(hook, framed[i::processes], 4, start)) for i in range(processes)]
    for sender in senders:
        sender.start()
    start.wait()
    for sender in senders:
        sender.join()
    return _rate(_stats(hook))


def _cpu_seconds(pid: int) -> float:
    """A process's user and system CPU time so far (Linux /proc/PID/stat, its 14th and 15th fields)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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
