"""Server time of the console's pages, warm and right after new data arrives (cache invalidated).

    .venv/bin/python bench/build_store.py --url sqlite:///var/bench10m.db   # ten million observations
    .venv/bin/python bench/pages.py [--url sqlite:///var/bench10m.db] [--repeat 30]

(`govops demo --no-serve` gives a smaller store, about 233,000 observations, at sqlite:///var/govops.db.)

Each page is requested in-process through the ASGI app (no network), signed in as an analyst,
with the app's page warmer running as `govops serve` runs it:
- cold: the first request with nothing computed yet (as right after a restart, before the warmer is done),
  --cold times, each after emptying the page cache;
- warm: the same page again and again, as a wall screen refreshing;
- live: the page requested over and over for --seconds while agencies submit, every --interval seconds,
  new values of three indicators the pages show (EXPORTS and BUDGET_REVENUE in a ward, CPI in a
  province), through the same checked write path as the API;
- just after a write: each request right after a submission, before anything could be recomputed.
The baseline, run side by side, is /healthz: the same app, middleware and database round trip
with no work of its own. Prints p50 and p95 per page, and p95 / baseline p95.

The app runs its worker in the same process, as `govops serve` does: the jobs a submission wakes (quality
checks, forecast warnings, reports) then share the interpreter with the pages. With GOVOPS_WORKER=false
the pages are measured as served by a process whose jobs run in `govops worker`.
"""

from __future__ import annotations

import argparse
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from functools import partial

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from govops.app import create_app
from govops.auth.models import User
from govops.auth.service import create_user, start_session
from govops.catalog.models import Area, Indicator
from govops.db.engine import make_engine, transaction
from govops.settings import Settings
from govops.warehouse import series_cache
from govops.warehouse.accept import ingest
from govops.warehouse.models import Observation
from govops.web.signin import SESSION_COOKIE

LIVE_INDICATORS = ("EXPORTS", "BUDGET_REVENUE", "CPI")
PAGES = ["/", "/explorer", "/explorer/CPI", "/explorer/EXPORTS?freq=Q&area=VN&area=79", "/provinces/79"]


def percentile(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")  # every request failed: see NOT 200
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# Answers other than 200 by status: an error page answered fast is no page time, so it is counted, not timed.
FAILED: Counter[int] = Counter()


def timed(call: Callable[[], Response], repeat: int, before: Callable[[], None] | None = None) -> list[float]:
    """Milliseconds of each request that answered 200; the others are counted in FAILED."""
    out = []
    for _ in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        status = call().status_code
        elapsed = (time.perf_counter() - started) * 1000
        if status == 200:
            out.append(elapsed)
        else:
            FAILED[status] += 1
    return out


def submitter(engine: Engine) -> Callable[[], None]:
    """Each call writes a new value for the latest month of EXPORTS and BUDGET_REVENUE in a ward, and of CPI in
    a province: indicators every page here shows, directly or through a formula (TRADE_BALANCE, CPI_YOY...)."""
    o = Observation
    targets = []
    with Session(engine) as session:
        for code in LIVE_INDICATORS:
            target = session.execute(
                select(Indicator.code, Area.code, o.period, o.value)
                .join(Indicator, Indicator.id == o.indicator_id)
                .join(Area, Area.id == o.area_id)
                .where(Indicator.code == code, o.dim_key == "", Area.level.in_(["ward", "province"]))
                .order_by(o.period_start.desc(), Area.level.desc(), Area.code)
                .limit(1)
            ).one()
            targets.append(target)
    counter = itertools.count(1)

    def submit() -> None:
        step = next(counter)
        rows = [
            (i, {"indicator": code, "area": area, "period": period, "value": value + step, "status": "provisional"})
            for i, (code, area, period, value) in enumerate(targets, start=1)
        ]
        with transaction(engine) as session:
            ingest(session=session, rows=rows, recorded_by="bench")

    return submit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="sqlite:///var/bench10m.db")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--cold", type=int, default=10, help="how many times each page is requested cold")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long each page is measured under live load")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between submissions under live load")
    args = parser.parse_args()
    engine = make_engine(args.url)
    with Session(engine) as session:
        user = session.scalar(select(User).where(User.username == "bench.analyst"))
        if user is None:
            user = create_user(
                session=session,
                username="bench.analyst",
                password="bench password 1",
                full_name="Bench",
                agency="GO",
                role="analyst",
            )
        token, _ = start_session(session=session, user=user)
        session.commit()
    with TestClient(create_app(Settings(database_url=args.url), engine=engine)) as client:
        client.cookies.set(SESSION_COOKIE, token)
        run(client, engine, args.repeat, args.cold, args.seconds, args.interval)


def run(client: TestClient, engine: Engine, repeat: int, colds: int, seconds: float, interval: float) -> None:
    base = timed(lambda: client.get("/healthz"), repeat)
    print(f"baseline /healthz: p50 {percentile(base, 0.5):.1f} ms, p95 {percentile(base, 0.95):.1f} ms")
    submit = submitter(engine)
    for path in PAGES:
        series_cache.clear()
        FAILED.clear()
        page = partial(client.get, path)
        cold = timed(page, colds, before=series_cache.clear)
        warm = timed(page, repeat)
        live = during_submissions(page, submit, seconds, interval)
        after = timed(page, repeat, before=submit)
        print(
            f"{path:42s} cold p50 {percentile(cold, 0.5):6.1f} p95 {percentile(cold, 0.95):6.1f} ms | "
            f"warm p95 {percentile(warm, 0.95):6.1f} ms | "
            f"live p50 {percentile(live, 0.5):6.1f} p95 {percentile(live, 0.95):6.1f} ms "
            f"({percentile(live, 0.95) / percentile(base, 0.95):.1f}x baseline, {len(live)} requests) | "
            f"just after a write p50 {percentile(after, 0.5):6.1f} p95 {percentile(after, 0.95):6.1f} ms"
            + (f" | NOT 200: {dict(FAILED)}" if FAILED else "")
        )


def during_submissions(
    call: Callable[[], Response], submit: Callable[[], None], seconds: float, interval: float
) -> list[float]:
    """Request the page over and over for `seconds` while another thread submits every `interval` seconds."""
    stop = threading.Event()

    def feed() -> None:
        while not stop.wait(interval):
            submit()

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    out = []
    ends = time.monotonic() + seconds
    try:
        while time.monotonic() < ends:
            out += timed(call, 1)
    finally:
        stop.set()
        thread.join()
    return out


if __name__ == "__main__":
    main()
