"""Signed checkpoints of the trail's head: a trail cut short, or rewritten with its hashes recomputed, no longer
matches them; an edited or removed checkpoint line shows too. On the test store (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session

from govops import signing
from govops.audit import checkpoints, service
from govops.audit import jobs as audit_jobs
from govops.audit.checkpoints import ACTION, Checkpoint, record_checkpoint, verify_trail
from govops.audit.models import AuditEntry
from govops.exchange.worker import Periodic, Worker
from govops.jobs.schedule import Every
from govops.settings import Settings
from govops.web.labels import local_time

T0 = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def key(signing_key_file: Path) -> Ed25519PrivateKey:
    return signing.server_key(signing_key_file)


@pytest.fixture
def public_key(key: Ed25519PrivateKey) -> str:
    return signing.public_key_b64(key)


def some(session: Session, n: int, start: int = 0) -> list[AuditEntry]:
    return [
        service.record(
            session=session,
            action="observations.write",
            actor_kind="user",
            actor="nguyen.van.a",
            agency="NSO",
            target="CPI",
            detail={"n": i, "note": "Hà Nội"},
            at=T0 + timedelta(minutes=i),
        )
        for i in range(start, start + n)
    ]


def checkpoint(session: Session, key: Ed25519PrivateKey, file: Path) -> Checkpoint:
    """What write_checkpoint does, inside the test's transaction: record, sign, append the line."""
    made = record_checkpoint(session=session, key=key, file=file)
    assert made is not None
    with file.open("a", encoding="utf-8") as sink:
        sink.write(made.line() + "\n")
    return made


def recompute_from(session: Session, first_id: int) -> None:
    """The attack: rehash every entry from `first_id` on, with the code's own algorithm, so the chain verifies."""
    prev = session.scalar(select(AuditEntry.hash).where(AuditEntry.id < first_id).order_by(AuditEntry.id.desc()))
    prev = prev or service.GENESIS
    for row in session.scalars(select(AuditEntry).where(AuditEntry.id >= first_id).order_by(AuditEntry.id)).all():
        new_hash = service.entry_hash(
            prev_hash=prev,
            id=row.id,
            at=row.at,
            actor_kind=row.actor_kind,
            actor=row.actor,
            agency=row.agency,
            action=row.action,
            target=row.target,
            detail=json.loads(row.detail),
            ip=row.ip,
            request_id=row.request_id,
        )
        session.execute(update(AuditEntry).where(AuditEntry.id == row.id).values(prev_hash=prev, hash=new_hash))
        prev = new_hash
    session.expire_all()


def test_an_untouched_trail_and_its_checkpoints_verify(
    session: Session, key: Ed25519PrivateKey, public_key: str, tmp_path: Path
) -> None:
    file = tmp_path / "checkpoints.jsonl"
    some(session, 3)
    first = checkpoint(session, key, file)
    some(session, 2, start=3)
    second = checkpoint(session, key, file)
    total = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    assert (second.entries, first.entries) == (total, total - 3)
    assert session.scalar(select(AuditEntry.action).where(AuditEntry.id == second.last_id)) == ACTION

    result = verify_trail(session=session, file=file, public_key=public_key)
    assert result.ok and result.checkpoint_problems == [] and result.checkpoints == 2
    assert result.last_checkpoint is not None
    assert (result.last_checkpoint.last_id, result.last_checkpoint.entries) == (second.last_id, second.entries)

    line = json.loads(file.read_text(encoding="utf-8").splitlines()[1])
    assert set(line) == {"kind", "at", "entries", "last_id", "last_hash", "key_id", "signature"}
    assert line["kind"] == "govops.audit.checkpoint" and line["key_id"] == signing.key_id(key)
    unsigned = {k: v for k, v in line.items() if k != "signature"}
    assert signing.verifies(public_key, line["signature"], service.canonical_json(unsigned).encode())


