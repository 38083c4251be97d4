"""Event stream latency: from an accepted submission to 1,000 connected SSE subscribers.

    .venv/bin/python bench/stream.py [--subscribers 1000] [--submissions 20] [--runs 3] [--clients 4]
                                     [--keys 1] [--database-url postgresql+psycopg://...]

Runs a real `govops serve` (on a fresh SQLite store in a temporary folder, or on the PostgreSQL
database given, which it initialises) and beside it the bare Starlette fan-out of bench/bare_sse.py
(no store, no checks, no filtering). For each, --clients processes open --subscribers streams
between them (plain HTTP/1.1 on asyncio streams, so that no single client process is the bottleneck; govops's
streams are spread over --keys member systems' API keys, each with its own rights), then this
process sends --submissions one after another, each one ENT_NEW value: govops through POST
/api/v1/submissions (API key, Idempotency-Key, all checks, the write, roll-ups and the change
event committed), the baseline through POST /publish. The latency of one event at one subscriber
runs from the moment the server accepted the change (the event's own `recorded_at`, stamped by
govops as it writes and by the baseline as it publishes) to the moment that subscriber has read
the event; the POST's answer, which can come after the event, plays no part. That span holds
govops's whole accept path (parse, checks, rights, write, roll-ups, audit, commit) besides the
delivery; the fan-out time of one event at one subscriber, from the first subscriber's read of that
event to this one's, holds the delivery to many alone. Every subscriber must receive every event,
or the run fails. Each run measures the baseline and govops side by side; prints p50, p99 and max
of each, and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


# --- the client side: one process holding its share of the streams --------------------------------


def client_process(
    pipe: Connection, base: str, path: str, headers: list[dict[str, str]], count: int, expected: int
) -> None:
    """Open `count` streams, say "ready" once all are connected, then send back every event's latency."""
    try:
        latencies, problems = asyncio.run(_listen_all(pipe, base, path, headers, count, expected))
        pipe.send(("done", latencies, problems))
    except Exception as exc:  # reported to the parent, which fails the run
        pipe.send(("failed", f"{type(exc).__name__}: {exc}", []))
    finally:
        pipe.close()


async def _listen_all(
    pipe: Connection, base: str, path: str, headers: list[dict[str, str]], count: int, expected: int
) -> tuple[list[tuple[str, float, float]], list[str]]:
    latencies: list[tuple[str, float, float]] = []  # (event id, latency in ms, read at)
    problems: list[str] = []
    connected = 0
    ready = asyncio.Event()
    host, port = base.removeprefix("http://").split(":")

    async def listen(n: int) -> None:
        # A plain HTTP/1.1 client on asyncio streams: the least work per event on this side, so that the
        # figures are the server's. The server sends each event as one chunk of the chunked body.
        nonlocal connected
        reader, writer = await asyncio.open_connection(host, int(port))
        extra = "".join(f"{name}: {value}\r\n" for name, value in headers[n % len(headers)].items())
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n{extra}\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            problems.append("stream answered " + head.splitlines()[0].decode())
            ready.set()
            return
        chunked = b"transfer-encoding: chunked" in head.lower()
        buffer = b""
        received = 0
        try:
            while received < expected:
                if chunked:
                    size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                    if size == 0:
                        break
                    buffer += (await reader.readexactly(size + 2))[:-2]
                else:
                    more = await reader.read(65536)
                    if not more:
                        break
                    buffer += more
                while b"\n\n" in buffer:
                    message, buffer = buffer.split(b"\n\n", 1)
                    if message.startswith(b"retry:") or message.startswith(b": connected"):
                        connected += 1
                        if connected == count:
                            ready.set()
                    elif message.startswith(b": too far behind"):
                        problems.append("stream let go as too far behind")
                        return
                    elif b"\ndata: " in message:
                        read_at = time.time()
                        head, body = message.split(b"\ndata: ", 1)
                        accepted = datetime.fromisoformat(json.loads(body)["recorded_at"]).timestamp()
                        event_id = head.split(b"\n", 1)[0].decode()
                        latencies.append((event_id, (read_at - accepted) * 1000, read_at))
                        received += 1
        finally:
            writer.close()
        if received < expected:
            problems.append(f"stream ended after {received} of {expected} events")

    tasks = [asyncio.create_task(listen(n)) for n in range(count)]
    await asyncio.wait_for(ready.wait(), 180)
    pipe.send(("ready", connected, problems))
    await asyncio.wait_for(asyncio.gather(*tasks), 180)
    return latencies, problems


def measure(
    base: str,
    stream_path: str,
    headers: list[dict[str, str]],
    send: list[tuple[str, dict[str, str], bytes]],
    subscribers: int,
    clients: int,
    gap: float,
) -> tuple[list[float], list[float]]:
    """Open the streams in `clients` processes and send one request at a time. Every event's latency at every
    subscriber (ms), and its fan-out time: from the first subscriber's read of the same event to this one's."""
    ctx = multiprocessing.get_context("spawn")
    pipes, procs = [], []
    for n in range(clients):
        share = subscribers // clients + (n < subscribers % clients)
        mine = headers[n::clients] or headers
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=client_process, args=(child, base, stream_path, mine, share, len(send)))
        proc.start()
        child.close()
        pipes.append(parent)
        procs.append(proc)
    try:
        for pipe in pipes:
            if not pipe.poll(180):
                raise SystemExit("a client process did not connect its streams in time")
            kind, _connected, problems = pipe.recv()
            if kind != "ready" or problems:
                raise SystemExit(f"a client process could not connect: {problems}")
        with httpx.Client(base_url=base, timeout=30) as poster:
            for path, extra, body in send:
                response = poster.post(path, content=body, headers=extra)
                assert response.status_code == 201, response.text
                time.sleep(gap)
        latencies: list[tuple[str, float, float]] = []
        for pipe in pipes:
            if not pipe.poll(180):
                raise SystemExit("a client process did not receive every event in time")
            kind, found, problems = pipe.recv()
            if kind != "done" or problems:
                raise SystemExit(f"a client process failed: {found if kind == 'failed' else problems}")
            latencies.extend(found)
    finally:
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
    if len(latencies) != subscribers * len(send):
        raise SystemExit(f"{len(latencies)} events received, {subscribers * len(send)} expected")
    first: dict[str, float] = {}
    for event_id, _, read_at in latencies:
        first[event_id] = min(read_at, first.get(event_id, read_at))
    return [ms for _, ms, _ in latencies], [(read_at - first[event_id]) * 1000 for event_id, _, read_at in latencies]


