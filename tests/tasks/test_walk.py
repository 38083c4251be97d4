"""The issue's "done when", walked once over real HTTP and in Chromium against `govops serve` (with its worker), on the
store the suite runs on (SQLite, or PostgreSQL when GOVOPS_TEST_DATABASE_URL names one):

the Government Office enters a directive from its text and confirms the proposed tasks, ties the first to an
indicator's target; the lead agency's document system reports progress by API; the deadline passes and the watch
turns the task overdue, its officer is e-mailed once and the Government Office's system gets the event by webhook;
the leader's view puts it first; the officer reports and asks for an extension on a phone, the Government Office
grants it; the indicator reaches its target and the task closes on time; the figures move, on the page and by API.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import text
from sqlalchemy.engine import make_url

from govops.auth.service import create_user
from govops.db.engine import make_engine, transaction
from govops.exchange import service as exchange
from govops.exchange import webhooks
from govops.periods import Freq, Period
from tests.cli.conftest import Govops, serving
from tests.exchange.test_webhooks import Receiver, receiver
from tests.notify.test_email import SmtpServer, free_port
from tests.web.test_browser import ARGS, CHROMIUM

__all__ = ["receiver"]

PASSWORD = "a-long-password-1"
PHONE = {"width": 390, "height": 844}
WALL = {"width": 1920, "height": 1080}


@pytest.fixture
def store_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A store of the walk's own, of the suite's kind: the server and the worker commit to it."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'govops.db'}"
        return
    name = f"{url.database}_walk"
    server = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def _wait(what: str, check: Callable[[], object], seconds: float = 40) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    pytest.fail(f"{what} did not happen within {seconds} s")


def _events(receiver: Receiver, kind: str) -> list[dict[str, Any]]:
    """The events of a kind the receiver got, in order (each delivery carries a batch of them)."""
    return [e for body in receiver.bodies() for e in body["events"] if e["type"] == kind]


def _sign_in(browser: Browser, base: str, username: str, viewport: dict[str, int]) -> Page:
    page = browser.new_context(viewport=viewport).new_page()  # type: ignore[arg-type]
    page.goto(f"{base}/signin")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


def _dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


@pytest.mark.slow
def test_a_directive_s_task_followed_from_its_text_to_its_closing_on_data(
    store_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    today = date.today()
    signed, deadline, extended = today - timedelta(days=20), today - timedelta(days=1), today + timedelta(days=30)
    govops = Govops(tmp_path / "govops.db", tmp_path)
    govops.env["GOVOPS_DATABASE_URL"] = store_url
    made = govops("init")
    assert made.code == 0, made.err
    engine = make_engine(store_url)
    with transaction(engine) as session:
        create_user(session=session, username="vpcp.analyst", password=PASSWORD, full_name="Chuyên viên VPCP",
                    agency="GO", role="analyst")  # fmt: skip
        create_user(session=session, username="btc.officer", password=PASSWORD, full_name="Cán bộ Bộ Tài chính",
                    agency="MOF", role="data_officer", email="officer@mof.example")  # fmt: skip
        edoc = exchange.create_member(session=session, agency="MOF", system="qlvb", name="Quản lý văn bản BTC")
        exchange.grant(session=session, member=edoc, group="INVESTMENT", read=True, write=True)
        mof_key = exchange.issue_key(session=session, member=edoc).key
        ioc = exchange.create_member(session=session, agency="GO", system="ioc", name="Trung tâm điều hành VPCP")
        go_key = exchange.issue_key(session=session, member=ioc).key
        webhooks.subscribe(session=session, member=ioc, url=receiver.url, topics=["tasks"])
    engine.dispose()
    smtp = SmtpServer(free_port())
    smtp.start()
    govops.env |= {
        "GOVOPS_SMTP_HOST": "127.0.0.1",
        "GOVOPS_SMTP_PORT": str(smtp.port),
        "GOVOPS_JOBS_POLL_SECONDS": "1",
        "GOVOPS_SMTP_SEND_SECONDS": "1",
        "GOVOPS_PAGE_WARMER": "false",
    }
    shots = tmp_path / "shots"
    shots.mkdir()
    try:
        with serving(govops) as base, sync_playwright() as playwright, httpx.Client(base_url=base, timeout=15) as api:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            office_api = {"Authorization": f"Bearer {go_key}"}
            edoc_api = {"Authorization": f"Bearer {mof_key}", "X-Govops-Source": "edoc"}

            # The Government Office enters a directive from its text and confirms the proposed tasks.
            office = _sign_in(browser, base, "vpcp.analyst", WALL)
            office.goto(f"{base}/directives/new")
            office.select_option("select[name=kind]", "dispatch")
            office.fill("input[name=number]", "88/CĐ-TTg")
            office.fill("input[name=signed_on]", signed.isoformat())
            office.fill("input[name=signer]", "Thủ tướng Chính phủ")
            office.fill("input[name=title]", "Công điện về đẩy mạnh giải ngân vốn đầu tư công")
            office.fill(
                "textarea[name=text]",
                f"1. Bộ Tài chính chủ trì, phối hợp với Bộ Tư pháp đẩy mạnh giải ngân vốn đầu tư công, hoàn thành "
                f"trước ngày {deadline.day}/{deadline.month}/{deadline.year}.\n"
                "2. Bộ Công Thương theo dõi sát thị trường xăng dầu, báo cáo Thủ tướng Chính phủ hằng tháng.\n",
            )
            office.click("button[name=action][value=preview]")
            proposals = office.locator("[data-testid=proposals] tbody tr")
            expect(proposals).to_have_count(2)
            assert office.input_value("input[name=lead_0]") == "MOF"
            assert office.input_value("input[name=coordinating_0]") == "MOJ"
            assert office.input_value("input[name=deadline_0]") == deadline.isoformat()
            assert office.input_value("input[name=lead_1]") == "MOIT"
            office.screenshot(path=str(shots / "1-proposed-1920.png"), full_page=True)
            office.click("[data-testid=confirm-directive]")
            office.wait_for_url(re.compile(r".*/directives/\d+$"))
            cards = office.locator("[data-testid=directive-tasks] li.task-card")
            expect(cards).to_have_count(2)
            card = cards.filter(has_text="giải ngân vốn đầu tư công")
            task_id = int((card.get_attribute("data-testid") or "").removeprefix("task-"))
            task_url = f"{base}/tasks/{task_id}"

            # ... and ties it to the data that will prove it done.
            office.goto(task_url)
            office.select_option("[data-testid=indicator-form] select[name=indicator]", "PI_DISBURSED")
            office.fill("[data-testid=indicator-form] input[name=target]", "50000")
            office.click("[data-testid=indicator-form] button[type=submit]")
            linked = office.locator("[data-testid=linked-indicators] [data-indicator=PI_DISBURSED]")
            expect(linked).to_contain_text("chưa đạt")

            # The lead agency's document system reports progress by API.
            reported = api.post(
                f"/api/v1/tasks/{task_id}/progress",
                headers=edoc_api,
                json={"percent": 40, "text": "Đã rà soát danh mục dự án chậm giải ngân", "health": "amber"},
            )
            assert reported.status_code == 201, reported.text

            # The deadline has passed: the watch (run twice, as two workers might) turns the task overdue, e-mails
            # the officer once and the Government Office's system receives the event.
            for _ in range(2):
                ran = govops("jobs", "run", "tasks.watch")
                assert ran.code == 0, ran.err
            _wait("the overdue e-mail", lambda: len(smtp.inbox.received) >= 1)
            _wait("the overdue event", lambda: _events(receiver, "tasks.overdue"))
            time.sleep(3)  # more rounds of the e-mail sender and the webhook worker: nothing else goes out
            assert [to for to, _ in smtp.inbox.received] == [["officer@mof.example"]]
            assert smtp.inbox.received[0][1]["Subject"].startswith(f"Nhiệm vụ quá hạn: #{task_id} ")
            overdue = _events(receiver, "tasks.overdue")
            assert [(e["payload"]["task"], e["payload"]["lead"], e["payload"]["due"]) for e in overdue] == [
                (task_id, "MOF", deadline.isoformat())
            ]
            office.goto(f"{base}/tasks/leader")
            first = office.locator("[data-testid=leader-list] li.task-card").first
            expect(first).to_have_attribute("data-testid", f"task-{task_id}")
            expect(first).to_contain_text("1 ngày quá hạn")
            expect(first.locator("[data-health=red]")).to_have_count(1)
            office.screenshot(path=str(shots / "2-leader-overdue-1920.png"))

            # The officer, on a phone: the notification, a report, and a request for more time.
            officer = _sign_in(browser, base, "btc.officer", PHONE)
            officer.goto(f"{base}/notifications")
            expect(officer.locator("main")).to_contain_text(f"#{task_id}")
            officer.goto(task_url)
            expect(officer.locator("[data-status=open_overdue]").first).to_be_visible()
            officer.fill("[data-testid=report-form] input[name=percent]", "60")
            officer.fill("[data-testid=report-form] textarea[name=text]", "Đã giải ngân thêm 12.000 tỷ đồng")
            officer.click("[data-testid=report-form] button[type=submit]")
            expect(officer.locator("[data-testid=task-progress]")).to_contain_text("60")
            officer.fill("[data-testid=extension-form] input[name=deadline]", extended.isoformat())
            officer.fill("[data-testid=extension-form] textarea[name=reason]", "Chờ Quốc hội điều chỉnh kế hoạch vốn")
            officer.click("[data-testid=extension-form] button[type=submit]")
            expect(officer.locator("[data-testid=extensions]")).to_contain_text("chờ Văn phòng Chính phủ quyết định")
            assert officer.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
            officer.screenshot(path=str(shots / "3-officer-asks-390.png"), full_page=True)

            # The Government Office grants it: the deadline moves, the first one stays in the timeline.
            office.goto(task_url)
            office.fill("[data-testid=decide-extension] input[name=note]", "Đồng ý gia hạn")
            office.click("[data-testid=decide-extension] button[value=yes]")
            expect(office.locator("[data-testid=extensions]")).to_contain_text("đã chấp thuận")
            expect(office.locator("[data-testid=task-deadline]")).to_contain_text(_dmy(extended))
            expect(office.locator("[data-testid=task-deadline]")).to_contain_text(_dmy(deadline))
            expect(office.locator(".task-head [data-status=open_in_time]")).to_have_count(1)
            before = api.get("/api/v1/tasks/summary", headers=office_api).json()["overall"]

            # The indicator reaches its target: the watch closes the task, on time (within its new deadline).
            month = str(Period.from_date(today, Freq.M) - 1)
            sent = api.post(
                "/api/v1/submissions",
                headers={"Authorization": f"Bearer {mof_key}", "Idempotency-Key": uuid.uuid4().hex},
                json={"observations": [{"indicator": "PI_DISBURSED", "area": "VN", "period": month, "value": 61250}]},
            )
            assert sent.status_code == 201, sent.text
            ran = govops("jobs", "run", "tasks.watch")
            assert ran.code == 0, ran.err
            closed = api.get(f"/api/v1/tasks/{task_id}", headers=office_api).json()
            assert (closed["task"]["status"], closed["task"]["closed_on"]) == ("done_on_time", today.isoformat())
            assert closed["task"]["evidence"] == "PI_DISBURSED/VN = 61250"
            assert [(i["value"], i["reached_on"]) for i in closed["indicators"]] == [(61250.0, today.isoformat())]
            _wait("the closing event", lambda: _events(receiver, "tasks.done"))
            assert [e["payload"]["status"] for e in _events(receiver, "tasks.done")] == ["done_on_time"]
            after = api.get("/api/v1/tasks/summary", headers=office_api).json()["overall"]
            assert after["done_on_time"] == before["done_on_time"] + 1
            assert after["open_in_time"] == before["open_in_time"] - 1
            assert after["open_overdue"] == before["open_overdue"] == 0
            office.goto(f"{base}/tasks/leader")
            expect(office.locator("[data-testid=fig-done_on_time]")).to_have_text(str(after["done_on_time"]))
            expect(office.locator(f"[data-testid=leader-list] [data-testid=task-{task_id}]")).to_have_count(0)
            office.goto(task_url)
            expect(office.locator("[data-testid=task-closed]")).to_contain_text("PI_DISBURSED/VN = 61250")
            kinds = office.locator("[data-testid=timeline] li").evaluate_all("els => els.map(e => e.dataset.kind)")
            assert kinds == [
                "closed",
                "extension_approved",
                "extension_requested",
                "report",
                "health",
                "overdue",
                "health",
                "report",
                "indicator_linked",
                "assigned",
            ]
            office.screenshot(path=str(shots / "4-closed-1920.png"), full_page=True)
            # No second e-mail: the task was announced overdue once, and is not due again.
            assert len(smtp.inbox.received) == 1

            # The calendar: a month grid on the wall screen, a list of days on the phone.
            calendar = f"{base}/tasks/calendar?agency=MOF&month={extended.strftime('%Y-%m')}"
            for page, width, layout in ((office, WALL["width"], "grid"), (officer, PHONE["width"], "block")):
                page.goto(calendar)
                day = page.locator(f"[data-day='{extended.isoformat()}']")
                expect(day.locator(f"[data-testid=cal-task-{task_id}]")).to_have_attribute(
                    "data-status", "done_on_time"
                )
                assert page.locator("[data-testid=calendar]").evaluate("e => getComputedStyle(e).display") == layout
                assert page.evaluate("() => document.documentElement.scrollWidth") <= width
                page.screenshot(path=str(shots / f"5-calendar-{width}.png"), full_page=True)
            weekdays = officer.locator("[data-testid=calendar] .weekday").first
            assert weekdays.evaluate("e => getComputedStyle(e).display") == "none"
            browser.close()
    finally:
        smtp.stop()
