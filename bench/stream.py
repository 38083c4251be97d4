"""Event stream latency: from sending a submission to each of 1,000 SSE subscribers reading its event.

    .venv/bin/python bench/stream.py [--subscribers 1000] [--submissions 20] [--runs 5] [--clients 4]
                                     [--keys 1] [--gap 0.1] [--database-url postgresql+psycopg://...]

Runs a real `govops serve` (on a fresh SQLite store in a temporary folder, or on the PostgreSQL
database given, which it initialises) and beside it the bare Starlette fan-out of bench/bare_sse.py
(no store, no checks, no rights). --clients processes open --subscribers streams to each server
(plain HTTP/1.1 on asyncio streams, so that no single client process is the bottleneck; govops's
streams spread over --keys member systems' API keys), and hold both sets for the whole bench.

Each run sends --submissions to each server, interleaved (baseline, govops, govops, baseline, ...),
so that both see the same load on a shared machine: govops one ENT_NEW value per submission through
POST /api/v1/submissions, as a member's system sends it (API key, Idempotency-Key, CSV body; parse,
checks, rights, write, revision, roll-ups, change event, audit, receipt, commit), the baseline the
same event payload through POST /publish. The next request is sent only once every subscriber has
read the previous event, so that no fan-out overlaps another. The latency of one event at one
subscriber runs from the moment this process sent the request (the same clock as the clients') to
the moment that subscriber has read the event: it holds the whole accept path and the delivery; the
fan-out time, from the first subscriber's read of an event to this one's, holds the delivery alone.
Every subscriber must receive every event, or the bench fails. Prints p50, p95, p99 and max of each
per run, the ratios govops / baseline, and at the end every run's p99 ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]
BASE, OURS = "baseline", "govops"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str) -> None:
    deadline = time.monotonic() + 180  # a loaded machine starts a server slowly
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


@dataclass(frozen=True)
class Target:
    name: str
    base: str
    path: str
    headers: list[dict[str, str]]


# --- the client side: one process holding its share of both servers' streams ----------------------


def client_process(pipe: Connection, targets: list[tuple[Target, int]], expected: int) -> None:
    """Open the streams, say "ready", then "got" for each event once all this process's streams of its server
    have read it, and at the end every (server, event value, read at)."""
    try:
        reads, problems = asyncio.run(_listen_all(pipe, targets, expected))
        pipe.send(("done", reads, problems))
    except Exception as exc:  # reported to the parent, which fails the bench
        pipe.send(("failed", f"{type(exc).__name__}: {exc}", []))
    finally:
        pipe.close()


async def _listen_all(
    pipe: Connection, targets: list[tuple[Target, int]], expected: int
) -> tuple[list[tuple[str, float, float]], list[str]]:
    reads: list[tuple[str, float, float]] = []
    problems: list[str] = []
    total = sum(count for _, count in targets)
    connected = 0
    ready = asyncio.Event()
    got: dict[tuple[str, float], int] = defaultdict(int)

    async def listen(target: Target, count: int, n: int) -> None:
        # A plain HTTP/1.1 client on asyncio streams: the least work per event on this side, so that the
        # figures are the servers'. Both servers send each event as one chunk of a chunked body.
        nonlocal connected
        host, port = target.base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        extra = "".join(f"{k}: {v}\r\n" for k, v in target.headers[n % len(target.headers)].items())
        writer.write(f"GET {target.path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n{extra}\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200") or b"transfer-encoding: chunked" not in head.lower():
            problems.append(f"{target.name} stream answered " + head.splitlines()[0].decode())
            ready.set()
            return
        buffer = b""
        received = 0
        try:
            while received < expected:
                size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                if size == 0:
                    break
                buffer += (await reader.readexactly(size + 2))[:-2]
                while b"\n\n" in buffer:
                    message, buffer = buffer.split(b"\n\n", 1)
                    if message.startswith(b"retry:") or message.startswith(b": connected"):
                        connected += 1
                        if connected == total:
                            ready.set()
                    elif message.startswith(b": too far behind"):
                        problems.append(f"{target.name} stream let go as too far behind")
                        return
                    elif b"\ndata: " in message:
                        read_at = time.time()
                        value = float(json.loads(message.split(b"\ndata: ", 1)[1])["value"])
                        reads.append((target.name, value, read_at))
                        received += 1
                        got[(target.name, value)] += 1
                        if got[(target.name, value)] == count:
                            pipe.send(("got", target.name, value))
        finally:
            writer.close()
        if received < expected:
            problems.append(f"{target.name} stream ended after {received} of {expected} events")

    tasks = [asyncio.create_task(listen(target, count, n)) for target, count in targets for n in range(count) if count]
    await asyncio.wait_for(ready.wait(), 300)
    pipe.send(("ready", connected, problems))
    await asyncio.gather(*tasks)
    return reads, problems


class Clients:
    """The client processes, and the acknowledgements that every subscriber has read an event."""

    def __init__(self, targets: list[Target], subscribers: int, clients: int, expected: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[multiprocessing.process.BaseProcess] = []
        for n in range(clients):
            share = subscribers // clients + (n < subscribers % clients)
            mine = [(Target(t.name, t.base, t.path, t.headers[n::clients] or t.headers), share) for t in targets]
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=client_process, args=(child, mine, expected))
            proc.start()
            child.close()
            self.pipes.append(parent)
            self.procs.append(proc)
        for pipe in self.pipes:
            if not pipe.poll(300):
                raise SystemExit("a client process did not connect its streams in time")
            kind, _connected, problems = pipe.recv()
            if kind != "ready" or problems:
                raise SystemExit(f"a client process could not connect: {problems}")

    def wait_read(self, name: str, value: float) -> None:
        """Until every client process says all its streams of `name` have read the event carrying `value`."""
        for pipe in self.pipes:
            if not pipe.poll(120):
                raise SystemExit(f"{name}: event {value} not read by every subscriber in time")
            message = pipe.recv()
            if message != ("got", name, value):
                raise SystemExit(f"{name}: expected the read of {value}, got {message!r}")

    def results(self) -> list[tuple[str, float, float]]:
        reads: list[tuple[str, float, float]] = []
        try:
            for pipe in self.pipes:
                if not pipe.poll(120):
                    raise SystemExit("a client process did not finish in time")
                kind, found, problems = pipe.recv()
                if kind != "done" or problems:
                    raise SystemExit(f"a client process failed: {found if kind == 'failed' else problems}")
                reads.extend(found)
        finally:
            self.close()
        return reads

    def close(self) -> None:
        for proc in self.procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()


# --- figures -------------------------------------------------------------------------------------


def percentiles(values: list[float]) -> tuple[float, float, float, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return at(0.50), at(0.95), at(0.99), ordered[-1]


def show(name: str, values: list[float]) -> tuple[float, float, float, float]:
    found = percentiles(values)
    p50, p95, p99, top = found
    print(
        f"  {name:42s} p50 {p50:7.1f}  p95 {p95:7.1f}  p99 {p99:7.1f}  max {top:7.1f} ms  ({len(values):,} reads)",
        flush=True,
    )
    return found


# --- the server side -----------------------------------------------------------------------------


def _govops(env: dict[str, str], folder: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "govops", *args], env=env, cwd=folder, check=False, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"govops {' '.join(args)} failed ({done.returncode}):\n{done.stderr}{done.stdout}")
    return done.stdout


def _event_payload(value: float, n: int) -> dict[str, object]:
    """What govops's event of one ENT_NEW value carries besides its id and recorded_at: the baseline sends as much."""
    return {
        "topic": "observations", "type": "observation.changed", "subject": "ENT_NEW/79/2026-09",
        "indicator": "ENT_NEW", "seq": n, "area": "79", "period": "2026-09", "dims": {}, "value": value,
        "status": "final", "version": n, "submission": f"{n:032x}",
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=1000, help="streams to each server")
    parser.add_argument("--submissions", type=int, default=20, help="per run and server")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--clients", type=int, default=4, help="client processes holding the streams")
    parser.add_argument("--keys", type=int, default=1, help="member systems whose keys govops's streams use")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL database (default: a fresh SQLite one)")
    parser.add_argument(
        "--gap", type=float, default=0.1, help="seconds between one event's last read and the next send"
    )
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
        try:
            wait_up(f"http://127.0.0.1:{ours}/healthz")
            wait_up(f"http://127.0.0.1:{bare}/events-not-there")
            targets = [
                Target(BASE, f"http://127.0.0.1:{bare}", "/events", [{}]),
                Target(OURS, f"http://127.0.0.1:{ours}", "/api/v1/events", keys),
            ]
            print(
                f"{database}: {args.subscribers} subscribers to each server over {args.clients} client processes, "
                f"{args.keys} key(s); {args.runs} runs of {args.submissions} submissions to each, interleaved",
                flush=True,
            )
            clients = Clients(targets, args.subscribers, args.clients, args.runs * args.submissions)
            sent_at: dict[tuple[str, float], float] = {}
            answered: dict[str, list[float]] = {BASE: [], OURS: []}
            runs: list[tuple[list[float], float]] = []
            first_value = 1000 + (int(time.time()) % 100_000) * 1000
            with httpx.Client(timeout=60) as poster:
                for run in range(args.runs):
                    values: list[float] = []
                    load = os.getloadavg()[0]
                    for n in range(args.submissions):
                        value = float(first_value + run * args.submissions + n)
                        values.append(value)
                        order = (BASE, OURS) if (run * args.submissions + n) % 2 == 0 else (OURS, BASE)
                        for name in order:
                            if name == OURS:
                                url = f"http://127.0.0.1:{ours}/api/v1/submissions"
                                headers = {
                                    **keys[n % len(keys)],
                                    "Idempotency-Key": f"{stamp}-{run}-{n}",
                                    "Content-Type": "text/csv",
                                }
                                body = f"indicator,area,period,value\nENT_NEW,79,2026-09,{value:.0f}\n".encode()
                            else:
                                url, headers = f"http://127.0.0.1:{bare}/publish", {"Content-Type": "application/json"}
                                body = json.dumps(_event_payload(value, run * args.submissions + n + 1)).encode()
                            sent_at[(name, value)] = time.time()
                            response = poster.post(url, content=body, headers=headers)
                            answered[name].append((time.time() - sent_at[(name, value)]) * 1000)
                            assert response.status_code == 201, response.text
                            clients.wait_read(name, value)
                            time.sleep(args.gap)
                    runs.append((values, load))
            reads = clients.results()
        finally:
            for proc in (server, baseline):
                proc.terminate()
                proc.wait(timeout=15)
    if len(reads) != 2 * args.subscribers * args.runs * args.submissions:
        raise SystemExit(f"{len(reads)} reads, {2 * args.subscribers * args.runs * args.submissions} expected")
    first: dict[tuple[str, float], float] = {}
    for name, value, read_at in reads:
        first[(name, value)] = min(read_at, first.get((name, value), read_at))
    ratios: list[tuple[float, float, float]] = []
    for run, (values, load) in enumerate(runs):
        wanted = set(values)
        print(f"run {run + 1} (1-minute load average {load:.1f} at its start)")
        figures = {}
        for name in (BASE, OURS):
            mine = [(v, at) for n, v, at in reads if n == name and v in wanted]
            latency = [(at - sent_at[(name, v)]) * 1000 for v, at in mine]
            fan_out = [(at - first[(name, v)]) * 1000 for v, at in mine]
            label = "bare Starlette fan-out" if name == BASE else "govops submission -> SSE"
            figures[name] = (show(label + ", sent -> read", latency), show(label + ", fan-out", fan_out))
        (b_lat, b_fan), (o_lat, o_fan) = figures[BASE], figures[OURS]
        ratios.append((o_lat[0] / b_lat[0], o_lat[2] / b_lat[2], o_fan[2] / b_fan[2]))
        print(
            f"  ratio govops / baseline: sent -> read p50 {ratios[-1][0]:.2f}x, p95 {o_lat[1] / b_lat[1]:.2f}x, "
            f"p99 {ratios[-1][1]:.2f}x; fan-out p99 {ratios[-1][2]:.2f}x",
            flush=True,
        )
    for name in (BASE, OURS):
        p50, p95, p99, _ = percentiles(answered[name])
        print(f"{name} POST answered in p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms (all runs)")
    for n, what in enumerate(("sent -> read p50", "sent -> read p99", "fan-out p99")):
        found = [r[n] for r in ratios]
        print(f"{database} {what} ratio per run: {', '.join(f'{r:.2f}x' for r in found)} (worst {max(found):.2f}x)")


if __name__ == "__main__":
    main()
