"""The nightly scan's time per million observations, on a store `bench/build_store.py` built (ward-level data).

    .venv/bin/python bench/build_store.py --url sqlite:///var/bench2m.db --target 2000000
    .venv/bin/python bench/quality.py --series 0 --scan sqlite:///var/bench2m.db

The store is read as it is (its rules loaded first from the demo rule set); the scan judges every series' last two
years against all its history and every rule, as the worker's `quality.nightly-scan` does, in a transaction that is
rolled back (the flags it would raise are counted, not kept). Beside it, the same rows read and split into series
without judging them: what the reading alone costs. The scan's CPU time in this process is printed too: on a shared
machine it varies less than the wall clock (on PostgreSQL it leaves out the server's own work).
"""

from __future__ import annotations

import time
from importlib.resources import files

from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.db.engine import make_engine
from govops.quality import service
from govops.quality.facts import indicator_facts
from govops.warehouse.models import Observation


def time_scan(url: str) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        started = time.perf_counter()
        read = 0
        for indicator in indicator_facts(session).values():
            stmt = (
                select(Observation.area_id, Observation.dim_key, Observation.period, Observation.value)
                .where(Observation.indicator_id == indicator.id)
                .order_by(Observation.area_id, Observation.dim_key, Observation.period_start)
            )
            read += sum(1 for _ in session.execute(stmt))
        reading = time.perf_counter() - started
    with Session(engine) as session:
        text = files("govops.quality").joinpath("demo_rules.yaml").read_text(encoding="utf-8")
        service.import_rules(session=session, text=text, where="demo_rules.yaml", by="bench")
        started, cpu = time.perf_counter(), time.process_time()
        result = service.scan(session=session)
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        session.rollback()
    engine.dispose()
    millions = result.observations / 1e6
    print(f"\nNightly scan of {result.observations:,} observations in {result.series:,} series ({engine.dialect.name})")
    print(f"  scan:           {took:8.1f} s  = {took / millions:6.1f} s per million observations")
    # The time this process spent computing: steadier than the wall clock on a machine other work shares.
    print(f"  scan, CPU:      {cpu:8.1f} s  = {cpu / millions:6.1f} s per million (this process)")
    print(f"  reading alone:  {reading:8.1f} s  = {reading / (read / 1e6):6.1f} s per million ({read:,} rows)")
    print(f"  findings {result.found:,}, flags it would raise {result.raised:,}")
