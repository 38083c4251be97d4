"""Writing notifications in the caller's transaction and reading them back in each reader's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.auth.models import User
from govops.errors import GovopsError, NotFound
from govops.notify import kinds, service
from govops.notify.models import Notification

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
DUE = {"report": "BC-01", "agency": "Sở Tài chính", "period": "2026-02", "due": "2026-03-10"}


def stored(session: Session, user: User) -> list[Notification]:
    session.expire_all()
    return list(session.scalars(select(Notification).where(Notification.user_id == user.id)))


def test_each_recipient_reads_it_in_their_own_language(session: Session, person: Callable[..., User]) -> None:
    lan, tom = person("lan", email="lan@vpcp.gov.vn"), person("tom", language="en")
    made = service.notify(session=session, recipients=[lan.id, "TOM"], kind="report_due", params=DUE, link="/submit")
    assert [n.user_id for n in made] == [lan.id, tom.id]

    (for_lan,) = service.inbox(session=session, user=lan).items
    assert for_lan.subject == "Đến hạn báo cáo: BC-01"
    assert for_lan.body == "Báo cáo BC-01 của Sở Tài chính kỳ 2026-02 đến hạn nộp ngày 2026-03-10."
    (for_tom,) = service.inbox(session=session, user=tom).items
    assert for_tom.subject == "Report due: BC-01" and for_tom.link == "/submit"
    # The text is not stored: the same row reads in English once Lan switches.
    lan.language = "en"
    assert service.inbox(session=session, user=lan).items[0].subject == "Report due: BC-01"
    # Lan has an address, Tom has none: only Lan's is queued for e-mail.
    assert [n.email_state for n in stored(session, lan)] == ["pending"]
    assert [n.email_state for n in stored(session, tom)] == [None]


def test_notify_only_flushes_the_callers_transaction_decides(session: Session, person: Callable[..., User]) -> None:
    lan = person("lan")
    session.commit()
    service.notify(session=session, recipients=["lan"], kind="task_overdue", params={"task": "T-7", "due": "1/3"})
    assert service.unread_count(session=session, user_id=lan.id) == 1
    session.rollback()
    assert service.unread_count(session=session, user_id=lan.id) == 0


def test_a_recipient_named_twice_gets_it_once(session: Session, person: Callable[..., User]) -> None:
    lan = person("lan")
    service.notify(
        session=session, recipients=[lan.id, "lan", " Lan "], kind="alert_raised", params={"alert": "Lũ", "area": "Huế"}
    )
    assert len(stored(session, lan)) == 1


def test_mistakes_are_refused_before_anything_is_written(session: Session, person: Callable[..., User]) -> None:
    lan = person("lan")
    with pytest.raises(NotFound, match="no user nobody, 999999 to notify"):
        service.notify(session=session, recipients=[lan.id, "nobody", 999999], kind="report_due", params=DUE)
    with pytest.raises(ValueError, match="no notification kind 'reprot_due'"):
        service.notify(session=session, recipients=[lan.id], kind="reprot_due", params=DUE)
    with pytest.raises(ValueError, match="param 'due' of a 'report_due' notification must be text or a number"):
        service.notify(session=session, recipients=[lan.id], kind="report_due", params={**DUE, "due": None})
    with pytest.raises(ValueError, match="needs the params due"):
        service.notify(
            session=session,
            recipients=[lan.id],
            kind="report_due",
            params={"report": "BC", "agency": "A", "period": "P"},
        )
    with pytest.raises(ValueError, match="needs the params task, due"):
        service.notify(session=session, recipients=[lan.id], kind="task_overdue", params={})
    with pytest.raises(ValueError, match="a path of this server"):
        service.notify(session=session, recipients=[lan.id], kind="report_due", params=DUE, link="https://evil.example")
    with pytest.raises(ValueError, match="a path of this server"):
        service.notify(session=session, recipients=[lan.id], kind="report_due", params=DUE, link="//evil.example")
    assert stored(session, lan) == []


def test_a_domain_registers_its_own_kind(session: Session, person: Callable[..., User]) -> None:
    kind = kinds.register(
        kinds.Kind("test_reminder", subject="Reminder: %(what)s", body="Do %(what)s.", params=("what",))
    )
    try:
        assert kinds.register(kind) is kind  # the same again: harmless (a module imported twice)
        with pytest.raises(ValueError, match="already registered with other texts"):
            kinds.register(kinds.Kind("test_reminder", subject="Other", body="Other"))
        tom = person("tom", language="en")
        service.notify(session=session, recipients=[tom.id], kind="test_reminder", params={"what": "the sums"})
        (shown,) = service.inbox(session=session, user=tom).items
        assert (shown.subject, shown.body) == ("Reminder: the sums", "Do the sums.")
    finally:
        del kinds.KINDS["test_reminder"]


def test_every_kind_the_platform_ships_reads_in_vietnamese(session: Session, person: Callable[..., User]) -> None:
    lan = person("lan")
    for name in ("password_changed", "report_due", "value_flagged", "task_overdue", "alert_raised"):
        kind = kinds.get_kind(name)
        service.notify(session=session, recipients=[lan.id], kind=name, params={p: f"<{p}>" for p in kind.params})
    for shown in service.inbox(session=session, user=lan).items:
        english = kinds.get_kind(shown.kind)
        assert shown.subject != english.subject % {p: f"<{p}>" for p in english.params}
        assert all(f"<{p}>" in shown.body for p in english.params), shown.body


def test_the_inbox_pages_newest_first_and_marks_read(session: Session, person: Callable[..., User]) -> None:
    lan, other = person("lan"), person("other")
    for i in range(5):
        service.notify(
            session=session, recipients=[lan.id], kind="task_overdue", params={"task": f"T-{i}", "due": "x"},
            now=T0 + timedelta(minutes=i),
        )  # fmt: skip
    first = service.inbox(session=session, user=lan, limit=3)
    assert [n.subject for n in first.items] == [
        "Nhiệm vụ quá hạn: T-4",
        "Nhiệm vụ quá hạn: T-3",
        "Nhiệm vụ quá hạn: T-2",
    ]
    second = service.inbox(session=session, user=lan, limit=3, cursor=first.next_cursor)
    assert [n.subject[-3:] for n in second.items] == ["T-1", "T-0"] and second.next_cursor is None

    newest = first.items[0].id
    service.mark_read(session=session, user=lan, notification_id=newest, now=T0 + timedelta(hours=1))
    service.mark_read(session=session, user=lan, notification_id=newest, now=T0 + timedelta(hours=2))
    assert session.get(Notification, newest).read_at == T0 + timedelta(hours=1)  # type: ignore[union-attr]
    assert service.unread_count(session=session, user_id=lan.id) == 4
    unread = [n.id for n in service.inbox(session=session, user=lan, unread_only=True).items]
    assert len(unread) == 4 and newest not in unread
    with pytest.raises(NotFound, match=f"you have no notification {newest}"):
        service.mark_read(session=session, user=other, notification_id=newest)
    assert service.mark_all_read(session=session, user=lan) == 4
    assert service.unread_count(session=session, user_id=lan.id) == 0
    with pytest.raises(GovopsError, match="not one this server gave out"):
        service.inbox(session=session, user=lan, cursor="bogus!")


def test_a_kind_no_longer_known_still_shows(session: Session, person: Callable[..., User]) -> None:
    tom = person("tom", language="en")
    kind = kinds.register(kinds.Kind("test_gone", subject="Gone: %(x)s", body="Was %(x)s.", params=("x",)))
    try:
        service.notify(session=session, recipients=[tom.id], kind=kind.name, params={"x": "here"})
    finally:
        del kinds.KINDS["test_gone"]
    (shown,) = service.inbox(session=session, user=tom).items
    assert (shown.subject, shown.body) == ("Notification", "This notification (test_gone) can no longer be shown.")
