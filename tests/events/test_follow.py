"""Following the events after commit: a named cursor per follower, moved with the follower's work in one transaction;
with two workers side by side (threads, each with connections of its own) no event is handled twice and none is
skipped, while writers commit events concurrently."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Sequence

import pytest
from sqlalchemy import Engine, delete, text
from sqlalchemy.orm import Session

from govops.db.engine import make_engine, transaction
from govops.events.models import DomainEvent, EventFollower
from govops.events.service import Event, Follower, ReadRule, emit, follow, newest_id, pending

TOPIC = "t.follow"
FOLLOWER = Follower(name="t.follower", topic=TOPIC, types=frozenset({"t.wanted"}))


def _emit(session: Session, subject: str, kind: str = "t.wanted", topic: str = TOPIC) -> int:
    return emit(session=session, topic=topic, type=kind, subject=subject, payload={}, rule=ReadRule("public")).id


class Recorder:
    """A handler that keeps what it was handed, batch by batch."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def __call__(self, session: Session, events: Sequence[Event]) -> None:
        self.batches.append([e.subject for e in events])


def test_a_follower_starts_at_the_newest_event_and_reads_what_it_follows_in_order(session: Session) -> None:
    _emit(session, "before")
    seen = Recorder()
    assert pending(session=session, follower=FOLLOWER)  # not started yet
    assert follow(session=session, follower=FOLLOWER, handle=seen) == 0  # what was there before is not its work
    assert not pending(session=session, follower=FOLLOWER)
    _emit(session, "a")
    _emit(session, "other kind", kind="t.unwanted")
    _emit(session, "other topic", topic="t.elsewhere")
    _emit(session, "b")
    _emit(session, "c")
    assert pending(session=session, follower=FOLLOWER)
    assert follow(session=session, follower=FOLLOWER, handle=seen, batch=2) == 3
    assert seen.batches == [["a", "b"], ["c"]]
    cursor = session.get(EventFollower, FOLLOWER.name)
    assert cursor is not None and cursor.last_event_id == newest_id(session=session)
    # Nothing new: nothing handed over again.
    assert follow(session=session, follower=FOLLOWER, handle=seen) == 0
    assert seen.batches == [["a", "b"], ["c"]] and not pending(session=session, follower=FOLLOWER)


def test_a_follower_may_start_elsewhere(session: Session) -> None:
    first = _emit(session, "kept")
    _emit(session, "also kept")
    seen = Recorder()
    from_first = Follower(name="t.from-first", topic=TOPIC, start=lambda session: first - 1)
    assert follow(session=session, follower=from_first, handle=seen) == 2
    assert seen.batches == [["kept", "also kept"]]


def test_a_failed_handler_leaves_its_events_to_the_next_run(session: Session) -> None:
    follow(session=session, follower=FOLLOWER, handle=Recorder())
    _emit(session, "a")

    def broken(session: Session, events: Sequence[Event]) -> None:
        raise RuntimeError("the follower's work failed")

    with pytest.raises(RuntimeError), session.begin_nested():  # the run's transaction, rolled back
        follow(session=session, follower=FOLLOWER, handle=broken)
    session.expire_all()
    seen = Recorder()
    assert follow(session=session, follower=FOLLOWER, handle=seen) == 1
    assert seen.batches == [["a"]]


# --- two workers, real transactions ---------------------------------------------------------------------------

WRITERS, EVENTS_EACH = 3, 40


@pytest.fixture
def shared_store(engine: Engine) -> Iterator[tuple[Engine, Follower]]:
    """Committed events of a topic of this test's own, a table the followers' work writes to, and the cursor; all
    taken away after."""
    topic = f"t.two-workers.{uuid.uuid4().hex[:8]}"
    follower = Follower(name=topic, topic=topic)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t_handled (event_id BIGINT NOT NULL, worker VARCHAR(10) NOT NULL)"))
    yield engine, follower
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE t_handled"))
        conn.execute(delete(DomainEvent).where(DomainEvent.topic == topic))
        conn.execute(delete(EventFollower).where(EventFollower.name == follower.name))


def test_two_workers_following_while_writers_commit_handle_each_event_exactly_once(
    shared_store: tuple[Engine, Follower],
) -> None:
    engine, follower = shared_store
    url = engine.url.render_as_string(hide_password=False)
    with transaction(engine) as session:
        follow(session=session, follower=follower, handle=Recorder())  # started before the first event
    writing = threading.Event()
    writing.set()
    failures: list[BaseException] = []
    emitted: list[int] = []

    def write(n: int) -> None:
        own = make_engine(url)
        try:
            for i in range(EVENTS_EACH):
                with transaction(own) as session:
                    emitted.append(_emit(session, f"{n}-{i}", topic=follower.topic))
                    time.sleep(0.002 * (i % 3))  # commits land while the followers read
        except BaseException as error:
            failures.append(error)
        finally:
            own.dispose()

    def work(name: str) -> None:
        own = make_engine(url)

        def handle(session: Session, events: Sequence[Event]) -> None:
            for event in events:
                session.execute(
                    text("INSERT INTO t_handled (event_id, worker) VALUES (:id, :worker)"),
                    {"id": event.id, "worker": name},
                )
            time.sleep(0.01)  # work that takes a while: the other worker comes meanwhile

        try:
            while True:
                busy = writing.is_set()
                with transaction(own) as session:
                    follow(session=session, follower=follower, handle=handle, batch=7)
                with Session(own) as session:
                    if not busy and not pending(session=session, follower=follower):
                        return
        except BaseException as error:
            failures.append(error)
        finally:
            own.dispose()

    writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    workers = [threading.Thread(target=work, args=(name,)) for name in ("one", "two")]
    for thread in workers + writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    writing.clear()
    for thread in workers:
        thread.join(timeout=120)
    assert not failures, failures
    with engine.connect() as conn:
        handled = [row[0] for row in conn.execute(text("SELECT event_id FROM t_handled"))]
        by_worker: dict[str, int] = {
            worker: count
            for worker, count in conn.execute(text("SELECT worker, count(*) FROM t_handled GROUP BY worker"))
        }
    assert len(emitted) == WRITERS * EVENTS_EACH
    assert sorted(handled) == sorted(emitted), "every event handled exactly once"
    assert set(by_worker) == {"one", "two"}, f"both workers took their turns: {by_worker}"
