"""Build a store of about ten million observations for the page and series benches.

    .venv/bin/python bench/build_store.py [--url sqlite:///var/bench10m.db] [--target 10000000]

It starts from the demo store (reference data, users, about 233,000 made-up observations from
2015 to last month) and moves the monthly area-sum indicators down to ward level, as if every one
of the 3,321 wards had reported since 2015: each province's demo value is shared out among its
wards with fixed made-up weights, and the province and national rows of those indicators are
removed, so that every provincial and national figure of them is a roll-up of ward data. The
ward rows are bulk-loaded (COPY on PostgreSQL) with a first revision each, then the roll-ups are
computed as a write would. The data is made up; only its shape and size matter here.
On PostgreSQL the schema `public` of the given database is dropped first.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from govops.catalog.models import Area, Indicator
from govops.catalog.service import load_reference
from govops.db.base import utcnow
from govops.db.engine import make_engine, transaction
from govops.db.migrate import upgrade
from govops.demo.loader import ensure_demo_users, load_demo
from govops.events.models import DomainEvent
from govops.warehouse.bulk import allocate_ids, insert_rows
from govops.warehouse.changes import TYPE
from govops.warehouse.models import Observation, ObservationRevision
from govops.warehouse.rollup import rebuild

_OBSERVATION = (
    "id", "indicator_id", "area_id", "period", "period_start", "dim_key",
    "value", "status", "source_agency_id", "version", "updated_at",
)  # fmt: skip
_REVISION = ("observation_id", "version", "value", "status", "source_agency_id", "recorded_at", "recorded_by")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="sqlite:///var/bench10m.db")
    parser.add_argument("--target", type=int, default=10_000_000)
    args = parser.parse_args()
    started = time.perf_counter()
    engine = make_engine(args.url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    else:
        path = Path(engine.url.database or "")
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
    upgrade(engine)
    with transaction(engine) as session:
        load_reference(session=session)
        load_demo(session=session)
        ensure_demo_users(session=session)
    print(f"demo store ready in {time.perf_counter() - started:.0f} s")

    with Session(engine) as session:
        total = session.scalar(select(func.count()).select_from(Observation)) or 0
        provinces = dict(
            session.execute(select(Area.id, Area.code).where(Area.level == "province", Area.valid_to.is_(None))).all()
        )
        wards: dict[int, list[int]] = defaultdict(list)
        for ward_id, parent_id in session.execute(select(Area.id, Area.parent_id).where(Area.level == "ward")):
            wards[parent_id].append(ward_id)
        candidates = _ward_level_candidates(session, set(provinces))
    rng = random.Random(20251)
    shares = {p: _shares(rng, len(wards[p])) for p in provinces}
    for code, indicator_id in candidates:
        if total >= args.target:
            break
        with transaction(engine) as session:
            total += _move_to_wards(session, indicator_id, provinces, wards, shares)
            points = rebuild(session=session, indicator_id=indicator_id)
        print(f"{code:28s} at ward level, {points:,} roll-up points; store holds {total:,} observations")
    if engine.dialect.name == "postgresql":
        # As autovacuum would in time: the planner needs statistics of the freshly loaded tables.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    print(f"{total:,} observations in {time.perf_counter() - started:.0f} s")


def _ward_level_candidates(session: Session, provinces: set[int]) -> list[tuple[str, int]]:
    """Monthly area-sum indicators reported by the 34 current provinces for every month."""
    o = Observation
    counts = (
        select(Indicator.code, Indicator.id, func.count())
        .join(o, o.indicator_id == Indicator.id)
        .where(
            Indicator.periodicity == "M",
            Indicator.area_aggregation == "sum",
            Indicator.formula.is_(None),
            o.area_id.in_(provinces),
        )
        .group_by(Indicator.code, Indicator.id)
    )
    rows = session.execute(counts).all()
    most = max(n for _, _, n in rows)
    return [(code, ind_id) for code, ind_id, n in sorted(rows) if n == most]


def _shares(rng: random.Random, count: int) -> list[float]:
    weights = [rng.lognormvariate(0, 0.8) for _ in range(count)]
    total = sum(weights)
    return [w / total for w in weights]


def _move_to_wards(
    session: Session,
    indicator_id: int,
    provinces: dict[int, str],
    wards: dict[int, list[int]],
    shares: dict[int, list[float]],
) -> int:
    o = Observation
    rows = session.execute(
        select(o.area_id, o.period, o.period_start, o.dim_key, o.value, o.status, o.source_agency_id).where(
            o.indicator_id == indicator_id, o.area_id.in_(provinces)
        )
    ).all()
    old = select(o.id).where(o.indicator_id == indicator_id)
    code = select(Indicator.code).where(Indicator.id == indicator_id).scalar_subquery()
    session.execute(delete(DomainEvent).where(DomainEvent.type == TYPE, DomainEvent.read_indicator == code))
    session.execute(delete(ObservationRevision).where(ObservationRevision.observation_id.in_(old)))
    removed = session.execute(delete(o).where(o.indicator_id == indicator_id)).rowcount  # type: ignore[attr-defined]
    now = utcnow()
    ward_rows = [
        (ward_id, period, start, key, round(value * share, 3), status, source)
        for province_id, period, start, key, value, status, source in rows
        for ward_id, share in zip(wards[province_id], shares[province_id], strict=True)
    ]
    ids = allocate_ids(session, o.__table__, len(ward_rows))  # type: ignore[arg-type]
    insert_rows(
        session,
        o.__table__,  # type: ignore[arg-type]
        _OBSERVATION,
        (
            (i, indicator_id, a, p, s, k, v, st, src, 1, now)
            for i, (a, p, s, k, v, st, src) in zip(ids, ward_rows, strict=True)
        ),
    )
    insert_rows(
        session,
        ObservationRevision.__table__,  # type: ignore[arg-type]
        _REVISION,
        ((i, 1, v, st, src, now, "bench") for i, (_a, _p, _s, _k, v, st, src) in zip(ids, ward_rows, strict=True)),
    )
    return len(ward_rows) - int(removed)


if __name__ == "__main__":
    main()
