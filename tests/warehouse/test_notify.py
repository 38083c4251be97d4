"""Commits of change events wake listeners in other processes (PostgreSQL LISTEN/NOTIFY)."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from govops.db.engine import transaction
from govops.events.models import DomainEvent
from govops.warehouse.models import AreaRollup, Observation, ObservationRevision
from govops.warehouse.notify import CommitListener
from tests.warehouse.conftest import obs, put

PERIOD = "2098-01"


def test_a_committed_write_wakes_the_listener_and_a_rolled_back_one_does_not(engine: Engine) -> None:
    woken = threading.Event()
    # Its own callback list: only a notification from the database can set `woken`, not this process's commit hook.
    listener = CommitListener.acquire(engine, [woken.set])
    if engine.dialect.name != "postgresql":
        assert listener is None  # SQLite: this process's commits wake its readers; there is nothing to listen to
        return
    assert listener is not None
    try:
        assert listener.listening.wait(10)
        woken.wait(1)  # the listener looks once on connecting, for what it may have missed
        woken.clear()
        with engine.connect() as conn, conn.begin() as txn:
            with Session(bind=conn) as session:
                put(session, [obs("EXPORTS", "01", PERIOD, 1.0)], recorded_by="notify-test")
                session.flush()
            txn.rollback()
        assert not woken.wait(1.5), "a rolled-back write must not wake anyone"
        with transaction(engine) as session:
            put(session, [obs("EXPORTS", "01", PERIOD, 2.0)], recorded_by="notify-test")
        assert woken.wait(5), "the commit's notification did not arrive"
    finally:
        listener.release()
        with transaction(engine) as session:
            ids = select(Observation.id).where(Observation.period == PERIOD)
            session.execute(delete(DomainEvent).where(DomainEvent.recorded_by == "notify-test"))
            session.execute(delete(ObservationRevision).where(ObservationRevision.observation_id.in_(ids)))
            session.execute(delete(AreaRollup).where(AreaRollup.period == PERIOD))
            session.execute(delete(Observation).where(Observation.period == PERIOD))


def test_users_of_one_database_share_one_listener_until_the_last_lets_go(engine: Engine) -> None:
    first = CommitListener.acquire(engine, [])
    second = CommitListener.acquire(engine, [])
    if first is None:
        assert second is None
        return
    try:
        assert second is first and first.users == 2
        first.release()
        assert CommitListener.acquire(engine, []) is first
        first.release()
    finally:
        first.release()
    # The thread stops with its last user; the next user gets a fresh listener.
    fresh = CommitListener.acquire(engine, [])
    assert fresh is not None and fresh is not first
    fresh.release()
