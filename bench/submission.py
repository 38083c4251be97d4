"""What a submission costs when targets read its indicator, against one that no target reads, in the same run.

    .venv/bin/python bench/submission.py [--submissions 20] [--url postgresql+psycopg://postgres@127.0.0.1:5432/bench]

The store is created fresh (on PostgreSQL the schema `public` of the given database is dropped first) and loaded
with the demo data (2015 to last month, 35 areas) and the demo targets (the year's resolutions, cascaded to the 34
provinces). Then --submissions pairs of one-value submissions go through the accept pipeline, each in its own
transaction as the API's route runs it (checks, rights, write, revision, roll-ups, event, commit), interleaved so
that both see the same machine: a new value of exports for Ho Chi Minh City's last month (read by the exports
target, national and provincial) and, the baseline, one of industrial production (read by no target). The ratio
of their medians is what a submission pays for the targets. After each exports submission the targets' follower
runs as the worker runs it once the commit wakes it (`targets.follow-changes`), timed apart: the work that the
submission no longer waits for, and proof that it still happens (it must compute the exports targets again, and
none after the baseline's submissions).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ingest import fresh  # bench/ is the script's own folder on sys.path
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from govops.db.engine import transaction
from govops.demo import targets as demo_targets
from govops.demo.loader import default_end_month, load_demo
from govops.targets import service as targets
from govops.tasks.service import latest_value
from govops.warehouse.accept import accept

READ_BY_TARGETS, READ_BY_NONE, AREA = "EXPORTS", "IIP", "79"


def submit(engine: Engine, indicator: str, period: str, value: float) -> float:
    started = time.perf_counter()
    with transaction(engine) as session:
        outcome = accept(
            session=session,
            rows=[(1, {"indicator": indicator, "area": AREA, "period": period, "value": value})],
            recorded_by="bench",
        )
        assert outcome.accepted, outcome.problems
    return time.perf_counter() - started


def follow(engine: Engine) -> tuple[float, int]:
    started = time.perf_counter()
    with transaction(engine) as session:
        _, computed = targets.follow_changes(session=session)
    return time.perf_counter() - started, computed


def latest(engine: Engine, indicator: str) -> float:
    with Session(engine) as session:
        value = latest_value(session, indicator, AREA)
    assert value is not None, f"no {indicator} for {AREA} in the demo data"
    return value


def summary(label: str, seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"{label}: p50 {statistics.median(ms):,.1f} ms, p95 {p95:,.1f} ms, max {ms[-1]:,.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=20, help="of each kind")
    parser.add_argument("--url", default=None, help="default: a SQLite file in a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = fresh(args.url or f"sqlite:///{Path(folder) / 'bench.db'}")
        end = default_end_month()
        with transaction(engine) as session:
            load_demo(session=session, end_month=end)
        with Session(engine) as session:
            prepared = demo_targets.prepare(session=session)
        with transaction(engine) as session:
            loaded = demo_targets.load(session=session, prepared=prepared)
        follow(engine)  # the follower's first run sets its cursor, as a worker's first does
        exports, production = latest(engine, READ_BY_TARGETS), latest(engine, READ_BY_NONE)
        with_targets: list[float] = []
        without: list[float] = []
        followed: list[float] = []
        for n in range(1, args.submissions + 1):
            without.append(submit(engine, READ_BY_NONE, end, round(production * (1 + n / 1000), 2)))
            seconds, computed = follow(engine)
            assert computed == 0, f"{computed} targets computed after a value no target reads"
            with_targets.append(submit(engine, READ_BY_TARGETS, end, round(exports * (1 - n / 100), 1)))
            seconds, computed = follow(engine)
            assert computed > 0, "the follower computed no target after an exports value"
            followed.append(seconds)
        engine.dispose()
    print(
        f"database: {engine.dialect.name}; demo data to {end}, {loaded.targets} targets; "
        f"{args.submissions} submissions of each kind"
    )
    print(summary(f"baseline, a value no target reads ({READ_BY_NONE})", without))
    print(summary(f"govops, a value the targets read ({READ_BY_TARGETS})", with_targets))
    ratio = statistics.median(with_targets) / statistics.median(without)
    print(f"  ratio of medians, targets' indicator / baseline: {ratio:.2f}x")
    print(summary("after the commit, the targets' follower (not waited for)", followed))


if __name__ == "__main__":
    main()
