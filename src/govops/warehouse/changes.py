"""The change feed: every new or changed observation becomes an event, in the writer's own transaction.

Pull (`GET /api/v1/changes`), the event stream and webhooks all read these events by id, so ids
must become visible in order: a reader that has moved past id 100 must never later find a 99.
On PostgreSQL ids are drawn before commit, so writers take one lock from drawing their event ids
to their commit: whoever draws later commits later. (Waiting instead for the oldest running
transaction would let any long transaction on the server, a backup or a big import, stall the feed.)
SQLite writers hold the database's write lock for the whole transaction anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from govops.catalog.dimensions import parse_dim_key
from govops.catalog.models import Area, Indicator
from govops.db.dialect import advisory_xact_lock
from govops.warehouse import notify
from govops.warehouse.bulk import allocate_ids, insert_rows
from govops.warehouse.models import ChangeEvent, IndicatorState
from govops.warehouse.validation import ValidRow

# Set on a session that wrote events, so that its commit can wake the readers in this process.
WROTE_EVENTS = "govops.wrote_change_events"
# Called (from the committing thread) after a commit that wrote events: the event stream, the webhook worker.
on_commit: list[Callable[[], None]] = []


@event.listens_for(Session, "after_commit")
def _wake_readers(session: Session) -> None:
    if session.info.pop(WROTE_EVENTS, False):
        for callback in list(on_commit):
            callback()


# pg_advisory_xact_lock key of the feed ("govfeed" in ASCII).
FEED_LOCK = 0x676F7666656564
_COLUMNS = (
    "id", "indicator_id", "seq", "observation_id", "area_id", "period", "dim_key", "value", "status",
    "version", "recorded_at", "recorded_by", "submission_id",
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
    advisory_xact_lock(conn, FEED_LOCK)
    notify.announce(conn)
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
             w.version, now, recorded_by, submission_id)
        )  # fmt: skip
    insert_rows(session, ChangeEvent.__table__, _COLUMNS, rows)  # type: ignore[arg-type]
    session.info[WROTE_EVENTS] = True
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
    classification: str
    area: str
    period: str
    dims: dict[str, str]
    value: float
    status: str
    version: int
    recorded_at: datetime
    submission: str | None


@dataclass(frozen=True)
class Interest:
    """Which events a reader may and wants to see."""

    classifications: frozenset[str]
    readable: frozenset[str] | None = None  # None: any indicator of those classifications
    indicators: frozenset[str] = frozenset()  # empty: all
    areas: frozenset[str] = frozenset()  # empty: all

    def wants(self, event: Event) -> bool:
        return (
            event.classification in self.classifications
            and (self.readable is None or event.indicator in self.readable)
            and (not self.indicators or event.indicator in self.indicators)
            and (not self.areas or event.area in self.areas)
        )


def scan(*, session: Session, after_id: int, limit: int) -> list[Event]:
    """The next `limit` events after `after_id`, whoever may read them."""
    rows = session.execute(
        select(ChangeEvent, Indicator.code, Indicator.classification, Area.code)
        .join(Indicator, Indicator.id == ChangeEvent.indicator_id)
        .join(Area, Area.id == ChangeEvent.area_id)
        .where(ChangeEvent.id > after_id)
        .order_by(ChangeEvent.id)
        .limit(limit)
    ).all()
    return [
        Event(
            id=event.id,
            topic=ind_code,
            seq=event.seq,
            indicator=ind_code,
            classification=classification,
            area=area_code,
            period=event.period,
            dims=parse_dim_key(event.dim_key),
            value=event.value,
            status=event.status,
            version=event.version,
            recorded_at=event.recorded_at,
            submission=event.submission_id,
        )
        for event, ind_code, classification, area_code in rows
    ]


def read(*, session: Session, after_id: int, limit: int, interest: Interest) -> tuple[list[Event], int]:
    """Up to `limit` events after `after_id` that `interest` wants, and the id to continue after.

    The returned id moves past events filtered out too, so a reader never scans them again.
    """
    scanned = scan(session=session, after_id=after_id, limit=limit * 4)
    out: list[Event] = []
    last_id = after_id
    for item in scanned:
        if len(out) == limit:
            break
        last_id = item.id
        if interest.wants(item):
            out.append(item)
    return out, last_id