def test_deleting_the_last_entries_is_named_as_truncation(
    session: Session, key: Ed25519PrivateKey, public_key: str, tmp_path: Path
) -> None:
    file = tmp_path / "checkpoints.jsonl"
    entries = some(session, 5)
    made = checkpoint(session, key, file)
    session.execute(delete(AuditEntry).where(AuditEntry.id > entries[2].id))
    assert service.verify(session=session).ok  # the chain alone does not see it

    result = verify_trail(session=session, file=file, public_key=public_key)
    assert not result.ok and result.broken_id is None
    reasons = [(p.line, p.entry_id, p.reason) for p in result.checkpoint_problems]
    assert reasons == [
        (1, made.last_id, checkpoints.TRUNCATED.format(total=made.entries - 3, entries=made.entries)),
        (1, made.last_id, checkpoints.CUT_SHORT.format(id=made.last_id, last=entries[2].id)),
    ]
    assert all(p.checkpoint_at == made.at for p in result.checkpoint_problems)


def test_a_rewritten_entry_with_recomputed_hashes_no_longer_matches_the_checkpoint(
    session: Session, key: Ed25519PrivateKey, public_key: str, tmp_path: Path
) -> None:
    file = tmp_path / "checkpoints.jsonl"
    entries = some(session, 4)
    made = checkpoint(session, key, file)
    session.execute(
        update(AuditEntry).where(AuditEntry.id == entries[1].id).values(actor="someone.else", detail='{"n":0}')
    )
    assert not service.verify(session=session).ok
    recompute_from(session, entries[1].id)
    assert service.verify(session=session).ok  # the chain alone is fooled

    result = verify_trail(session=session, file=file, public_key=public_key)
    assert not result.ok and result.checkpoints == 1
    assert [(p.line, p.entry_id, p.reason) for p in result.checkpoint_problems] == [
        (1, made.last_id, checkpoints.REWRITTEN.format(id=made.last_id))
    ]


def test_an_edited_removed_or_foreign_checkpoint_line_is_reported(
    session: Session, key: Ed25519PrivateKey, public_key: str, tmp_path: Path
) -> None:
    file = tmp_path / "checkpoints.jsonl"
    some(session, 2)
    first = checkpoint(session, key, file)
    some(session, 2, start=2)
    second = checkpoint(session, key, file)
    some(session, 1, start=4)
    third = checkpoint(session, key, file)
    lines = file.read_text(encoding="utf-8").splitlines()

    edited = json.loads(lines[0]) | {"entries": first.entries - 1}
    other = Ed25519PrivateKey.generate()
    foreign = Checkpoint(**{**third.__dict__, "key_id": signing.key_id(other)})
    foreign = Checkpoint(**{**foreign.__dict__, "signature": signing.sign(other, foreign.signed_bytes())})
    file.write_text(
        "\n".join([service.canonical_json(edited), "{not json", foreign.line()]) + "\n", encoding="utf-8"
    )  # the second checkpoint's line is gone

    result = verify_trail(session=session, file=file, public_key=public_key)
    assert not result.ok and result.checkpoints == 0 and result.last_checkpoint is None
    assert [(p.line, p.entry_id, p.reason) for p in result.checkpoint_problems] == [
        (1, first.last_id, checkpoints.BAD_SIGNATURE),
        (2, None, "the line cannot be read: not JSON"),
        (3, third.last_id, checkpoints.OTHER_KEY.format(signed=signing.key_id(other), ours=signing.key_id(key))),
        (None, second.last_id, checkpoints.LINE_MISSING),
    ]
    assert result.checkpoint_problems[3].checkpoint_at == second.at


def test_a_missing_checkpoint_file_is_reported_when_the_trail_recorded_checkpoints(
    session: Session, key: Ed25519PrivateKey, public_key: str, tmp_path: Path
) -> None:
    file = tmp_path / "checkpoints.jsonl"
    some(session, 1)
    made = checkpoint(session, key, file)
    file.unlink()
    result = verify_trail(session=session, file=file, public_key=public_key)
    assert not result.ok
    assert [(p.entry_id, p.reason) for p in result.checkpoint_problems] == [(made.last_id, checkpoints.LINE_MISSING)]


