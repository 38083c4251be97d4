"""Ingest throughput: govops' checked, revisioned upsert against a raw bulk load of the same rows.

    .venv/bin/python bench/ingest.py [--rows 100000] [--url postgresql+psycopg://postgres@127.0.0.1:5432/bench]

The baseline is the fastest way the database can take the bare rows: COPY on PostgreSQL,
executemany on SQLite, into a table with the same columns and unique key but no checks, no
revisions, no history. Both run in the same process on the same server; the store is created
fresh for the run (on PostgreSQL the schema `public` of the given database is dropped first).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from govops.catalog.service import load_reference
from govops.db.engine import make_engine
from govops.db.migrate import upgrade
from govops.warehouse.service import ingest


def rows(n: int, provinces: list[str]) -> list[tuple[int, dict[str, object]]]:
    indicators = ["EXPORTS", "IMPORTS", "RETAIL_SALES", "ENT_NEW", "INTL_ARRIVALS"]
    out: list[tuple[int, dict[str, object]]] = []
    i = 0
    for year in range(1990, 2100):
        for month in range(1, 13):
            for ind in indicators:
                for area in provinces:
                    if i == n:
                        return out
                    i += 1
                    out.append(
                        (
                            i,
                            {
                                "indicator": ind,
                                "area": area,
                                "period": f"{year}-{month:02d}",
                                "value": 1000.0 + i % 997,
                                "status": "final",
                            },
                        )
                    )
    return out


def fresh(url: str) -> Engine:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    with Session(engine) as session, session.begin():
        load_reference(session=session)
    return engine


def baseline(engine: Engine, data: list[tuple[int, dict[str, object]]]) -> float:
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bare_observation"))
        conn.execute(
            text(
                "CREATE TABLE bare_observation (indicator VARCHAR(32), area VARCHAR(16), "
                "period VARCHAR(16), value DOUBLE PRECISION, status VARCHAR(16), "
                "UNIQUE (indicator, area, period))"
            )
        )
    tuples = [(r["indicator"], r["area"], r["period"], r["value"], r["status"]) for _, r in data]
    started = time.perf_counter()
    with engine.begin() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        if engine.dialect.name == "postgresql":
            with (
                raw.cursor() as cur,
                cur.copy(  # type: ignore[attr-defined]
                    "COPY bare_observation (indicator, area, period, value, status) FROM STDIN"
                ) as copy,
            ):
                for row in tuples:
                    copy.write_row(row)
        else:
            raw.cursor().executemany("INSERT INTO bare_observation VALUES (?, ?, ?, ?, ?)", tuples)
    return time.perf_counter() - started


def ours(engine: Engine, data: list[tuple[int, dict[str, object]]]) -> float:
    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        summary = ingest(session=session, rows=data, recorded_by="bench")
    assert summary.created == len(data), summary
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--url", default=None, help="default: a SQLite file in a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = fresh(url)
        with engine.connect() as conn:
            provinces = [
                r[0]
                for r in conn.execute(
                    text("SELECT code FROM area WHERE level = 'province' AND valid_to IS NULL ORDER BY code")
                )
            ]
        data = rows(args.rows, provinces)
        base = baseline(engine, data)
        mine = ours(engine, data)
        engine.dispose()
    n = len(data)
    print(f"database: {engine.dialect.name}; rows: {n}")
    print(
        f"baseline ({'COPY' if engine.dialect.name == 'postgresql' else 'executemany'}, no checks): "
        f"{base:.2f} s, {n / base:,.0f} rows/s"
    )
    print(f"govops ingest (checked, upsert, revisions): {mine:.2f} s, {n / mine:,.0f} rows/s")
    print(f"ratio govops / baseline time: {mine / base:.1f}x")


if __name__ == "__main__":
    main()
