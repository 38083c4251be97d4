"""Server-Sent Events: change events pushed to every connected reader, resumable with Last-Event-ID.

One poller per process reads new events once and fans them out to the subscribers' queues, so a
thousand connections cost one query per tick, not a thousand. Subscribers are grouped by interest
(grants, clearance, filters): each new event is checked once per group, not once per connection,
and formatted (as the bytes sent) once for all. A commit in this process wakes the poller at once,
and so does one in another process on PostgreSQL (LISTEN/NOTIFY, see notify); otherwise events are
seen at the next tick. The poller also sends the keepalives, one pass every KEEPALIVE_SECONDS,
so that waiting for the next event costs a subscriber no timer of its own. A subscriber that falls
too far behind is let go with a `retry` hint; it reconnects with Last-Event-ID and catches up from
the store, so nothing is lost.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from contextlib import suppress

import structlog
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool
from starlette.concurrency import run_in_threadpool

from govops.events.service import EventPage, newest_id
from govops.warehouse import changes
from govops.warehouse.changes import Event, Interest
from govops.warehouse.notify import CommitListener

log = structlog.get_logger(__name__)

KEEPALIVE_SECONDS = 15.0
_BATCH = 1000
# The id a keepalive travels under in a subscriber's queue: sent whatever the stream has sent before.
_KEEPALIVE_ID = -1
_KEEPALIVE = b": keepalive\n\n"


class Subscriber:
    def __init__(self, interest: Interest, size: int) -> None:
        self.interest = interest
        # Each event with its bytes, formatted once for all subscribers.
        self.queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue(maxsize=size)
        self.dropped = False


class ChangeHub:
    def __init__(self, engine: Engine, *, tick: float = 0.1, queue_size: int = 10_000) -> None:
        self.engine, self.tick, self.queue_size = engine, tick, queue_size
        # Subscribers by interest: those with the same rights and filters want the same events.
        self.groups: dict[Interest, set[Subscriber]] = {}
        self.last_id = 0
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._task: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()
        self._listener: CommitListener | None = None
        # Streams resuming with Last-Event-ID read their backlog from the store: a burst of them takes
        # turns on part of the pool (the other queue) instead of failing for want of a connection.
        size = engine.pool.size() if isinstance(engine.pool, QueuePool) else 4
        self._catch_up_turns = threading.BoundedSemaphore(max(1, size // 2))

    async def ensure_started(self) -> None:
        """Start polling with the first subscriber: a server nobody streams from reads nothing."""
        async with self._starting:
            if self._task is None:
                self.last_id = await run_in_threadpool(self._newest_id)
                self._task = asyncio.create_task(self._run(), name="govops-change-hub")
                _HUBS.add(self)
                self._listener = CommitListener.acquire(self.engine, changes.on_commit)

    async def stop(self) -> None:
        _HUBS.discard(self)
        if self._listener is not None:
            self._listener.release()
            self._listener = None
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        """Safe from any thread: look for new events now rather than at the next tick."""
        self._loop.call_soon_threadsafe(self._wake.set)

    @property
    def subscribers(self) -> int:
        return sum(len(group) for group in self.groups.values())

    def subscribe(self, interest: Interest) -> Subscriber:
        subscriber = Subscriber(interest, self.queue_size)
        self.groups.setdefault(interest, set()).add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        group = self.groups.get(subscriber.interest)
        if group is not None:
            group.discard(subscriber)
            if not group:
                del self.groups[subscriber.interest]

    def read_after(self, after_id: int, interest: Interest) -> EventPage:
        """A page of stored events after `after_id` for one stream catching up (blocking: run it in a thread)."""
        with self._catch_up_turns, Session(self.engine) as session:
            return changes.read(session=session, after_id=after_id, limit=_BATCH, interest=interest)

    def _newest_id(self) -> int:
        with Session(self.engine) as session:
            return newest_id(session=session)

    def _scan(self, after_id: int) -> list[Event]:
        with Session(self.engine) as session:
            return changes.scan(session=session, after_id=after_id, limit=_BATCH)

    async def _run(self) -> None:
        next_keepalive = time.monotonic() + KEEPALIVE_SECONDS
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.tick)
            self._wake.clear()
            if time.monotonic() >= next_keepalive:
                self._keep_alive()
                next_keepalive = time.monotonic() + KEEPALIVE_SECONDS
            try:
                events = await run_in_threadpool(self._scan, self.last_id)
            except Exception:
                log.exception("change hub could not read events")
                continue
            for item in events:
                self._dispatch(item)
                self.last_id = item.id
            if len(events) == _BATCH:
                self._wake.set()  # more are waiting

    def _dispatch(self, item: Event) -> None:
        data = None
        for interest, group in list(self.groups.items()):
            if not interest.wants(item):
                continue
            data = data or frame(item).encode()
            for subscriber in list(group):
                self._put(subscriber, item.id, data)

    def _keep_alive(self) -> None:
        """A comment line to every idle stream, so that proxies and clients see the connection alive."""
        for group in list(self.groups.values()):
            for subscriber in list(group):
                if subscriber.queue.empty():
                    self._put(subscriber, _KEEPALIVE_ID, _KEEPALIVE)

    def _put(self, subscriber: Subscriber, event_id: int, data: bytes) -> None:
        try:
            subscriber.queue.put_nowait((event_id, data))
        except asyncio.QueueFull:
            subscriber.dropped = True
            self.unsubscribe(subscriber)


_HUBS: set[ChangeHub] = set()


def _wake_hubs() -> None:
    for hub in list(_HUBS):
        hub.wake()


changes.on_commit.append(_wake_hubs)


def frame(item: Event) -> str:
    return f"id: {item.id}\nevent: change\ndata: {json.dumps(item.as_json(), ensure_ascii=False)}\n\n"


async def stream(hub: ChangeHub, interest: Interest, after_id: int | None) -> AsyncIterator[bytes]:
    """Events for one connection: first those after `after_id` still in the store, then live ones."""
    await hub.ensure_started()
    subscriber = hub.subscribe(interest)
    sent = hub.last_id if after_id is None else after_id
    try:
        yield f"retry: 2000\n: connected; events after {sent}\n\n".encode()
        if after_id is not None:
            while True:
                page = await run_in_threadpool(hub.read_after, sent, interest)
                for item in page.items:
                    yield frame(item).encode()
                sent = page.after_id
                if page.caught_up:
                    break
        while True:
            if subscriber.dropped and subscriber.queue.empty():
                yield b": too far behind; reconnect with Last-Event-ID\n\n"
                return
            # The hub puts a keepalive in an idle queue now and then: waiting needs no timeout here.
            event_id, data = await subscriber.queue.get()
            if event_id > sent:
                sent = event_id
                yield data
            elif event_id == _KEEPALIVE_ID:
                yield data
    finally:
        hub.unsubscribe(subscriber)
