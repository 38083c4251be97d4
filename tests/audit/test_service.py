"""The audit trail's hash chain: recording, verifying, listing, and one chain under concurrent writers."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govops.audit import service
from govops.audit.models import AuditEntry
from govops.audit.service import (
    BROKEN_CONTENT,
    BROKEN_LINK,
    BROKEN_START,
    GENESIS,
    list_entries,
    record,
    targets,
    verify,
)
from govops.db.engine import transaction
from govops.paging import decode_cursor

T0 = datetime(2025, 7, 1, 8, 30, 0, 123456, tzinfo=UTC)


def some(session: Session, n: int, *, action: str = "test.thing", start: datetime = T0) -> list[AuditEntry]:
    return [
        record(
            session=session,
            action=action,
            actor_kind="user",
            actor=f"user.{i % 3}",
            agency="GO",
            target=f"T{i % 2}",
            detail={"n": i, "text": "Hà Nội"},
            at=start + timedelta(minutes=i),
        )
        for i in range(n)
    ]


def test_an_entry_hashes_its_predecessor_and_the_canonical_json_of_its_fields(session: Session) -> None:
    before = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    first, second = (
        record(
            session=session,
            action="user.create",
            actor_kind="user",
            actor="an.admin",
            agency="GO",
            target="le.thi.b",
            detail={"role": "viewer", "agency": "PC-01", "note": "Lê Thị B"},
            ip="10.0.0.7",
            request_id="req-1",
            at=T0,
        ),
        record(session=session, action="auth.sign_out", actor_kind="system", actor="system", at=T0),
    )
    assert first.prev_hash == (before or GENESIS) and second.prev_hash == first.hash
    content = (
        '{"action":"user.create","actor":"an.admin","actor_kind":"user","agency":"GO",'
        '"at":"2025-07-01T08:30:00.123456+00:00","detail":{"agency":"PC-01","note":"Lê Thị B","role":"viewer"},'
        f'"id":{first.id},"ip":"10.0.0.7","request_id":"req-1","target":"le.thi.b"}}'
    )
    assert first.hash == hashlib.sha256((first.prev_hash + content).encode()).hexdigest()
    assert first.detail == '{"agency":"PC-01","note":"Lê Thị B","role":"viewer"}'
    assert (second.target, second.detail, second.ip, second.request_id) == ("", "{}", None, None)
    assert len(first.hash) == 64 and int(first.hash, 16) >= 0


def test_record_refuses_what_is_not_an_entry(session: Session) -> None:
    with pytest.raises(ValueError, match="actor_kind"):
        record(session=session, action="auth.sign_in", actor_kind="robot", actor="x")
    with pytest.raises(ValueError, match="dotted"):
        record(session=session, action="SignIn", actor_kind="user", actor="x")
    with pytest.raises(ValueError, match="naive"):
        record(session=session, action="auth.sign_in", actor_kind="user", actor="x", at=datetime(2025, 1, 1))
    with pytest.raises(ValueError):
        record(session=session, action="auth.sign_in", actor_kind="user", actor="x", detail={"v": float("nan")})


def test_verify_passes_on_an_intact_chain_in_small_batches(session: Session) -> None:
    already = verify(session=session).checked
    some(session, 7)
    result = verify(session=session, batch=2)
    assert result.ok and result.checked == already + 7 and result.broken_id is None and result.reason is None


def test_changing_one_entrys_detail_in_sql_makes_verify_name_exactly_that_entry(session: Session) -> None:
    already = verify(session=session).checked
    entries = some(session, 5)
    victim = entries[2]
    session.execute(
        text("UPDATE audit_entry SET detail = :detail WHERE id = :id"),
        {"detail": json.dumps({"n": 999, "text": "Hà Nội"}), "id": victim.id},
    )
    result = verify(session=session, batch=2)
    assert (result.ok, result.broken_id, result.reason) == (False, victim.id, BROKEN_CONTENT)
    assert result.checked == already + 2  # everything before it is intact


def test_any_changed_field_breaks_the_entry(session: Session) -> None:
    for column, value in (("actor", "someone.else"), ("at", T0 + timedelta(seconds=1)), ("target", "X")):
        entries = some(session, 3)
        session.execute(update(AuditEntry).where(AuditEntry.id == entries[1].id).values({column: value}))
        assert verify(session=session).broken_id == entries[1].id, column
        session.execute(delete(AuditEntry).where(AuditEntry.id >= entries[0].id))


def test_deleting_an_entry_in_the_middle_makes_verify_name_the_next_one(session: Session) -> None:
    entries = some(session, 5)
    session.execute(delete(AuditEntry).where(AuditEntry.id == entries[2].id))
    result = verify(session=session)
    assert (result.ok, result.broken_id, result.reason) == (False, entries[3].id, BROKEN_LINK)


def test_deleting_the_first_entry_is_noticed_too(session: Session) -> None:
    session.execute(delete(AuditEntry))
    entries = some(session, 3)
    assert entries[0].prev_hash == GENESIS
    session.execute(delete(AuditEntry).where(AuditEntry.id == entries[0].id))
    result = verify(session=session)
    assert (result.ok, result.checked, result.broken_id, result.reason) == (False, 0, entries[1].id, BROKEN_START)


def test_ids_may_skip(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "_next_id", lambda s: (s.scalar(select(func.max(AuditEntry.id))) or 0) + 10)
    entries = some(session, 3)
    assert entries[1].id - entries[0].id == 10
    assert verify(session=session).ok


def test_no_two_entries_may_follow_the_same_one(session: Session) -> None:
    entry = some(session, 1)[0]
    forked = AuditEntry(
        at=T0,
        actor_kind="system",
        actor="system",
        action="test.fork",
        target="",
        detail="{}",
        prev_hash=entry.prev_hash,
        hash="f" * 64,
    )
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(forked)
        session.flush()


def test_list_entries_filters_and_pages_newest_first(session: Session) -> None:
    some(session, 12, action="test.listed")
    some(session, 2, action="other.listed", start=T0 + timedelta(days=1))
    page = list_entries(session=session, action="test.listed", limit=5)
    assert [e.detail["n"] for e in page.items] == [11, 10, 9, 8, 7]
    seen = [e.detail["n"] for e in page.items]
    while page.next_cursor:
        page = list_entries(
            session=session, action="test.listed", limit=5, after_id=decode_cursor(page.next_cursor, max_id=2**63 - 1)
        )
        seen += [e.detail["n"] for e in page.items]
    assert seen == list(range(11, -1, -1))

    by_actor = list_entries(session=session, actor="user.1", action="test.listed")
    assert {e.actor for e in by_actor.items} == {"user.1"} and len(by_actor.items) == 4
    by_target = list_entries(session=session, target="T0", action="test.listed")
    assert len(by_target.items) == 6
    window = list_entries(
        session=session, action="test.listed", since=T0 + timedelta(minutes=3), until=T0 + timedelta(minutes=6)
    )
    assert [e.detail["n"] for e in window.items] == [5, 4, 3]
    family = list_entries(session=session, action="other")
    assert {e.action for e in family.items} == {"other.listed"}
    assert list_entries(session=session, action="test.listed.not").items == []


def test_targets_are_sorted_and_cut_short() -> None:
    assert targets(["IIP", "CPI", "CPI"]) == "CPI,IIP"
    many = targets(f"INDICATOR_{i:03d}" for i in range(100))
    assert len(many) <= 200 and many.endswith(",…") and many.startswith("INDICATOR_000,")


def test_concurrent_writers_still_make_one_intact_chain(engine: Engine) -> None:
    """8 threads, 20 entries each, each in its own transaction on the real engine."""
    with engine.connect() as conn:
        start = conn.scalar(select(func.max(AuditEntry.id))) or 0
    failures: list[BaseException] = []
    barrier = threading.Barrier(8)

    def writer(number: int) -> None:
        try:
            barrier.wait()
            for i in range(20):
                with transaction(engine) as s:
                    record(
                        session=s,
                        action="test.concurrent",
                        actor_kind="system",
                        actor=f"thread-{number}",
                        detail={"i": i},
                    )
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        assert failures == []
        with Session(engine) as s:
            result = verify(session=s, batch=7)
            assert result.ok, result
            mine = s.execute(
                select(AuditEntry.prev_hash, AuditEntry.hash).where(AuditEntry.id > start).order_by(AuditEntry.id)
            ).all()
        assert len(mine) == 160
        assert all(later.prev_hash == earlier.hash for earlier, later in pairwise(mine))
    finally:
        with transaction(engine) as s:
            # Only the newest entries go, so what is left is still one intact chain.
            s.execute(delete(AuditEntry).where(AuditEntry.id > start, AuditEntry.action == "test.concurrent"))
