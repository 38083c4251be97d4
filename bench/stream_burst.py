"""A burst of event-stream subscribers: 1,000 agency systems (re)connecting at the same moment.

    .venv/bin/python bench/stream_burst.py [--subscribers 1000] [--keys 50] [--database-url postgresql+psycopg://...]

Runs a real `govops serve` (on a fresh SQLite store in a temporary folder, or on the PostgreSQL
database given, which it initialises) and opens --subscribers streams of GET /api/v1/events at once,
spread over --keys member systems' API keys. It measures the time until every stream has sent its
first line and counts the ones that failed. The baseline is the same number of plain GET /healthz
requests at once on the same server (one pooled connection each, no rights to work out). Prints both
and the ratio; the run fails if any stream did not start.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time

import httpx2 as httpx
from stream import free_port, wait_up  # bench/ is the script's own folder on sys.path


async def burst(base: str, path: str, headers: list[dict[str, str]], count: int, *, stream: bool) -> tuple[float, int]:
    """Start `count` requests at once; seconds until each has its first line (or its answer), and failures."""
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=0)
    failures = 0
    async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(120), limits=limits) as client:
        go = asyncio.Event()

        async def one(n: int) -> None:
            nonlocal failures
            await go.wait()
            try:
                if not stream:
                    response = await client.get(path, headers=headers[n % len(headers)])
                    failures += response.status_code != 200
                    return
                async with client.stream("GET", path, headers=headers[n % len(headers)]) as response:
                    if response.status_code != 200:
                        failures += 1
                        return
                    async for line in response.aiter_lines():
                        if line.startswith(": connected"):
                            return
                    failures += 1
            except httpx.HTTPError:
                failures += 1

        tasks = [asyncio.create_task(one(n)) for n in range(count)]
        await asyncio.sleep(0.2)
        started = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks)
        return time.perf_counter() - started, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--keys", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "GOVOPS_DATABASE_URL": args.database_url or f"sqlite:///{folder}/govops.db",
            "GOVOPS_LOG_LEVEL": "warning",
            "GOVOPS_PAGE_WARMER": "false",
            "GOVOPS_WORKER": "false",
        }
        govops = [sys.executable, "-m", "govops"]
        subprocess.run([*govops, "init"], env=env, cwd=folder, check=True, capture_output=True)
        keys = []
        run = f"b{int(time.time())}"
        for n in range(args.keys):
            added = subprocess.run(
                [*govops, "exchange", "add", "MOF", f"{run}-{n}"],
                env=env,
                cwd=folder,
                check=True,
                capture_output=True,
                text=True,
            )
            found = re.search(r"gvk_\w{12}_[\w-]{32}", added.stdout)
            assert found, added.stdout
            keys.append({"Authorization": f"Bearer {found.group(0)}"})
        port = free_port()
        server = subprocess.Popen([*govops, "serve", "--port", str(port)], env=env, cwd=folder)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_up(f"{base}/healthz")
            print(f"{args.subscribers} at once, {args.keys} API keys, {env['GOVOPS_DATABASE_URL'].split(':')[0]}")
            plain, plain_failed = asyncio.run(burst(base, "/healthz", [{}], args.subscribers, stream=False))
            print(f"{'GET /healthz (baseline)':32s} {plain:6.2f} s  failed {plain_failed}")
            streams, streams_failed = asyncio.run(burst(base, "/api/v1/events", keys, args.subscribers, stream=True))
            print(f"{'GET /api/v1/events, first line':32s} {streams:6.2f} s  failed {streams_failed}")
            print(f"ratio streams / baseline: {streams / plain:.1f}x")
            if streams_failed:
                raise SystemExit(f"{streams_failed} streams did not start")
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
