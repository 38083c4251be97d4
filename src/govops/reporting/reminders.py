"""Reminders and escalation: the agency's data officers before, on and after each deadline, the Government
Office's analysts for reports late beyond a threshold; each reminder once, whatever the number of workers (the
insert of its (report, stage) row is the claim), and each announced as a `reporting` event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govops.auth.models import User
from govops.db.base import utcnow
from govops.events.service import ReadRule, emit
from govops.notify.kinds import Kind, register
from govops.notify.service import notify
from govops.reporting.compliance import TOPIC
from govops.reporting.context import Context, today_in_vietnam
from govops.reporting.models import ExpectedReport, Reminder
from govops.reporting.rules import ZONE


def _(message: str) -> str:
    """Marks a message for the catalogue; notifications are translated when shown, in the reader's language."""
    return message


# Days before the deadline the first reminder goes out; days after it the Government Office's analysts are told.
REMIND_BEFORE_DAYS = 3
ESCALATE_AFTER_DAYS = 10
# Reports whose deadline is older than this are not reminded of any more (their escalation was sent).
REMINDER_WINDOW_DAYS = 35
REMINDER_SENT = "reporting.reminder_sent"

REPORT_OVERDUE = register(
    Kind(
        "report_overdue",
        subject=_("Report overdue: %(report)s"),
        body=_(
            "The report %(report)s of %(agency)s for %(period)s was due on %(due)s; %(present)s of %(required)s "
            "values have arrived. Submit the rest now."
        ),
        params=("report", "agency", "period", "due", "present", "required"),
    )
)
REPORT_ESCALATED = register(
    Kind(
        "report_escalated",
        subject=_("Late beyond %(days)s days: %(report)s of %(agency)s"),
        body=_(
            "%(agency)s has not submitted the report %(report)s for %(period)s, due on %(due)s (%(present)s of "
            "%(required)s values arrived)."
        ),
        params=("report", "agency", "period", "due", "present", "required", "days"),
    )
)


def _stages(report: ExpectedReport, today: date, now: datetime) -> list[str]:
    due_day = report.deadline.astimezone(ZONE).date()
    if report.status == "not_due":
        if due_day == today:
            return ["due"]
        return ["before"] if 0 < (due_day - today).days <= REMIND_BEFORE_DAYS else []
    if report.status in ("partial", "missing") and now > report.grace_until:
        return ["after", "escalated"] if (today - due_day).days >= ESCALATE_AFTER_DAYS else ["after"]
    return []


def _claim(session: Session, report: ExpectedReport, stage: str, now: datetime) -> Reminder | None:
    """The reminder's row, or None when it was sent already (by this worker or another): the unique
    (report, stage) lets one insert win."""
    reminder = Reminder(expected_id=report.id, stage=stage, sent_at=now, recipients=0)
    try:
        with session.begin_nested():
            session.add(reminder)
    except IntegrityError:
        return None
    return reminder


def _people(session: Session, *, role: str, agency_ids: Sequence[int]) -> list[int]:
    return list(
        session.scalars(
            select(User.id).where(User.role == role, User.active.is_(True), User.agency_id.in_(list(agency_ids)))
        )
    )


def send_reminders(*, session: Session, now: datetime | None = None) -> dict[str, int]:
    """Remind the agencies' data officers before, on and after each deadline, and tell the Government Office's
    analysts of reports late beyond ESCALATE_AFTER_DAYS; each reminder once. How many of each stage were sent."""
    now = now or utcnow()
    today = today_in_vietnam(now)
    context = Context.load(session)
    window = (now - timedelta(days=REMINDER_WINDOW_DAYS), now + timedelta(days=REMIND_BEFORE_DAYS + 1))
    reports = session.scalars(
        select(ExpectedReport)
        .where(
            ExpectedReport.deadline.between(*window),
            ExpectedReport.status.in_(("not_due", "partial", "missing")),
        )
        .order_by(ExpectedReport.id)
    ).all()
    office = [r.id for r in context.reporters.values() if r.kind == "government_office"]
    analysts = _people(session, role="analyst", agency_ids=office) if office else []
    sent: dict[str, int] = defaultdict(int)
    for report in reports:
        for stage in _stages(report, today, now):
            reminder = _claim(session, report, stage, now)
            if reminder is None:
                continue
            version = context.versions[report.version_id]
            agency = context.reporters[report.agency_id].code
            regime = context.regime_codes[report.regime_id]
            recipients = (
                analysts
                if stage == "escalated"
                else _people(session, role="data_officer", agency_ids=[report.agency_id])
            )
            params: dict[str, Any] = {
                "report": f"{regime} ({version.name_vi})",
                "report.en": f"{regime} ({version.name_en})",
                "agency": agency,
                "period": report.period,
                "due": report.deadline.astimezone(ZONE).date().isoformat(),
            }
            kind = "report_due"
            if stage in ("after", "escalated"):
                params |= {"present": report.present, "required": report.required}
                kind = "report_overdue"
            if stage == "escalated":
                params["days"] = ESCALATE_AFTER_DAYS
                kind = "report_escalated"
            if recipients:
                notify(
                    session=session,
                    recipients=recipients,
                    kind=kind,
                    params=params,
                    link=f"/reporting/agencies/{agency}",
                    now=now,
                )
            reminder.recipients = len(recipients)
            emit(
                session=session,
                topic=TOPIC,
                type=REMINDER_SENT,
                subject=f"{regime}/{agency}/{report.period}",
                payload={"regime": regime, "agency": agency, "period": report.period, "stage": stage,
                         "status": report.status, "deadline": report.deadline.isoformat(),
                         "recipients": len(recipients)},
                rule=ReadRule("public", agency=agency),
                now=now,
            )  # fmt: skip
            sent[stage] += 1
    session.flush()
    return dict(sent)
