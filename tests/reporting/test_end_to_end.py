"""Over real HTTP (`govops serve` with its worker): an agency's system submits after the deadline and its report
turns late at once (the submission's commit wakes the worker; the scheduled job is not needed), the board shows
it, its webhook receives the `reporting` events, and the overdue reminder e-mail of another agency reaches a real
SMTP server exactly once, however often the reminders run."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, date, datetime

import httpx2 as httpx
import pytest
from sqlalchemy import select

from govops.auth.service import create_user
from govops.db.engine import make_engine, transaction
from govops.exchange import service as exchange
from govops.exchange import webhooks
from govops.jobs.models import JobRun
from govops.periods import Freq, Period
from govops.reporting import service
from tests.cli.conftest import Govops, serving
from tests.exchange.test_webhooks import Receiver, receiver
from tests.notify.test_email import SmtpServer, free_port, text_of

__all__ = ["receiver"]

PERIOD = str(Period.from_date(date.today(), Freq.M) - 2)  # its deadline, the 1st of last month, has passed
REGIME = f"""\
regimes:
  - code: E2E_MONTHLY
    versions:
      - {{from: "{PERIOD}", name_vi: Báo cáo doanh nghiệp tháng, name_en: Monthly business report,
         legal_basis: Nghị định 09/2019/NĐ-CP, frequency: M, deadline: day 1 of the month after the period,
         indicators: [ENT_NEW], reporters: {{agencies: [PC-79, PC-01], coverage: own_area}}}}
"""


def _wait(what: str, check: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.5)
    pytest.fail(f"{what} did not happen within {seconds} s")


@pytest.mark.slow
def test_a_late_submission_turns_late_within_a_minute_and_reminders_go_out_once(
    govops: Govops, receiver: Receiver
) -> None:
    engine = make_engine(f"sqlite:///{govops.store}")
    with transaction(engine) as session:
        service.import_regimes(session=session, text=REGIME, where="e2e.yaml")
        service.ensure_expected(session=session)
        service.follow_changes(session=session)
        member = exchange.create_member(session=session, agency="PC-79", system="ioc", name="HCMC IOC")
        exchange.grant(session=session, member=member, group="ENTERPRISES", read=True, write=True)
        key = exchange.issue_key(session=session, member=member).key
        webhooks.subscribe(session=session, member=member, url=receiver.url, topics=["reporting"])
        create_user(session=session, username="hanoi.officer", password="a-long-password-1", full_name="Cán bộ",
                    agency="PC-01", role="data_officer", email="officer@hanoi.example", language="en")  # fmt: skip
        create_user(session=session, username="go.analyst", password="a-long-password-1", full_name="Chuyên viên",
                    agency="GO", role="analyst")  # fmt: skip
    engine.dispose()
    smtp = SmtpServer(free_port())
    smtp.start()
    govops.env |= {
        "GOVOPS_SMTP_HOST": "127.0.0.1",
        "GOVOPS_SMTP_PORT": str(smtp.port),
        "GOVOPS_JOBS_POLL_SECONDS": "1",
        "GOVOPS_SMTP_SEND_SECONDS": "1",
        # The scheduled safety net once an hour: the status turns because the submission's commit wakes the worker.
        "GOVOPS_REPORTING_FOLLOW_SECONDS": "3600",
        "GOVOPS_PAGE_WARMER": "false",
    }
    try:
        with serving(govops) as base:

            def scheduled_starts() -> list[datetime | None]:
                engine = make_engine(f"sqlite:///{govops.store}")
                try:
                    with engine.connect() as conn:
                        job = JobRun.job == "reporting.follow-changes"
                        return list(conn.scalars(select(JobRun.started_at).where(job)))
                finally:
                    engine.dispose()

            # The schedule's first run comes as the worker starts: once it has, the next is an hour away.
            _wait("the follower's first scheduled run", lambda: bool(scheduled_starts()), 30)
            auth = {"Authorization": f"Bearer {key}"}
            sent = httpx.post(
                f"{base}/api/v1/submissions",
                content=json.dumps(
                    {"observations": [{"indicator": "ENT_NEW", "area": "79", "period": PERIOD, "value": 4100}]}
                ).encode(),
                headers=auth | {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex},
                timeout=10,
            )
            assert sent.status_code == 201, sent.text

            def late() -> bool:
                rows = httpx.get(f"{base}/api/v1/reporting/compliance", params={"regime": "E2E_MONTHLY"},
                                 headers=auth, timeout=5).json()["items"]  # fmt: skip
                return bool(rows) and rows[0]["status"] == "late"

            submitted, submitted_at = time.monotonic(), datetime.now(UTC)
            _wait("the status turning late", late, 10)
            assert time.monotonic() - submitted < 10
            # Not the scheduled job: none of its runs started after the submission.
            starts = scheduled_starts()
            assert all(started is None or started < submitted_at for started in starts), starts
            _wait("the webhook", lambda: any(b.get("type") == "reporting.status_changed"
                                             for b in _events(receiver)), 30)  # fmt: skip
            changed = next(b for b in _events(receiver) if b["type"] == "reporting.status_changed")
            assert changed["subject"] == f"E2E_MONTHLY/PC-79/{PERIOD}"
            assert (changed["payload"]["previous"], changed["payload"]["status"]) == ("missing", "late")
            # Hanoi has sent nothing: the reminders, run twice (by hand, as two workers might), e-mail once.
            for _ in range(2):
                ran = govops("jobs", "run", "reporting.reminders")
                assert ran.code == 0, ran.err
            # Two of Hanoi's reports are overdue (this period's and the next one's): one e-mail each.
            _wait("the reminder e-mails", lambda: len(smtp.inbox.received) >= 2, 40)
            time.sleep(3)  # more rounds of the e-mail sender: nothing else goes out
            assert [to for to, _ in smtp.inbox.received] == [["officer@hanoi.example"]] * 2
            subjects = {mail["Subject"] for _, mail in smtp.inbox.received}
            # The officer reads English: the regime's English name.
            assert subjects == {"Report overdue: E2E_MONTHLY (Monthly business report)"}
            bodies = sorted(text_of(mail) for _, mail in smtp.inbox.received)
            after = str(Period(PERIOD) + 1)
            assert f"The report E2E_MONTHLY (Monthly business report) of PC-01 for {PERIOD}" in bodies[0]
            assert f"of PC-01 for {after}" in bodies[1]
            # The board shows it to the Government Office's analyst.
            with httpx.Client(base_url=base, timeout=10) as browser:
                form = browser.get("/signin").text
                token = form.split('name="csrf_token" value="')[1].split('"')[0]
                browser.post("/signin", data={"username": "go.analyst", "password": "a-long-password-1",
                                              "csrf_token": token})  # fmt: skip
                board = browser.get("/reporting").text
            row = board.split('data-agency="PC-79"')[1].split("</tr>")[0]
            assert 'data-status="late"' in row
            assert 'data-status="missing"' in board.split('data-agency="PC-01"')[1].split("</tr>")[0]
    finally:
        smtp.stop()


def _events(receiver: Receiver) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for body in receiver.bodies():
        out += body.get("events", []) if isinstance(body, dict) else body
    return out
