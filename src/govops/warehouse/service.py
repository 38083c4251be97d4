"""Writing and reading observations. Functions flush, never commit: the caller owns the transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from govops.catalog.dimensions import parse_dim_key
from govops.catalog.models import Agency, Area, Indicator
from govops.db.base import utcnow
from govops.paging import Page, make_page
from govops.warehouse import changes, rollup
from govops.warehouse.bulk import allocate_ids, insert_rows
from govops.warehouse.filters import ObservationFilter
from govops.warehouse.models import Observation, ObservationRevision
from govops.warehouse.schemas import ObservationOut, WriteSummary
from govops.warehouse.validation import CatalogIndex, ValidRow

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[tuple[T, ...]]:
    it = iter(items)
    while chunk := tuple(islice(it, size)):
        yield chunk


# Both dialects accept this many bound parameters in one IN list with room to spare.
_CHUNK = 500


def write_observations(
    *,
    session: Session,
    rows: Sequence[ValidRow],
    recorded_by: str | None = None,
    now: datetime | None = None,
    submission_id: str | None = None,
    index: CatalogIndex | None = None,
) -> WriteSummary:
    """Upsert checked rows; each new or changed value also becomes a revision and a change event stamped `now`.

    `index`: the catalogue the rows were checked against, if at hand (the events name their codes from it).
    """
    now = now or utcnow()
    summary = WriteSummary(received=len(rows), recorded_at=now)
    existing = stored_values(session=session, rows=rows)
    new_rows: list[ValidRow] = []
    updates: list[dict[str, Any]] = []
    revisions: list[dict[str, Any]] = []
    touched: list[tuple[int, str, str]] = []
    # Events in the order of the rows: a changed value's event now, a new one's (None) once its id is drawn.
    written: list[changes.Written | None] = []
    for row in rows:
        found = existing.get((row.indicator_id, row.area_id, row.period, row.dim_key))
        if found is None:
            new_rows.append(row)
            written.append(None)
            touched.append((row.indicator_id, row.dim_key, row.period))
            continue
        obs_id, value, status, source, version = found
        if value == row.value and status == row.status and source == row.source_agency_id:
            summary.unchanged += 1
            continue
        touched.append((row.indicator_id, row.dim_key, row.period))
        written.append(changes.Written(obs_id, row, version + 1))
        updates.append(
            {
                "id": obs_id,
                "value": row.value,
                "status": row.status,
                "source_agency_id": row.source_agency_id,
                "version": version + 1,
                "updated_at": now,
            }
        )
        revisions.append(
            {
                "observation_id": obs_id,
                "version": version + 1,
                "value": row.value,
                "status": row.status,
                "source_agency_id": row.source_agency_id,
            }
        )
    if updates:
        session.execute(update(Observation), updates)
        summary.updated = len(updates)
    ids = allocate_ids(session, Observation.metadata.tables["observation"], len(new_rows))
    insert_rows(
        session,
        Observation.metadata.tables["observation"],
        (
            "id",
            "indicator_id",
            "area_id",
            "period",
            "period_start",
            "dim_key",
            "value",
            "status",
            "source_agency_id",
            "version",
            "updated_at",
        ),
        (
            (
                obs_id,
                r.indicator_id,
                r.area_id,
                r.period,
                r.period_start,
                r.dim_key,
                r.value,
                r.status,
                r.source_agency_id,
                1,
                now,
            )
            for obs_id, r in zip(ids, new_rows, strict=True)
        ),
    )
    summary.created = len(new_rows)
    insert_rows(
        session,
        ObservationRevision.metadata.tables["observation_revision"],
        ("observation_id", "version", "value", "status", "source_agency_id", "recorded_at", "recorded_by"),
        [
            (r["observation_id"], r["version"], r["value"], r["status"], r["source_agency_id"], now, recorded_by)
            for r in revisions
        ]
        + [
            (obs_id, 1, r.value, r.status, r.source_agency_id, now, recorded_by)
            for obs_id, r in zip(ids, new_rows, strict=True)
        ],
    )
    rollup.refresh(session=session, touched=rollup.touched_by(touched))
    created = iter([changes.Written(obs_id, r, 1) for obs_id, r in zip(ids, new_rows, strict=True)])
    in_order = [w if w is not None else next(created) for w in written]
    changes.record(
        session=session, written=in_order, now=now, recorded_by=recorded_by, submission_id=submission_id, index=index
    )
    session.flush()
    return summary


StoredValue = tuple[int, float, str, int | None, int]  # id, value, status, source agency, version


def stored_values(*, session: Session, rows: Sequence[ValidRow]) -> dict[tuple[int, int, str, str], StoredValue]:
    """What the store holds now under each row's key (indicator, area, period, dimension key), for the rows that
    have a value stored: what `write_observations` compares them with."""
    by_indicator: dict[int, tuple[set[int], set[str]]] = defaultdict(lambda: (set(), set()))
    for row in rows:
        areas, periods = by_indicator[row.indicator_id]
        areas.add(row.area_id)
        periods.add(row.period)
    found: dict[tuple[int, int, str, str], StoredValue] = {}
    o = Observation
    for indicator_id, (areas, periods) in by_indicator.items():
        if session.scalar(select(o.id).where(o.indicator_id == indicator_id).limit(1)) is None:
            continue
        for area_chunk in batched(sorted(areas), _CHUNK):
            for period_chunk in batched(sorted(periods), _CHUNK):
                stmt = select(
                    o.id, o.area_id, o.period, o.dim_key, o.value, o.status, o.source_agency_id, o.version
                ).where(o.indicator_id == indicator_id, o.area_id.in_(area_chunk), o.period.in_(period_chunk))
                for obs_id, area_id, period, key, value, status, source, version in session.execute(stmt):
                    found[(indicator_id, area_id, period, key)] = (obs_id, value, status, source, version)
    return found


def list_observations(
    *,
    session: Session,
    where: ObservationFilter = ObservationFilter(),  # noqa: B008  (frozen: one shared empty filter is safe)
    as_of: datetime | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> Page[ObservationOut]:
    """Observations in id order, filtered; with `as_of`, the values as they stood at that moment."""
    o = Observation
    if as_of is None:
        # The two shapes differ in their column types; both are filtered the same way below.
        stmt: Any = select(
            o.id,
            o.indicator_id,
            o.area_id,
            o.period,
            o.dim_key,
            o.value,
            o.status,
            o.source_agency_id,
            o.version,
            o.updated_at,
        )
    else:
        r = ObservationRevision
        history = select(r.observation_id, func.max(r.version).label("version")).where(r.recorded_at <= as_of)
        if (only := where.single_indicator) is not None:
            # Only this indicator's history: the revision table is the largest in the store.
            history = history.join(o, o.id == r.observation_id).where(o.indicator_id == only)
        latest = history.group_by(r.observation_id).subquery()
        stmt = (
            select(
                o.id,
                o.indicator_id,
                o.area_id,
                o.period,
                o.dim_key,
                r.value,
                r.status,
                r.source_agency_id,
                r.version,
                r.recorded_at,
            )
            .join(latest, latest.c.observation_id == o.id)
            .join(r, (r.observation_id == o.id) & (r.version == latest.c.version))
        )
    stmt = stmt.where(o.id > after_id, where.as_sql_filter()).order_by(o.id).limit(limit + 1)
    rows = session.execute(stmt).all()
    indicators = dict(session.execute(select(Indicator.id, Indicator.code)).all())
    area_ids = {row[2] for row in rows}
    area_codes = dict(session.execute(select(Area.id, Area.code).where(Area.id.in_(area_ids))).all()) if rows else {}
    agencies = dict(session.execute(select(Agency.id, Agency.code)).all())
    return make_page(
        rows,
        limit=limit,
        key=lambda row: int(row[0]),
        out=lambda row: ObservationOut(
            indicator=indicators[row[1]],
            area=area_codes[row[2]],
            period=row[3],
            dims=parse_dim_key(row[4]),
            value=row[5],
            status=row[6],
            source=agencies.get(row[7]) if row[7] else None,
            version=row[8],
            updated_at=row[9],
        ),
    )
