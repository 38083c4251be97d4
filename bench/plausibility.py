"""What the plausibility warnings (negative counts, values far from their history) cost an accepted batch.

    .venv/bin/python bench/plausibility.py [--years 10] [--revise 12] [--repeat 7] [--url postgresql+psycopg://...]

A store holds `--years` of monthly history of five indicators for the nation and the 34 provinces; then a batch
revising the last `--revise` months of all of them is checked (accept, dry run: no write, so every run sees the same
store) with the warehouse's rules registered and, side by side in the same process, without them. Prints the median
time of each and their ratio. The store is created fresh (on PostgreSQL the schema `public` is dropped first).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from govops.catalog.models import Area
from govops.catalog.service import load_reference
from govops.db.engine import make_engine
from govops.db.migrate import upgrade
from govops.periods import Period
from govops.warehouse import accept

INDICATORS = ("EXPORTS", "IMPORTS", "RETAIL_SALES", "ENT_NEW", "INTL_ARRIVALS")
OWN_RULES = ("warehouse.negative_value", "warehouse.far_from_history")


def _rows(areas: list[str], first: Period, months: int, bump: float) -> list[tuple[int, dict[str, object]]]:
    out: list[tuple[int, dict[str, object]]] = []
    for code in INDICATORS:
        for area in areas:
            for step in range(months):
                value = 1000.0 + (hash((code, area)) % 500) + step * 3 + (step % 12) * 20 + bump
                out.append(
                    (len(out) + 1, {"indicator": code, "area": area, "period": str(first + step), "value": value})
                )
    return out


def _time(session: Session, batch: list[tuple[int, dict[str, object]]], with_rules: bool) -> float:
    saved = {rule.name: rule for rule in accept.registered_rules() if rule.name in OWN_RULES}
    if not with_rules:
        for name in saved:
            accept.unregister_rule(name)
    try:
        start = time.perf_counter()
        outcome = accept.accept(session=session, rows=batch, recorded_by="bench", dry_run=True)
        took = time.perf_counter() - start
        assert not outcome.problems, outcome.problems[:3]
        return took
    finally:
        for name, rule in saved.items():
            accept.register_rule(name, rule.check, blocking=rule.blocking)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--revise", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = make_engine(url)
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade(engine)
        with Session(engine) as session, session.begin():
            load_reference(session=session)
        months = args.years * 12
        first = Period.parse("2016-01")
        with Session(engine) as session:
            with session.begin():
                current = Area.valid_to.is_(None), Area.level.in_(("nation", "province"))
                areas = list(session.scalars(select(Area.code).where(*current)))
                accept.ingest(session=session, rows=_rows(areas, first, months, 0.0), recorded_by="bench")
            batch = _rows(areas, first + (months - args.revise), args.revise, 15.0)
            with session.begin():
                _time(session, batch, True)  # warm: the catalogue and the area tree in memory
                timings: dict[bool, list[float]] = {True: [], False: []}
                for _ in range(args.repeat):
                    for with_rules in (False, True):
                        timings[with_rules].append(_time(session, batch, with_rules))
        engine.dispose()
    bare, ruled = statistics.median(timings[False]), statistics.median(timings[True])
    print(f"{engine.dialect.name}: {len(batch):,} rows checked against {months} months of history per series")
    print(f"  without the plausibility rules: {bare * 1000:8.1f} ms (median of {args.repeat})")
    print(f"  with them:                      {ruled * 1000:8.1f} ms")
    print(f"  ratio: {ruled / bare:.2f}x")


if __name__ == "__main__":
    main()
