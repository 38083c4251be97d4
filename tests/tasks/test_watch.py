"""The watch over open tasks: a slip is announced once (event, notification in the lead's language) even when two
workers run it at the same moment; a reminder comes before the deadline."""

from __future__ import annotations

import shutil
import threading
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from govops.auth.service import create_user
from govops.db.engine import make_engine, transaction
from govops.events.models import DomainEvent
from govops.notify.models import Notification
from govops.notify.service import render
from govops.tasks import service
from govops.tasks.models import Directive
from govops.tasks.schemas import DirectiveIn
from tests.tasks.conftest import task_in

NOW = datetime(2025, 7, 2, 8, tzinfo=UTC)


def test_a_slip_is_announced_once_even_by_two_workers_at_once(initialised_store: Path, tmp_path: Path) -> None:
    store = tmp_path / "govops.db"
    shutil.copy(initialised_store, store)
    engine = make_engine(f"sqlite:///{store}")
    with transaction(engine) as session:
        office = service.caller(session=session, agency_code="GO", name="analyst")
        service.create_directive(
            session=session,
            data=DirectiveIn(
                kind="resolution", number="99/NQ-CP-TEST", title="t", signed_on=date(2025, 1, 8), signer="s"
            ),
            who=office,
        )
        task = service.create_task(session=session, data=task_in(), who=office, today=date(2025, 1, 10))
        create_user(
            session=session,
            username="btc.officer",
            password="correct horse battery",
            full_name="Cán bộ BTC",
            agency="MOF",
            role="data_officer",
            email="btc@example.vn",
        )
    start = threading.Barrier(2)
    counts: list[int] = []

    def worker() -> None:
        start.wait()
        with transaction(engine) as session:
            counts.append(service.watch(session=session, now=NOW).overdue)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == [0, 1]
    with Session(engine) as session:
        events = session.scalars(select(DomainEvent).where(DomainEvent.type == "tasks.overdue")).all()
        assert [e.subject for e in events] == [f"task/{task.id}"]
        notes = session.scalars(select(Notification)).all()
        assert [n.kind for n in notes] == ["task_overdue"]
        assert render(notes[0], "vi").subject.startswith("Nhiệm vụ quá hạn")
        assert notes[0].email_state == "pending"
    engine.dispose()


def test_a_reminder_comes_once_before_the_deadline(
    session: Session, directive: Directive, office: service.Caller
) -> None:
    create_user(
        session=session,
        username="btc.officer",
        password="correct horse battery",
        full_name="Cán bộ BTC",
        agency="MOF",
        role="data_officer",
    )
    service.create_task(session=session, data=task_in(), who=office, today=date(2025, 1, 10))
    early = service.watch(session=session, now=datetime(2025, 6, 1, tzinfo=UTC))
    soon = service.watch(session=session, now=datetime(2025, 6, 25, tzinfo=UTC))
    again = service.watch(session=session, now=datetime(2025, 6, 26, tzinfo=UTC))
    assert (early.reminded, soon.reminded, again.reminded) == (0, 1, 0)
    kinds = session.scalars(select(Notification.kind)).all()
    assert kinds == ["task_due_soon"]
    assert session.scalar(select(func.count()).select_from(DomainEvent).where(DomainEvent.type == "tasks.overdue")) == 0


def test_a_task_long_overdue_is_passed_over_by_later_runs_without_a_refused_write(
    session: Session, directive: Directive, office: service.Caller
) -> None:
    service.create_task(session=session, data=task_in(), who=office, today=date(2025, 1, 10))
    assert service.watch(session=session, now=NOW).overdue == 1
    statements: list[str] = []
    engine = session.get_bind().engine
    listen = lambda *args: statements.append(args[2])  # noqa: E731  (conn, cursor, statement, ...)
    event.listen(engine, "before_cursor_execute", listen)
    try:
        later = service.watch(session=session, now=datetime(2025, 7, 20, tzinfo=UTC))
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert later.overdue == 0
    # No once-only entry is tried again (and refused by its unique key inside a savepoint).
    assert not [s for s in statements if "SAVEPOINT" in s.upper() or s.lstrip().upper().startswith("INSERT")]
    assert session.scalar(select(func.count()).select_from(DomainEvent).where(DomainEvent.type == "tasks.overdue")) == 1
