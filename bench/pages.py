"""Server time of the console's pages, warm and right after new data arrives (cache invalidated).

    .venv/bin/govops demo --no-serve      # a store with the demo data (about 233,000 observations)
    .venv/bin/python bench/pages.py [--url sqlite:///var/govops.db] [--repeat 30]

Each page is requested in-process through the ASGI app (no network), signed in as an analyst.
The baseline, run side by side, is /healthz: the same app, middleware and database round trip
with no work of its own. Prints p50 and p95 per page, and p95 / baseline p95.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.auth.models import User
from govops.auth.service import create_user, start_session
from govops.auth.web import SESSION_COOKIE
from govops.db.engine import make_engine
from govops.settings import Settings
from govops.web.app import create_app

PAGES = ["/", "/explorer", "/explorer/CPI", "/explorer/EXPORTS?freq=Q&area=VN&area=79", "/provinces/79"]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(call: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="sqlite:///var/govops.db")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    engine = make_engine(args.url)
    with Session(engine) as session:
        user = session.scalar(select(User).where(User.username == "bench.analyst"))
        if user is None:
            user = create_user(session=session, username="bench.analyst", password="bench password 1",
                               full_name="Bench", agency="GO", role="analyst")
        token, _ = start_session(session=session, user=user)
        session.commit()
    client = TestClient(create_app(Settings(database_url=args.url), engine=engine))
    client.cookies.set(SESSION_COOKIE, token)
    base = timed(lambda: client.get("/healthz"), args.repeat)
    print(f"baseline /healthz: p50 {statistics.median(base):.1f} ms, p95 {percentile(base, 0.95):.1f} ms")
    for path in PAGES:
        first = timed(lambda path=path: client.get(path), 1)[0]
        warm = timed(lambda path=path: client.get(path), args.repeat)
        print(f"{path:45s} cold {first:7.1f} ms | warm p50 {statistics.median(warm):6.1f} ms, "
              f"p95 {percentile(warm, 0.95):6.1f} ms ({percentile(warm, 0.95) / percentile(base, 0.95):.1f}x baseline)")


if __name__ == "__main__":
    main()
