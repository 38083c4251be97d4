"""Ingest throughput: govops' accept pipeline against raw bulk loads of the same rows.

    .venv/bin/python bench/ingest.py [--rows 100000] [--url postgresql+psycopg://postgres@127.0.0.1:5432/bench]

Two baselines, each the fastest way the database takes rows (binary COPY on PostgreSQL, one
executemany on SQLite, through `govops.db.dialect.copy_rows` as govops itself writes):
- one table: the bare rows into a table with the same columns and unique key, nothing else;
- three tables: the rows govops must write for them, already resolved to ids (an observation,
  its first revision and its change event), into the store's own tables with their keys,
  indexes and foreign keys; emptied again afterwards.
Then govops accepts the same rows: parsed rows checked against the catalogue, rules, upsert,
revisions, events, roll-ups. All run in the same process on the same server; the store is created
fresh for the run (on PostgreSQL the schema `public` of the given database is dropped first).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, MetaData, Table, text
from sqlalchemy.orm import Session

from govops.catalog.service import load_reference
from govops.db.base import utcnow
from govops.db.dialect import copy_rows, reserve_ids
from govops.db.engine import make_engine
from govops.db.migrate import upgrade
from govops.events.models import DomainEvent
from govops.periods import Period
from govops.warehouse.accept import ingest
from govops.warehouse.models import Observation, ObservationRevision


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
    bare = Table("bare_observation", MetaData(), autoload_with=engine)
    tuples = [(r["indicator"], r["area"], r["period"], r["value"], r["status"]) for _, r in data]
    started = time.perf_counter()
    with engine.begin() as conn:
        copy_rows(conn, bare, ("indicator", "area", "period", "value", "status"), tuples)
    return time.perf_counter() - started


def baseline_three_tables(engine: Engine, data: list[tuple[int, dict[str, object]]]) -> float:
    """The rows govops must write, resolved to ids beforehand (not timed), copied into its three tables."""
    o, r, e = (model.__table__ for model in (Observation, ObservationRevision, DomainEvent))
    with engine.connect() as conn:
        indicators = dict(conn.execute(text("SELECT code, id FROM indicator")).all())
        classes = dict(conn.execute(text("SELECT id, classification FROM indicator")).all())
        areas = dict(conn.execute(text("SELECT code, id FROM area")).all())
        owners = dict(conn.execute(text("SELECT code, owner_id FROM indicator")).all())
    now = utcnow()
    resolved = []
    for _, row in data:
        period = Period.parse(str(row["period"]))
        resolved.append(
            (indicators[row["indicator"]], areas[row["area"]], str(period), period.start, row["value"], row["status"],
             owners[row["indicator"]])
        )  # fmt: skip
    # The events' text (subject, payload) is made beforehand too: the baseline times the writing alone.
    seqs: dict[int, int] = {}
    prepared_events = []
    for _, row in data:
        ind = indicators[row["indicator"]]
        seqs[ind] = seq = seqs.get(ind, 0) + 1
        payload = {
            "indicator": row["indicator"], "seq": seq, "area": row["area"], "period": str(row["period"]), "dims": {},
            "value": row["value"], "status": row["status"], "version": 1, "submission": None,
        }  # fmt: skip
        prepared_events.append(
            (f"{row['indicator']}/{row['area']}/{row['period']}", json.dumps(payload, ensure_ascii=False),
             classes[ind], row["indicator"])
        )  # fmt: skip
    started = time.perf_counter()
    with engine.begin() as conn:
        ids = reserve_ids(conn, o, len(resolved))  # type: ignore[arg-type]
        copy_rows(
            conn, o,  # type: ignore[arg-type]
            ("id", "indicator_id", "area_id", "period", "period_start", "dim_key", "value", "status",
             "source_agency_id", "version", "updated_at"),
            ((i, ind, area, per, start, "", v, st, src, 1, now)
             for i, (ind, area, per, start, v, st, src) in zip(ids, resolved, strict=True)),
        )  # fmt: skip
        copy_rows(
            conn, r,  # type: ignore[arg-type]
            ("observation_id", "version", "value", "status", "source_agency_id", "recorded_at", "recorded_by"),
            ((i, 1, v, st, src, now, "bench") for i, (_, _, _, _, v, st, src) in zip(ids, resolved, strict=True)),
        )  # fmt: skip
        event_ids = reserve_ids(conn, e, len(resolved))  # type: ignore[arg-type]
        copy_rows(
            conn, e,  # type: ignore[arg-type]
            ("id", "topic", "type", "subject", "payload", "recorded_at", "recorded_by", "cause",
             "read_classification", "read_indicator", "read_agency"),
            ((event_id, "observations", "observation.changed", subject, payload, now, "bench", None, cls, code, None)
             for event_id, (subject, payload, cls, code) in zip(event_ids, prepared_events, strict=True)),
        )  # fmt: skip
    elapsed = time.perf_counter() - started
    with engine.begin() as conn:
        for table in ("domain_event", "observation_revision", "observation"):
            conn.execute(text(f"DELETE FROM {table}"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE domain_event, observation_revision, observation"))
    return elapsed


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
        three = baseline_three_tables(engine, data)
        mine = ours(engine, data)
        engine.dispose()
    n = len(data)
    print(f"database: {engine.dialect.name}; rows: {n}")
    how = "binary COPY" if engine.dialect.name == "postgresql" else "executemany"
    print(f"baseline, one table ({how}, no checks): {base:.2f} s, {n / base:,.0f} rows/s")
    print(
        f"baseline, three tables ({how} of observation, revision and event rows, ids resolved beforehand): "
        f"{three:.2f} s, {n / three:,.0f} rows/s"
    )
    print(
        f"govops accept (parsed rows checked, rules, upsert, revisions, events, roll-ups): "
        f"{mine:.2f} s, {n / mine:,.0f} rows/s"
    )
    print(f"govops throughput as a share of the three-table baseline: {three / mine:.1%}")
    print(f"govops throughput as a share of the one-table baseline: {base / mine:.1%}")


if __name__ == "__main__":
    main()
