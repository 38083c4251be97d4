"""The change feed: every new or changed observation becomes an event, in the writer's own transaction.

Pull (`GET /api/v1/changes`), the event stream and webhooks all read these events by id. On
PostgreSQL ids are taken before commit, so a transaction that started earlier may still commit
events with smaller ids than one already visible; readers therefore stop short of the oldest
transaction still running (its `txid`), and never hand out an id that something could still
appear below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select, text, update
from sqlalchemy.orm import Session

from govops.catalog.models import Area, Indicator
from govops.warehouse.bulk import allocate_ids, insert_rows
from govops.warehouse.models import ChangeEvent, IndicatorState
from govops.warehouse.validation import ValidRow, parse_dim_key

_COLUMNS = (
    "id", "indicator_id", "seq", "observation_id", "area_id", "period", "dim_key", "value", "status",
    "version", "recorded_at", "recorded_by", "submission_id", "txid",
)  # fmt: skip


@dataclass(frozen=True)
class Written:
    observation_id: int
    row: ValidRow
    version: int


def record(
    *,
    session: Session,
    written: Sequence[Written],
    now: datetime,
    recorded_by: str | None,
    submission_id: str | None = None,
) -> int:
    """Append one event per written observation; the caller already holds each indicator's state row lock."""
    if not written:
        return 0
    conn = session.connection()
    txid = (
        conn.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one()
        if conn.dialect.name == "postgresql"
        else None
    )
    indicator_ids = sorted({w.row.indicator_id for w in written})
    last = dict(
        session.execute(
            select(IndicatorState.indicator_id, IndicatorState.last_change_seq).where(
                IndicatorState.indicator_id.in_(indicator_ids)
            )
        ).all()
    )
    ids = allocate_ids(session, ChangeEvent.__table__, len(written))  # type: ignore[arg-type]
    rows = []
    for event_id, w in zip(ids, written, strict=True):
        seq = last[w.row.indicator_id] = last[w.row.indicator_id] + 1
        r = w.row
        rows.append(
            (event_id, r.indicator_id, seq, w.observation_id, r.area_id, r.period, r.dim_key, r.value, r.status,
             w.version, now, recorded_by, submission_id, txid)
        )  # fmt: skip
    insert_rows(session, ChangeEvent.__table__, _COLUMNS, rows)  # type: ignore[arg-type]
    session.execute(
        update(IndicatorState),
        [{"indicator_id": i, "last_change_seq": seq} for i, seq in last.items()],
    )
    return len(rows)


@dataclass(frozen=True)
class Event:
    id: int
    topic: str
    seq: int
    indicator: str
    area: str
    period: str
    dims: dict[str, str]
    value: float
    status: str
    version: int
    recorded_at: datetime
    submission: str | None


def _query(after_id: int) -> Select[ChangeEvent, str, str]:
    return (
        select(ChangeEvent, Indicator.code, Area.code)
        .join(Indicator, Indicator.id == ChangeEvent.indicator_id)
        .join(Area, Area.id == ChangeEvent.area_id)
        .where(ChangeEvent.id > after_id)
        .order_by(ChangeEvent.id)
    )


def read(
    *,
    session: Session,
    after_id: int,
    limit: int,
    classifications: Sequence[str],
    indicators: Sequence[str] = (),
    areas: Sequence[str] = (),
) -> tuple[list[Event], int]:
    """Events after `after_id` that the reader may see, and the id to continue after.

    The returned id moves past events filtered out too, so a reader never scans them again; it
    never moves past the visibility horizon.
    """
    stmt = _query(after_id)
    horizon = _horizon(session)
    if horizon is not None:
        oldest_running, own = horizon
        stmt = stmt.where((ChangeEvent.txid < oldest_running) | ChangeEvent.txid.is_(None) | (ChangeEvent.txid == own))
    scanned = session.execute(stmt.limit(limit * 4)).all()
    out: list[Event] = []
    last_id = after_id
    wanted_ind, wanted_area = set(indicators), set(areas)
    allowed = set(classifications)
    classification = dict(session.execute(select(Indicator.code, Indicator.classification)).all())
    for event, ind_code, area_code in scanned:
        if len(out) == limit:
            break
        last_id = event.id
        if classification.get(ind_code) not in allowed:
            continue
        if (wanted_ind and ind_code not in wanted_ind) or (wanted_area and area_code not in wanted_area):
            continue
        out.append(
            Event(
                id=event.id,
                topic=ind_code,
                seq=event.seq,
                indicator=ind_code,
                area=area_code,
                period=event.period,
                dims=parse_dim_key(event.dim_key),
                value=event.value,
                status=event.status,
                version=event.version,
                recorded_at=event.recorded_at,
                submission=event.submission_id,
            )
        )
    return out, last_id


def _horizon(session: Session) -> tuple[int, int | None] | None:
    """PostgreSQL: the oldest transaction id still running (events of it and later ones wait) and our own."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return None  # SQLite writers commit one at a time, in id order
    oldest, own = conn.execute(
        text(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint,"
            " pg_current_xact_id_if_assigned()::text::bigint"
        )
    ).one()
    return int(oldest), own