def test_only_if_new_checkpoints_only_a_grown_trail(session: Session, key: Ed25519PrivateKey, tmp_path: Path) -> None:
    file = tmp_path / "checkpoints.jsonl"
    session.execute(delete(AuditEntry))
    assert record_checkpoint(session=session, key=key, file=file, only_if_new=True) is None
    some(session, 1)
    made = record_checkpoint(session=session, key=key, file=file, only_if_new=True)
    assert made is not None and made.entries == 2
    assert record_checkpoint(session=session, key=key, file=file, only_if_new=True) is None
    detail = json.loads(session.scalars(select(AuditEntry.detail).where(AuditEntry.id == made.last_id)).one())
    assert detail["file"] == str(file) and detail["host"]


def test_the_audit_page_shows_the_last_checkpoint_and_whether_its_signature_verifies(
    sign_in: Callable[[str], TestClient], session: Session, key: Ed25519PrivateKey
) -> None:
    web = sign_in("administrator")
    file: Path = web.app.state.settings.audit_checkpoint_file  # type: ignore[attr-defined]
    file.unlink(missing_ok=True)
    try:
        assert "Chưa có điểm kiểm tra nào của nhật ký" in web.get("/admin/audit").text
        made = checkpoint(session, key, file)
        page = web.get("/admin/audit").text
        at = local_time(made.at, ZoneInfo("Asia/Ho_Chi_Minh"), seconds=True)  # the console's default time zone
        shown = f"Điểm kiểm tra gần nhất: {at}, tại bản ghi {made.last_id} ({made.entries} bản ghi)."
        assert shown in page and "Chữ ký của điểm kiểm tra khớp với khóa của máy chủ." in page
        assert "Last checkpoint:" in web.get("/admin/audit?lang=en").text
        web.cookies.delete("govops_lang")
        file.write_text(made.line().replace(f'"entries":{made.entries}', '"entries":1') + "\n", encoding="utf-8")
        page = web.get("/admin/audit?lang=vi").text
        assert "Chữ ký của điểm kiểm tra không khớp với khóa của máy chủ" in page
        file.write_text("{cut", encoding="utf-8")
        assert "Không đọc được dòng cuối của tệp điểm kiểm tra" in web.get("/admin/audit").text
    finally:
        file.unlink(missing_ok=True)


def test_the_worker_runs_its_periodic_jobs_when_due_and_survives_a_failing_one(engine: Engine, tmp_path: Path) -> None:
    settings = Settings(database_url=str(engine.url), audit_checkpoint_file=tmp_path / "c.jsonl")
    # The checkpoint is a scheduled job (every 15 minutes); the worker looks for due jobs every few seconds.
    [checkpoint] = audit_jobs.jobs(settings)
    assert (checkpoint.name, checkpoint.schedule) == ("audit.checkpoint", Every(15))
    assert audit_jobs.jobs(settings.model_copy(update={"audit_checkpoint_minutes": 0})) == []
    with_jobs = Worker.configured(engine, settings, jobs=[checkpoint])
    with_jobs.close()
    assert [job.seconds for job in with_jobs.periodic] == [settings.jobs_poll_seconds]
    never = Worker.configured(engine, settings)
    assert never.periodic == []
    runs: list[str] = []

    def failing() -> None:
        runs.append("failing")
        raise OSError("disk full")

    never.periodic = [Periodic(3600, lambda: runs.append("hourly"), "hourly"), Periodic(0, failing, "failing")]
    try:
        never.run_periodic()
        never.join_periodic()
        never.run_periodic()
        never.join_periodic()
    finally:
        never.close()
    assert runs == ["hourly", "failing", "failing"]
