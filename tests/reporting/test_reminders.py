"""Reminders before, on and after the deadline to the agency's data officers, escalation to the Government
Office's analysts, each once however often the job runs; every one announced as a `reporting` event."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from govops.auth.service import create_user
from govops.events.models import DomainEvent
from govops.notify.models import Notification
from govops.notify.service import render
from govops.reporting import service
from govops.reporting.models import Reminder
from govops.reporting.regimes import import_regimes
from tests.reporting.conftest import REGIME_FILE, submit, utc


def _setup(session: Session) -> tuple[int, int]:
    officer = create_user(
        session=session, username="hcm-officer", password="a-long-password-1", full_name="Cán bộ dữ liệu",
        agency="PC-79", role="data_officer", email="officer@hcm.example", language="en",
    )  # fmt: skip
    analyst = create_user(
        session=session, username="go-analyst", password="a-long-password-1", full_name="Chuyên viên",
        agency="GO", role="analyst", email="analyst@go.example",
    )  # fmt: skip
    import_regimes(session=session, text=REGIME_FILE, where="regimes.yaml", now=utc(2025, 8, 1))
    return officer.id, analyst.id


def _kinds(session: Session, user_id: int) -> list[str]:
    return list(session.scalars(select(Notification.kind).where(Notification.user_id == user_id)))


def test_before_on_and_after_the_deadline_then_escalation_each_once(session: Session) -> None:
    officer, analyst = _setup(session)
    # 10 September (VN): two days before August's deadline.
    before = utc(2025, 9, 10, 1)
    service.ensure_expected(session=session, now=before)
    assert service.send_reminders(session=session, now=before) == {"before": 34}
    assert service.send_reminders(session=session, now=before) == {}
    assert _kinds(session, officer) == ["report_due"]
    on_the_day = utc(2025, 9, 12, 1)
    assert service.send_reminders(session=session, now=on_the_day) == {"due": 34}
    # Ha Noi submits on time; Ho Chi Minh City sends only CPI.
    submit(session, utc(2025, 9, 12, 2), [("CPI", "01", "2025-08"), ("RETAIL_SALES", "01", "2025-08")])
    submit(session, utc(2025, 9, 12, 2), [("CPI", "79", "2025-08")])
    after = utc(2025, 9, 14, 1)
    service.pass_deadlines(session=session, now=after)
    assert service.send_reminders(session=session, now=after) == {"after": 33}
    twelve_days_on = utc(2025, 9, 24, 1)
    assert service.send_reminders(session=session, now=twelve_days_on) == {"escalated": 33}
    assert service.send_reminders(session=session, now=twelve_days_on) == {}
    assert _kinds(session, officer) == ["report_due", "report_due", "report_overdue"]
    assert _kinds(session, analyst) == ["report_escalated"] * 33
    # In the reader's language: the officer reads English, the analyst Vietnamese.
    overdue = session.scalars(
        select(Notification).where(Notification.user_id == officer, Notification.kind == "report_overdue")
    ).one()
    text = render(overdue, "en")
    assert text.subject == "Report overdue: TEST_MONTHLY (Test monthly report)"
    assert "was due on 2025-09-12; 1 of 2 values have arrived" in text.body
    assert "The report TEST_MONTHLY (Test monthly report) of PC-79" in text.body
    assert "TEST_MONTHLY (Báo cáo tháng thử nghiệm)" in render(overdue, "vi").subject
    escalation = session.scalars(select(Notification).where(Notification.user_id == analyst).limit(1)).one()
    assert render(escalation, "vi").subject.startswith("Trễ quá 10 ngày")
    # Each reminder is recorded once and announced to the agency's own subscribers.
    assert session.query(Reminder).count() == 34 + 34 + 33 + 33
    events = session.scalars(
        select(DomainEvent).where(DomainEvent.type == "reporting.reminder_sent", DomainEvent.read_agency == "PC-79")
    ).all()
    assert sorted(e.subject for e in events) == ["TEST_MONTHLY/PC-79/2025-08"] * 4
