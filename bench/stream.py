"""Event stream latency: from an accepted submission to 1,000 connected SSE subscribers.

    .venv/bin/python bench/stream.py [--subscribers 1000] [--submissions 20]

Runs a real `govops serve` on a fresh SQLite store in a temporary folder, and beside it the bare
Starlette fan-out of bench/bare_sse.py (no store, no checks, no filtering). For each, opens
--subscribers streams from this process, then sends --submissions one after another, each one
ENT_NEW value: govops through POST /api/v1/submissions (API key, Idempotency-Key, all checks,
the write, roll-ups and the change event committed), the baseline through POST /publish. The
latency of one event at one subscriber runs from the moment the server accepted the change (the
event's own `recorded_at`, stamped by govops as it writes and by the baseline as it publishes) to
the moment that subscriber has read the event; the POST's answer, which can come after the event,
plays no part. Prints p50, p99 and max over all of them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
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


async def measure(
    base: str,
    stream_path: str,
    headers: dict[str, str],
    send: list[tuple[str, dict[str, str], bytes]],
    subscribers: int,
) -> list[float]:
    """Open the streams, send one request at a time, and collect every event's latency (ms)."""
    latencies: list[float] = []
    connected = 0
    limits = httpx.Limits(max_connections=subscribers + 10, max_keepalive_connections=subscribers + 10)
    async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(10, read=120), limits=limits) as client:
        ready = asyncio.Event()
        done = asyncio.Event()
        received = 0

        async def listen() -> None:
            nonlocal connected, received
            async with client.stream("GET", stream_path, headers=headers) as response:
                seq = 0
                async for line in response.aiter_lines():
                    if line.startswith(": connected"):
                        connected += 1
                        if connected == subscribers:
                            ready.set()
                    elif line.startswith("data: "):
                        seq += 1
                        read_at = time.time()
                        accepted = datetime.fromisoformat(json.loads(line[6:])["recorded_at"]).timestamp()
                        latencies.append((read_at - accepted) * 1000)
                        received += 1
                        if received == subscribers * len(send):
                            done.set()
                        if seq == len(send):
                            return

        tasks = [asyncio.create_task(listen()) for _ in range(subscribers)]
        await asyncio.wait_for(ready.wait(), 120)
        async with httpx.AsyncClient(base_url=base, timeout=30) as poster:
            for path, extra, body in send:
                response = await poster.post(path, content=body, headers=extra)
                assert response.status_code == 201, response.text
                await asyncio.sleep(0.2)
        await asyncio.wait_for(done.wait(), 120)
        for task in tasks:
            task.cancel()
    return latencies


def report(name: str, latencies: list[float]) -> float:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    print(
        f"{name:40s} p50 {statistics.median(ordered):7.1f} ms  p99 {p99:7.1f} ms  max {ordered[-1]:7.1f} ms "
        f"({len(ordered):,} events received)"
    )
    return p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--submissions", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "GOVOPS_DATABASE_URL": f"sqlite:///{folder}/govops.db",
            "GOVOPS_LOG_LEVEL": "warning",
            "GOVOPS_PAGE_WARMER": "false",
            "GOVOPS_WORKER": "false",
        }
        govops = [sys.executable, "-m", "govops"]
        subprocess.run([*govops, "init"], env=env, cwd=folder, check=True, capture_output=True)
        added = subprocess.run(
            [*govops, "exchange", "add", "PC-79", "ioc"],
            env=env,
            cwd=folder,
            check=True,
            capture_output=True,
            text=True,
        )
        key = re.search(r"gvk_\w{12}_[\w-]{32}", added.stdout)
        assert key
        subprocess.run(
            [*govops, "exchange", "grant", "PC-79/ioc", "ENTERPRISES", "--read", "--write"],
            env=env,
            cwd=folder,
            check=True,
            capture_output=True,
        )
        ours, bare = free_port(), free_port()
        server = subprocess.Popen([*govops, "serve", "--port", str(ours)], env=env, cwd=folder)
        baseline = subprocess.Popen([sys.executable, str(ROOT / "bench" / "bare_sse.py"), str(bare)])
        try:
            wait_up(f"http://127.0.0.1:{ours}/healthz")
            wait_up(f"http://127.0.0.1:{bare}/events-not-there")
            auth = {"Authorization": f"Bearer {key.group(0)}"}
            submissions = [
                (
                    "/api/v1/submissions",
                    {**auth, "Idempotency-Key": f"bench-{n}", "Content-Type": "text/csv"},
                    f"indicator,area,period,value\nENT_NEW,79,2026-09,{1000 + n}\n".encode(),
                )
                for n in range(args.submissions)
            ]
            published = [
                ("/publish", {}, json.dumps({"indicator": "ENT_NEW", "area": "79", "value": 1000 + n}).encode())
                for n in range(args.submissions)
            ]
            print(f"{args.subscribers} subscribers, {args.submissions} submissions one after another")
            base_p99 = report(
                "bare Starlette fan-out (baseline)",
                asyncio.run(measure(f"http://127.0.0.1:{bare}", "/events", {}, published, args.subscribers)),
            )
            our_p99 = report(
                "govops submission -> SSE",
                asyncio.run(measure(f"http://127.0.0.1:{ours}", "/api/v1/events", auth, submissions, args.subscribers)),
            )
            print(f"p99 ratio govops / baseline: {our_p99 / base_p99:.1f}x")
        finally:
            for proc in (server, baseline):
                proc.terminate()
                proc.wait(timeout=15)


if __name__ == "__main__":
    main()
