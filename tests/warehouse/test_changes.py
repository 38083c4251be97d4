"""The change feed: one event per new or changed observation, numbered per indicator, paged by cursor."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from govops.db.engine import transaction
from govops.events.models import DomainEvent
from govops.events.service import Event
from govops.warehouse import changes
from govops.warehouse.models import AreaRollup, Observation, ObservationRevision
from tests.warehouse.conftest import obs, put


def _events(session: Session) -> list[tuple[Event, str | None]]:
    """Observation changes, each with who recorded it."""
    rows = session.scalars(select(DomainEvent).where(DomainEvent.type == changes.TYPE).order_by(DomainEvent.id))
    return [(Event.of(row), row.recorded_by) for row in rows]


@pytest.mark.usefixtures("catalogue")
def test_each_new_or_changed_value_is_one_event_numbered_per_indicator(session: Session) -> None:
    before = {e.payload["indicator"]: e.payload["seq"] for e, _ in _events(session)}
    put(
        session,
        [obs("T_FLOW2", "01", "2025-08", 1), obs("T_FLOW2", "79", "2025-08", 2), obs("T_STOCK", "01", "2025-08", 3)],
    )
    put(session, [obs("T_FLOW2", "01", "2025-08", 1), obs("T_FLOW2", "79", "2025-08", 5)], recorded_by="second")
    events = [(e.payload, by) for e, by in _events(session) if e.payload["seq"] > before.get(e.payload["indicator"], 0)]
    # The unchanged value makes no event; the changed one is version 2.
    assert [(e["value"], e["version"], by) for e, by in events] == [
        (1, 1, None), (2, 1, None), (3, 1, None), (5, 2, "second")
    ]  # fmt: skip
    by_topic: dict[str, list[int]] = {}
    for e, _ in events:
        by_topic.setdefault(e["indicator"], []).append(e["seq"])
    assert all(seqs == list(range(seqs[0], seqs[0] + len(seqs))) for seqs in by_topic.values())
    assert len(by_topic) == 2


@pytest.mark.usefixtures("catalogue")
def test_the_feed_pages_by_cursor_and_shows_only_what_the_caller_may_read(session: Session, client: TestClient) -> None:
    start = client.get("/api/v1/changes", params={"limit": 1000})
    while not start.json()["caught_up"]:
        start = client.get("/api/v1/changes", params={"cursor": start.json()["next_cursor"], "limit": 1000})
    cursor = start.json()["next_cursor"]
    put(
        session, [obs("T_FLOW2", "01", f"2025-{m:02d}", m) for m in range(1, 6)] + [obs("T_SECRET", "01", "2025-01", 9)]
    )
    first = client.get("/api/v1/changes", params={"cursor": cursor, "limit": 3}).json()
    assert [(e["type"], e["indicator"], e["area"], e["period"], e["value"]) for e in first["items"]] == [
        ("observation.changed", "T_FLOW2", "01", "2025-01", 1), ("observation.changed", "T_FLOW2", "01", "2025-02", 2),
        ("observation.changed", "T_FLOW2", "01", "2025-03", 3),
    ]  # fmt: skip
    assert not first["caught_up"]
    rest = client.get("/api/v1/changes", params={"cursor": first["next_cursor"]}).json()
    # The confidential indicator's event is not for an anonymous caller.
    assert [e["period"] for e in rest["items"]] == ["2025-04", "2025-05"] and rest["caught_up"]
    idle = client.get("/api/v1/changes", params={"cursor": rest["next_cursor"]}).json()
    assert idle == {"items": [], "next_cursor": rest["next_cursor"], "caught_up": True}
    only = client.get("/api/v1/changes", params={"cursor": cursor, "area": "79"}).json()
    assert only["items"] == []
    assert client.get("/api/v1/changes", params={"cursor": "nope"}).status_code == 400


def test_events_become_visible_in_id_order_even_when_writers_overlap(engine: Engine) -> None:
    """A reader past id N must never later find an event below N, however writers interleave."""
    slow_started, slow_may_commit = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with transaction(engine) as session:
            put(session, [obs("EXPORTS", "01", "2099-01", 1.0)], recorded_by="feed-order-test")
            slow_started.set()
            slow_may_commit.wait(10)

    def quick_writer() -> None:
        with transaction(engine) as session:
            put(session, [obs("IMPORTS", "01", "2099-01", 2.0)], recorded_by="feed-order-test")

    def feed_after(last: int) -> list[tuple[str, float]]:
        with Session(engine) as reader:
            seen = changes.read(
                session=reader, after_id=last, limit=100, interest=changes.Interest(frozenset({"public"}))
            ).items
        return [(e.payload["indicator"], e.payload["value"]) for e in seen if e.payload.get("period") == "2099-01"]

    slow, quick = threading.Thread(target=slow_writer), threading.Thread(target=quick_writer)
    try:
        with Session(engine) as reader:
            last = reader.scalar(select(DomainEvent.id).order_by(DomainEvent.id.desc()).limit(1)) or 0
        slow.start()
        assert slow_started.wait(10)
        quick.start()
        quick.join(0.5)
        # The later writer waits for the earlier one to commit, so its events cannot overtake.
        assert quick.is_alive() and feed_after(last) == []
        slow_may_commit.set()
        slow.join(10)
        quick.join(10)
        assert feed_after(last) == [("EXPORTS", 1.0), ("IMPORTS", 2.0)]
    finally:
        slow_may_commit.set()
        slow.join(10)
        quick.join(10)
        with transaction(engine) as session:
            ids = select(Observation.id).where(Observation.period == "2099-01")
            session.execute(delete(DomainEvent).where(DomainEvent.recorded_by == "feed-order-test"))
            session.execute(delete(ObservationRevision).where(ObservationRevision.observation_id.in_(ids)))
            session.execute(delete(AreaRollup).where(AreaRollup.period == "2099-01"))
            session.execute(delete(Observation).where(Observation.period == "2099-01"))
