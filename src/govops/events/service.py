"""Emitting domain events and reading them back, under the reader's rights.

Every domain writes its events here, in its own transaction (`emit` flushes, never commits), so an
event exists exactly when the change it reports does. Pull (`GET /api/v1/changes`), the event stream
and webhooks read them by id, so ids must become visible in order: a reader that has moved past id 100
must never later find a 99. On PostgreSQL ids are drawn before commit, so writers take one lock from
drawing their event ids to their commit: whoever draws later commits later. (Waiting instead for the
oldest running transaction would let any long transaction on the server, a backup or a big import,
stall the feed.) SQLite writers hold the database's write lock for the whole transaction anyway.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, event, func, or_, select
from sqlalchemy.orm import Session

from govops.db.base import utcnow
from govops.db.dialect import advisory_xact_lock, lock_key, notify
from govops.errors import GovopsError
from govops.events.models import DomainEvent, EventFollower
from govops.events.schemas import FLAT_KINDS

# Set on a session that wrote events, so that its commit can wake the readers in this process.
WROTE_EVENTS = "govops.wrote_change_events"
# Called (from the committing thread) after a commit that wrote events: the event stream, the webhook worker.
on_commit: list[Callable[[], None]] = []
# The PostgreSQL channel a writer's commit notifies, so that readers in other processes wake too.
CHANNEL = "govops_changes"
# pg_advisory_xact_lock key of the feed ("govfeed" in ASCII).
FEED_LOCK = 0x676F7666656564
# The keys every event carries when sent; a payload may not use them.
ENVELOPE = ("id", "topic", "type", "subject", "recorded_at")
# How many stored events one read looks through at most, so that a reader who may see few still moves on quickly.
SCAN_WINDOW = 50_000


@event.listens_for(Session, "after_commit")
def _wake_readers(session: Session) -> None:
    if session.info.pop(WROTE_EVENTS, False):
        for callback in list(on_commit):
            callback()


def announce(conn: Connection) -> None:
    """Queue a notification that PostgreSQL sends at commit; several in one transaction fold into one."""
    notify(conn, CHANNEL)


@dataclass(frozen=True)
class ReadRule:
    """Who may see an event: readers of `classification`, and of `indicator` and `agency` when given."""

    classification: str
    indicator: str | None = None
    agency: str | None = None


def begin_append(session: Session) -> None:
    """Take the feed's turn before drawing event ids; the caller then inserts its events and commits."""
    conn = session.connection()
    advisory_xact_lock(conn, FEED_LOCK)
    announce(conn)
    session.info[WROTE_EVENTS] = True


def check_payload(payload: Mapping[str, Any]) -> None:
    clash = sorted(set(payload) & set(ENVELOPE))
    if clash:
        raise GovopsError(
            f"an event's payload may not use the envelope's keys {clash}",
            code="invalid_event",
            hint=f"rename them; every event already carries {', '.join(ENVELOPE)}",
        )


