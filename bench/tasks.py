"""The Prime Minister's view and an agency scorecard on a large store, against /healthz in the same run.

    .venv/bin/python bench/tasks.py [--url postgresql+psycopg://postgres@127.0.0.1:5432/bench_tasks]
                                    [--tasks 100000] [--reports 1000000] [--repeat 40]

Builds the store on PostgreSQL (its database is dropped and made again): the reference catalogue, 2,000
directives, --tasks tasks over every agency with deadlines over two years (done on time, done late, open in time,
open overdue mixed as in the demo), --reports progress reports, all written by INSERT ... SELECT over
generate_series (the build is timed apart and is not the measure). Then, in-process through the ASGI app as
`govops serve` answers (no network), with a Government Office system's API key:
- baseline: GET /healthz (the same app, middleware and database round trip, no work of its own);
- the Prime Minister's view: GET /api/v1/tasks/watchlist (open tasks, overdue first, then red, then due soonest);
- an agency scorecard: GET /api/v1/tasks/summary?agency=MOF (its figures, months, tasks overdue > 30 days);
- the national figures: GET /api/v1/tasks/summary (every agency ranked).
Prints p50 and p95 of each and p95 / baseline p95. Goal: the view and the scorecard under 200 ms p95.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from govops.app import create_app
from govops.catalog.service import load_reference
from govops.db.engine import make_engine, transaction
from govops.db.migrate import upgrade
from govops.exchange import service as exchange
from govops.settings import Settings

BUILD = """
WITH leads AS (SELECT array_agg(id ORDER BY id) AS ids FROM agency WHERE kind <> 'government_office'),
rows AS (
    SELECT g, (g * 37) % 100 AS r, DATE '2025-01-01' + ((g * 7) % 700) AS due FROM generate_series(1, :tasks) g
)
INSERT INTO task (id, directive_id, text, lead_agency_id, assigned_on, recurrence, deadline, original_deadline,
                  priority, category, weight, progress, health, health_trend, closed_on, evidence, demo, created_at)
SELECT g, 1 + g % 2000, 'Nhiệm vụ thử tải số ' || g, leads.ids[1 + g % array_length(leads.ids, 1)],
       due - 90, 'once', due, due, 'normal', 'bench', 1, 50,
       CASE WHEN due < CURRENT_DATE AND r >= 92 THEN 'red' WHEN r % 7 = 0 THEN 'red'
            WHEN r % 3 = 0 THEN 'amber' ELSE 'green' END,
       0,
       CASE WHEN due < CURRENT_DATE AND r < 82 THEN due - (g % 15)
            WHEN due < CURRENT_DATE AND r < 92 THEN LEAST(CURRENT_DATE, due + 1 + g % 30)
            WHEN due >= CURRENT_DATE AND r < 15 THEN CURRENT_DATE - (g % 5)
            ELSE NULL END,
       NULL, true, now()
FROM rows, leads
"""


def build(url: str, tasks: int, reports: int) -> None:
    parsed = make_url(url)
    server = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}"'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    server.dispose()
    engine = make_engine(url)
    upgrade(engine)
    with transaction(engine) as session:
        load_reference(session=session)
        session.execute(
            text(
                "INSERT INTO directive (id, kind, number, title, signed_on, signer, issuer_id, summary, demo, "
                "created_at) SELECT g, 'resolution', g || '/NQ-CP-B', 'Văn bản thử tải', "
                "DATE '2024-09-01' + (g % 120), 'bench', (SELECT id FROM agency WHERE code = 'GO'), '', true, now() "
                "FROM generate_series(1, 2000) g"
            )
        )
        session.execute(text(BUILD), {"tasks": tasks})
        session.execute(
            text(
                "INSERT INTO task_report (task_id, agency_id, percent, text, channel, reported_on, reported_at, "
                "reported_by) SELECT t.id, t.lead_agency_id, g % 100, 'Báo cáo tiến độ thử tải', 'api', "
                "t.assigned_on + (g % 60), now(), 'bench' FROM generate_series(1, :reports) g "
                "JOIN task t ON t.id = 1 + g % :tasks"
            ),
            {"reports": reports, "tasks": tasks},
        )
        for table in ("directive", "task"):
            session.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(call: Callable[[], object], repeat: int) -> list[float]:
    call()  # the first, for the connection pool and the plans
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_tasks")
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--no-build", action="store_true", help="measure the store as it is")
    args = parser.parse_args()
    if not args.no_build:
        start = time.perf_counter()
        build(args.url, args.tasks, args.reports)
        print(f"built {args.tasks:,} tasks, {args.reports:,} reports in {time.perf_counter() - start:.0f} s")
    engine = make_engine(args.url)
    with transaction(engine) as session:
        member = exchange.create_member(session=session, agency="GO", system=f"bench-{time.time_ns()}", name="")
        key = exchange.issue_key(session=session, member=member).key
    with Session(engine) as session:
        counts = session.execute(text("SELECT (SELECT count(*) FROM task), (SELECT count(*) FROM task_report)")).one()
    print(f"store: {counts[0]:,} tasks, {counts[1]:,} progress reports")
    app = create_app(Settings(database_url=args.url, worker=False, page_warmer=False), engine=engine)
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(app) as client:
        base = timed(lambda: client.get("/healthz"), args.repeat)
        b95 = percentile(base, 0.95)
        print(f"{'baseline /healthz':42s} p50 {percentile(base, 0.5):7.1f} ms  p95 {b95:7.1f} ms")
        for label, path in (
            ("Prime Minister's view", "/api/v1/tasks/watchlist"),
            ("agency scorecard (MOF)", "/api/v1/tasks/summary?agency=MOF"),
            ("national figures, every agency", "/api/v1/tasks/summary"),
        ):
            answer = client.get(path, headers=headers)
            assert answer.status_code == 200, answer.text
            samples = timed(lambda path=path: client.get(path, headers=headers), args.repeat)
            p95 = percentile(samples, 0.95)
            print(
                f"{label:42s} p50 {percentile(samples, 0.5):7.1f} ms  p95 {p95:7.1f} ms  "
                f"({p95 / b95:.1f}x baseline; goal < 200 ms: {'met' if p95 < 200 else 'NOT met'})"
            )
    engine.dispose()


if __name__ == "__main__":
    main()