BASE, OURS = "bare Starlette fan-out (baseline)", "govops submission -> SSE"


def report(name: str, latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    print(
        f"  {name:43s} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  max {ordered[-1]:7.1f} ms "
        f"({len(ordered):,} events received)",
        flush=True,
    )
    return p50, p99


# --- the server side -----------------------------------------------------------------------------


def _govops(env: dict[str, str], folder: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "govops", *args], env=env, cwd=folder, check=True, capture_output=True, text=True
    )
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--submissions", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4, help="client processes holding the streams")
    parser.add_argument("--keys", type=int, default=1, help="member systems whose keys the streams use")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL database (default: a fresh SQLite one)")
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between one submission's answer and the next")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "GOVOPS_DATABASE_URL": args.database_url or f"sqlite:///{folder}/govops.db",
            "GOVOPS_LOG_LEVEL": "warning",
            "GOVOPS_PAGE_WARMER": "false",
            "GOVOPS_WORKER": "false",
            # A server meant for this many streams is configured for them (the default allows 1,000 in all).
            "GOVOPS_MAX_CONNECTIONS": str(args.subscribers + 100),
        }
        _govops(env, folder, "init")
        stamp = f"b{int(time.time())}"
        keys = []
        for n in range(args.keys):
            system = f"{stamp}-{n}"
            found = re.search(r"gvk_\w{12}_[\w-]{32}", _govops(env, folder, "exchange", "add", "PC-79", system))
            assert found
            _govops(env, folder, "exchange", "grant", f"PC-79/{system}", "ENTERPRISES", "--read", "--write")
            keys.append({"Authorization": f"Bearer {found.group(0)}"})
        ours, bare = free_port(), free_port()
        server = subprocess.Popen([sys.executable, "-m", "govops", "serve", "--port", str(ours)], env=env, cwd=folder)
        baseline = subprocess.Popen([sys.executable, str(ROOT / "bench" / "bare_sse.py"), str(bare)])
        database = env["GOVOPS_DATABASE_URL"].split(":")[0].split("+")[0]
        ratios: list[tuple[float, float, float, float]] = []
        try:
            wait_up(f"http://127.0.0.1:{ours}/healthz")
            wait_up(f"http://127.0.0.1:{bare}/events-not-there")
            print(
                f"{args.subscribers} subscribers over {args.clients} client processes and {args.keys} key(s), "
                f"{args.submissions} submissions one after another, {database}",
                flush=True,
            )
            for run in range(args.runs):
                # Values differ from every earlier run's, so that each submission changes the figure (an event).
                first = 1000 + (int(time.time() * 10) % 100_000) * 100
                submissions = [
                    (
                        "/api/v1/submissions",
                        {**keys[n % len(keys)], "Idempotency-Key": f"{stamp}-{run}-{n}", "Content-Type": "text/csv"},
                        f"indicator,area,period,value\nENT_NEW,79,2026-09,{first + n}\n".encode(),
                    )
                    for n in range(args.submissions)
                ]
                published = [
                    ("/publish", {}, json.dumps({"indicator": "ENT_NEW", "area": "79", "value": first + n}).encode())
                    for n in range(args.submissions)
                ]
                print(f"run {run + 1}", flush=True)
                base, base_fan = measure(
                    f"http://127.0.0.1:{bare}", "/events", [{}], published, args.subscribers, args.clients, args.gap
                )
                ours_all, ours_fan = measure(
                    f"http://127.0.0.1:{ours}",
                    "/api/v1/events",
                    keys,
                    submissions,
                    args.subscribers,
                    args.clients,
                    args.gap,
                )
                (b50, b99), (o50, o99) = report(BASE, base), report(OURS, ours_all)
                (bf50, bf99), (of50, of99) = report(BASE + ", fan-out", base_fan), report(OURS + ", fan-out", ours_fan)
                ratios.append((o50 / b50, o99 / b99, of50 / bf50, of99 / bf99))
                print(
                    f"  ratio govops / baseline: accepted -> read p50 {ratios[-1][0]:.2f}x p99 {ratios[-1][1]:.2f}x; "
                    f"fan-out p50 {ratios[-1][2]:.2f}x p99 {ratios[-1][3]:.2f}x",
                    flush=True,
                )
        finally:
            for proc in (server, baseline):
                proc.terminate()
                proc.wait(timeout=15)
        for n, what in enumerate(("accepted -> read p50", "accepted -> read p99", "fan-out p50", "fan-out p99")):
            found = [r[n] for r in ratios]
            if found:
                print(f"{database} {what} ratio: {', '.join(f'{r:.2f}x' for r in found)} (worst {max(found):.2f}x)")


if __name__ == "__main__":
    main()