def emit(
    *,
    session: Session,
    topic: str,
    type: str,
    subject: str,
    payload: Mapping[str, Any],
    rule: ReadRule,
    recorded_by: str | None = None,
    cause: str | None = None,
    now: datetime | None = None,
) -> DomainEvent:
    """Append one event in the caller's transaction (flushed, not committed)."""
    if not topic or not type or not subject:
        raise GovopsError("an event needs a topic, a type and a subject", code="invalid_event")
    check_payload(payload)
    begin_append(session)
    row = DomainEvent(
        topic=topic,
        type=type,
        subject=subject,
        payload=json.dumps(payload, ensure_ascii=False),
        recorded_at=now or utcnow(),
        recorded_by=recorded_by,
        cause=cause,
        read_classification=rule.classification,
        read_indicator=rule.indicator,
        read_agency=rule.agency,
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class Event:
    """A stored event as readers get it."""

    id: int
    topic: str
    type: str
    subject: str
    recorded_at: datetime
    payload: dict[str, Any]
    rule: ReadRule

    @classmethod
    def of(cls, row: DomainEvent) -> Event:
        return cls(
            id=row.id,
            topic=row.topic,
            type=row.type,
            subject=row.subject,
            recorded_at=row.recorded_at,
            payload=json.loads(row.payload),
            rule=ReadRule(row.read_classification, row.read_indicator, row.read_agency),
        )

    def as_json(self) -> dict[str, Any]:
        """What readers are sent: the envelope, then the payload (its keys beside the envelope's for the
        FLAT_KINDS, as one `payload` object for every other kind). The read rule stays here."""
        envelope = {
            "id": self.id,
            "topic": self.topic,
            "type": self.type,
            "subject": self.subject,
            "recorded_at": self.recorded_at.isoformat().replace("+00:00", "Z"),
        }
        if self.type in FLAT_KINDS:
            return envelope | self.payload
        return envelope | {"payload": self.payload}


@dataclass(frozen=True)
class Interest:
    """Which events a reader may and wants to see.

    `classifications`, `readable` (None: any indicator) and `agency` are the reader's rights; the rest narrow
    what it wants: indicators, areas (an event about a place, e.g. an observation's area), and topics, where
    an entry names a topic (`catalog`) or a type (`indicator.updated`). Empty narrows nothing.
    """

    classifications: frozenset[str]
    readable: frozenset[str] | None = None
    indicators: frozenset[str] = frozenset()
    areas: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    # The reader's agency (a member's), or any agency (signed-in staff, who read by role).
    agency: str | None = None
    any_agency: bool = False

    def wants(self, item: Event) -> bool:
        rule = item.rule
        return (
            rule.classification in self.classifications
            and (rule.indicator is None or self.readable is None or rule.indicator in self.readable)
            and (rule.agency is None or self.any_agency or rule.agency == self.agency)
            and (not self.topics or item.topic in self.topics or item.type in self.topics)
            and (not self.indicators or rule.indicator in self.indicators)
            and (not self.areas or item.payload.get("area") in self.areas)
        )

    def conditions(self) -> list[ColumnElement[bool]]:
        """The same rules (but areas, which live in the payload) as SQL on the outbox."""
        e = DomainEvent
        where: list[ColumnElement[bool]] = [e.read_classification.in_(sorted(self.classifications))]
        if self.readable is not None:
            where.append(or_(e.read_indicator.is_(None), e.read_indicator.in_(sorted(self.readable))))
        if not self.any_agency:
            mine: list[ColumnElement[bool]] = [e.read_agency.is_(None)]
            if self.agency is not None:
                mine.append(e.read_agency == self.agency)
            where.append(or_(*mine))
        if self.topics:
            where.append(or_(e.topic.in_(sorted(self.topics)), e.type.in_(sorted(self.topics))))
        if self.indicators:
            where.append(e.read_indicator.in_(sorted(self.indicators)))
        return where


def newest_id(*, session: Session, before: datetime | None = None) -> int:
    """The id of the newest event, or of the newest one recorded before `before` when given."""
    newest = select(func.max(DomainEvent.id))
    if before is not None:
        newest = newest.where(DomainEvent.recorded_at < before)
    return session.scalar(newest) or 0


def scan(*, session: Session, after_id: int, limit: int) -> list[Event]:
    """The next `limit` events after `after_id`, whoever may read them."""
    rows = session.scalars(
        select(DomainEvent).where(DomainEvent.id > after_id).order_by(DomainEvent.id).limit(limit)
    ).all()
    return [Event.of(row) for row in rows]


class EventPage(NamedTuple):
    """A page of events, the id to continue after, and whether it reached the newest event stored."""

    items: list[Event]
    after_id: int
    caught_up: bool


def read(*, session: Session, after_id: int, limit: int, interest: Interest) -> EventPage:
    """Up to `limit` events after `after_id` that `interest` wants, and the id to continue after.

    The rights and filters are applied in SQL over a window of at most SCAN_WINDOW stored events; the
    returned id moves past events filtered out too, so a reader never scans them again. The newest id is
    read first: every event up to it is already visible (see the module's note), so the window never
    skips one still being committed.
    """
    newest = newest_id(session=session)
    if newest <= after_id:
        return EventPage([], after_id, True)
    # The window is counted in stored events, not in ids: ids leave gaps (rolled-back writers drew them), and
    # a window of ids falling in one would answer an empty page though events follow it.
    edge = session.scalar(
        select(DomainEvent.id)
        .where(DomainEvent.id > after_id, DomainEvent.id <= newest)
        .order_by(DomainEvent.id)
        .offset(SCAN_WINDOW - 1)
        .limit(1)
    )
    upto = newest if edge is None else edge
    fetch = limit * 4 if interest.areas else limit
    rows = session.scalars(
        select(DomainEvent)
        .where(DomainEvent.id > after_id, DomainEvent.id <= upto, *interest.conditions())
        .order_by(DomainEvent.id)
        .limit(fetch)
    ).all()
    out: list[Event] = []
    last_id = after_id
    for row in rows:
        if len(out) == limit:
            return EventPage(out, last_id, False)
        item = Event.of(row)
        last_id = item.id
        if interest.wants(item):
            out.append(item)
    if len(rows) < fetch:
        return EventPage(out, upto, upto == newest)
    return EventPage(out, last_id, last_id == newest)


def topics_of(values: Iterable[str]) -> frozenset[str]:
    """Topic filters as given (repeated or comma-separated), blanks dropped."""
    return frozenset(t.strip() for v in values for t in v.split(",") if t.strip())


# --- followers: a domain's work on the events, after they are committed ------------------------------------


@dataclass(frozen=True)
class Follower:
    """A domain's work that acts on events after they are committed (compliance recomputed, values checked against
    their forecasts, targets' progress): its name (one cursor each), the events it reads (a topic, and of it only
    `types` when given) and where it starts the first time it runs: after the id `start` returns (by default the
    newest event: what was stored before it is taken as already handled)."""

    name: str
    topic: str
    types: frozenset[str] = frozenset()
    start: Callable[[Session], int] = field(default=lambda session: newest_id(session=session))

    def after(self, event_id: int) -> list[ColumnElement[bool]]:
        e = DomainEvent
        where = [e.topic == self.topic, e.id > event_id]
        if self.types:
            where.append(e.type.in_(sorted(self.types)))
        return where


def pending(*, session: Session, follower: Follower) -> bool:
    """Whether events arrived that `follower` has not read (a read, no lock: a worker woken by a commit that stored
    nothing it follows looks here before taking the follower's lock)."""
    cursor = session.get(EventFollower, follower.name, populate_existing=True)
    if cursor is None:
        return True  # not started: its first run sets its cursor
    found = session.scalar(select(DomainEvent.id).where(*follower.after(cursor.last_event_id)).limit(1))
    return found is not None


def follow(
    *,
    session: Session,
    follower: Follower,
    handle: Callable[[Session, Sequence[Event]], object],
    batch: int = 5000,
    now: datetime | None = None,
) -> int:
    """Hand the events after `follower`'s cursor to `handle`, `batch` at a time in id order, moving the cursor past
    each batch in the caller's transaction (flushed, not committed): the work and the cursor are committed together
    or not at all, and a failed run leaves the events to the next. Returns how many events were handed over.

    One run at a time per follower (a lock held to the end of the transaction): a second worker waits, then reads
    the cursor the first one committed, so no event is handled twice. None is skipped: ids become visible in order
    (see the module's note), so an event not yet committed when a batch is read gets an id above that batch's.
    """
    advisory_xact_lock(session, lock_key(f"govops.events.follow {follower.name}"))
    # Read again after the lock (not from the session's memory): the previous run's commit moved it.
    cursor = session.get(EventFollower, follower.name, populate_existing=True)
    if cursor is None:
        cursor = EventFollower(name=follower.name, last_event_id=follower.start(session), moved_at=now or utcnow())
        session.add(cursor)
        session.flush()
    handed = 0
    while True:
        rows = session.scalars(
            select(DomainEvent).where(*follower.after(cursor.last_event_id)).order_by(DomainEvent.id).limit(batch)
        ).all()
        if not rows:
            break
        handle(session, [Event.of(row) for row in rows])
        cursor.last_event_id = rows[-1].id
        cursor.moved_at = now or utcnow()
        handed += len(rows)
        if len(rows) < batch:
            break
    session.flush()
    return handed
