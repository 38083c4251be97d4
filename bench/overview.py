"""The national overview's data, computed from nothing (as right after a write), against DuckDB on the same rows.

    .venv/bin/python bench/build_store.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench --target 2000000
    .venv/bin/python bench/overview.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench [--repeat 20]

govops: every series the overview shows (each tile's national level series over the last two years, and its year
to date where it has one), with the page cache emptied before each run, in one session, as the first visitor
after a write gets them; the SQL statements it sends are counted.
Baseline, in the same run: DuckDB (in process, in memory) over a copy of the same indicators' observations,
answering the plain question the overview asks: per indicator and month since the same start, the national
figure (the nation's own row, else the sum of the provinces', else of the wards'), then the latest of each.
DuckDB keeps no roll-ups, applies no aggregation rules, derived formulas, retired-unit re-aggregation or
completeness counts; govops does all of these. Prints p50/p95 of each and the ratio of the p95s.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from govops.catalog.formulas import parse_formula
from govops.catalog.models import Area
from govops.catalog.snapshot import catalogue_snapshot
from govops.db.engine import make_engine
from govops.periods import Period
from govops.warehouse import series_cache
from govops.warehouse.models import Observation
from govops.warehouse.overview import OVERVIEW, overview_queries, overview_start
from govops.warehouse.series import ytd_rule


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def overview_data(engine: Engine) -> int:
    """Every series of the overview, computed from the store; returns how many series it computed."""
    series_cache.clear()
    count = 0
    with Session(engine) as session:
        versions = series_cache.data_versions(session)
        catalogue = catalogue_snapshot(session)
        queries = [
            query
            for _group, codes in OVERVIEW
            for code in codes
            for query in overview_queries(code, ytd_rule(catalogue, catalogue.indicator(code)))
            if query is not None
        ]
        # As the page does: the stored points of every tile read in a statement or two, then each series computed.
        series_cache.prefetch(session=session, queries=queries, versions=versions)
        for query in queries:
            series_cache.cached_series(session=session, query=query, versions=versions)
            count += 1
    return count


def base_indicators(engine: Engine) -> list[int]:
    """The stored indicators the overview reads: its tiles and the inputs of their formulas."""
    with Session(engine) as session:
        catalogue = catalogue_snapshot(session)
        wanted: set[str] = set()
        stack = [code for _group, codes in OVERVIEW for code in codes]
        while stack:
            ind = catalogue.indicator(stack.pop())
            if ind.formula:
                stack.extend(parse_formula(ind.formula).references - wanted)
            wanted.add(ind.code)
        return sorted(catalogue.indicators[c].id for c in wanted if not catalogue.indicators[c].formula)


def to_duckdb(engine: Engine, indicator_ids: list[int]) -> tuple[duckdb.DuckDBPyConnection, int]:
    """A DuckDB copy of the overview's indicators' observations (every area, every period) and of the areas."""
    db = duckdb.connect()
    with tempfile.TemporaryDirectory() as folder, Session(engine) as session:
        rows_file, areas_file = Path(folder) / "obs.csv", Path(folder) / "area.csv"
        o = Observation
        count = 0
        with rows_file.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["indicator_id", "area_id", "period", "period_start", "dim_key", "value"])
            stmt = select(o.indicator_id, o.area_id, o.period, o.period_start, o.dim_key, o.value).where(
                o.indicator_id.in_(indicator_ids)
            )
            for row in session.execute(stmt.execution_options(yield_per=50_000)):
                writer.writerow(row)
                count += 1
        with areas_file.open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["id", "level"])
            writer.writerows(session.execute(select(Area.id, Area.level)))
        db.execute(f"CREATE TABLE observation AS SELECT * FROM read_csv_auto('{rows_file}')")
        db.execute(f"CREATE TABLE area AS SELECT * FROM read_csv_auto('{areas_file}')")
    return db, count


def duckdb_overview(db: duckdb.DuckDBPyConnection, indicator_ids: list[int], start: str) -> dict[int, float]:
    rows = db.execute(
        """SELECT o.indicator_id, a.level, o.period, sum(o.value)
           FROM observation o JOIN area a ON a.id = o.area_id
           WHERE o.dim_key = '' AND o.period_start >= ? AND o.indicator_id IN (SELECT unnest(?))
           GROUP BY 1, 2, 3""",
        [Period.parse(start).start, indicator_ids],
    ).fetchall()
    preference = {"nation": 0, "province": 1, "ward": 2}
    best: dict[tuple[int, str], tuple[int, float]] = {}
    for indicator_id, level, period, value in rows:
        rank = preference.get(level, 3)
        key = (indicator_id, period)
        if key not in best or rank < best[key][0]:
            best[key] = (rank, value)
    latest: dict[int, tuple[str, float]] = {}
    for (indicator_id, period), (_rank, value) in best.items():
        if indicator_id not in latest or period > latest[indicator_id][0]:
            latest[indicator_id] = (period, value)
    return {indicator_id: value for indicator_id, (_period, value) in latest.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="sqlite:///var/bench10m.db")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    engine = make_engine(args.url)
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    overview_data(engine)  # the catalogue and the area tree in memory, as in a running server
    event.listen(engine, "before_cursor_execute", count)
    computed = overview_data(engine)
    event.remove(engine, "before_cursor_execute", count)
    print(f"govops: {computed} series, {statements} SQL statements per overview computed from nothing")
    ids = base_indicators(engine)
    db, rows = to_duckdb(engine, ids)
    with Session(engine) as session:
        stored = session.scalar(select(func.count()).select_from(Observation))
    print(f"DuckDB: {rows:,} observations of the overview's {len(ids)} stored indicators copied (store: {stored:,})")
    start = overview_start()
    duckdb_overview(db, ids, start)  # warm
    # Side by side, alternating, so that the machine's load weighs on both alike.
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(args.repeat):
        ours += timed(lambda: overview_data(engine), 1)
        theirs += timed(lambda: duckdb_overview(db, ids, start), 1)
    p95_ours, p95_theirs = percentile(ours, 0.95), percentile(theirs, 0.95)
    print(f"govops overview data: p50 {percentile(ours, 0.5):6.1f} ms, p95 {p95_ours:6.1f} ms")
    print(f"DuckDB latest values: p50 {percentile(theirs, 0.5):6.1f} ms, p95 {p95_theirs:6.1f} ms")
    print(f"ratio govops / DuckDB (p95): {p95_ours / p95_theirs:.2f}x")


if __name__ == "__main__":
    main()
