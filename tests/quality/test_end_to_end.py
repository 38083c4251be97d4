"""The whole loop over real HTTP (`govops serve` with its worker, a real SMTP server), on the suite's kind of store
(SQLite, or PostgreSQL with GOVOPS_TEST_DATABASE_URL): Hồ Chí Minh City uploads a month whose exports are 1000
times too large; the preview shows the warning, the receipt carries it, the province's officer is e-mailed, confirms
the value with a reason, the Government Office closes the flag, and the scorecard moves down and back up.
The same walk is then made in Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from govops.auth.service import create_user
from govops.catalog.models import Agency
from govops.catalog.service import load_reference
from govops.db.engine import make_engine, transaction
from govops.db.migrate import upgrade
from govops.exchange import service as exchange
from govops.periods import Period
from govops.warehouse.accept import ingest
from tests.audit.conftest import PASSWORD, token_of
from tests.cli.conftest import free_port
from tests.exchange.test_submit_preview import _filled, _press, _upload
from tests.notify.test_email import SmtpServer, text_of
from tests.quality.conftest import FIRST, MONTHS, expected, seasonal
from tests.web.test_browser import browser

__all__ = ["browser"]
LEVEL = 2100.0
MONTH = "2025-01"  # the month sent wrong, right after six years of history
SLIP = expected(LEVEL, MONTH) * 1000


@pytest.fixture
def live_store(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A store of its own, committed to (a server process reads it): a file, or a database of the suite's server."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        live = f"sqlite:///{tmp_path / 'live.db'}"
    else:
        name = f"{url.database}_quality_live"
        server = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
        with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        server.dispose()
        live = url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(live)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    with transaction(engine) as session:
        load_reference(session=session)
        _province_and_office(session)
    engine.dispose()
    yield live


def _province_and_office(session: Session) -> None:
    """Six years of Hồ Chí Minh City's exports (its own figures), its officer, the Government Office's analyst."""
    rows = [
        (m + 1, {"indicator": "EXPORTS", "area": "79", "period": str(FIRST + m), "value": seasonal(LEVEL, m),
                 "source": "PC-79"})
        for m in range(MONTHS)
    ]  # fmt: skip
    ingest(session=session, rows=rows, recorded_by="test", rules=False)
    create_user(session=session, username="can.bo.hcm", password=PASSWORD, full_name="Nguyễn Văn Bình",
                agency="PC-79", role="data_officer", email="binh@hcm.example", language="vi")  # fmt: skip
    create_user(session=session, username="chuyen.vien", password=PASSWORD, full_name="Trần Thị Mai", agency="GO",
                role="analyst")  # fmt: skip
    agency = session.scalar(select(Agency).where(Agency.code == "PC-79"))
    assert agency is not None
    member = exchange.console_member(session=session, agency=agency)
    exchange.grant(session=session, member=member, group="TRADE", read=True, write=True)


@contextmanager
def serving(url: str, folder: Path, **env: str) -> Iterator[str]:
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GOVOPS_")}
    environment |= {
        "GOVOPS_DATABASE_URL": url,
        "GOVOPS_PAGE_WARMER": "false",
        "GOVOPS_JOBS_POLL_SECONDS": "1",
        # The test's clients keep their connections while they wait for the e-mail: the server must not drop them.
        "GOVOPS_KEEP_ALIVE_TIMEOUT": "120",
    } | env
    log = folder / "server.log"
    with log.open("w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "govops", "serve", "--port", str(port)], cwd=folder,
                                env=environment, stdout=sink, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=1) as probe:
            for _ in range(150):
                try:
                    if probe.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            else:
                pytest.fail(f"server did not start: {log.read_text()}")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _wait(what: str, check: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    pytest.fail(f"{what} did not happen within {seconds} s")


def _signed_in(base: str, username: str) -> httpx.Client:
    # A new connection per request: a kept one the server drops mid-test would be left to the garbage collector.
    client = httpx.Client(
        base_url=base, timeout=30, follow_redirects=True, limits=httpx.Limits(max_keepalive_connections=0)
    )
    form = client.get("/signin")
    done = client.post("/signin", data={"username": username, "password": PASSWORD, "csrf_token": token_of(form.text)})
    assert done.status_code in (200, 303), done.text
    return client


def _internal(client: httpx.Client) -> float | None:
    """PC-79's internal consistency in the month, None while it sent nothing for it."""
    cards = client.get("/api/v1/quality/scorecards", params={"agency": "PC-79", "period": MONTH}).json()["items"]
    scores = [d["score"] for card in cards for d in card["dimensions"] if d["name"] == "internal_consistency"]
    return scores[0] if scores else None


@pytest.mark.slow
def test_exports_a_thousand_times_too_large_go_round_the_whole_loop_over_http(live_store: str, tmp_path: Path) -> None:
    smtp = SmtpServer(free_port())
    smtp.start()
    try:
        mail = {"GOVOPS_SMTP_HOST": "127.0.0.1", "GOVOPS_SMTP_PORT": str(smtp.port), "GOVOPS_SMTP_SEND_SECONDS": "1"}
        with ExitStack() as stack, serving(live_store, tmp_path, **mail) as base:
            officer = _signed_in(base, "can.bo.hcm")
            stack.callback(officer.close)
            before = _internal(officer)
            status, preview = _upload(officer, _filled(officer, 2025, {("EXPORTS", MONTH): SLIP}, group="TRADE"))  # type: ignore[arg-type]
            assert status == 200, preview
            assert "Giá trị có vẻ nhầm đơn vị: dự kiến khoảng" in preview
            status, receipt = _press(officer, preview, "confirm")  # type: ignore[arg-type]
            assert status == 201 and "Giá trị có vẻ nhầm đơn vị" in receipt
            (flag,) = officer.get("/api/v1/quality/flags").json()["items"]
            assert (flag["method"], flag["agency"], flag["status"], flag["value"]) == (
                "unit_slip",
                "PC-79",
                "open",
                SLIP,
            )
            assert before is None and _internal(officer) == 0.0  # its one value of the month is flagged

            _wait("the e-mail to the officer", lambda: len(smtp.inbox.received) >= 1, 30)
            (to, mail), *_ = smtp.inbox.received
            assert to == ["binh@hcm.example"] and mail["Subject"] == "Số liệu bị gắn cờ: EXPORTS"
            assert f"/quality/flags/{flag['id']}" in text_of(mail) or "unit_slip" in text_of(mail)

            page = officer.get(f"/quality/flags/{flag['id']}")
            answered = officer.post(f"/quality/flags/{flag['id']}/resolution",
                                    data={"csrf_token": token_of(page.text), "action": "confirm",
                                          "reason": "Lô hàng điện thoại xuất khẩu lớn trong tháng"})  # fmt: skip
            assert answered.status_code == 200 and "Đã xác nhận giá trị" in answered.text
            assert _internal(officer) == 100.0

            office = _signed_in(base, "chuyen.vien")
            stack.callback(office.close)
            page = office.get(f"/quality/flags/{flag['id']}")
            closing = {"csrf_token": token_of(page.text), "action": "close", "reason": "Đồng ý"}
            closed = office.post(f"/quality/flags/{flag['id']}/resolution", data=closing)
            assert closed.status_code == 200 and "Đã đóng cảnh báo" in closed.text
            final = office.get(f"/api/v1/quality/flags/{flag['id']}").json()
            assert [e["action"] for e in final["timeline"]] == ["raised", "confirmed", "closed"]
            assert final["flag"]["status"] == "confirmed" and final["flag"]["closed_by"] == "chuyen.vien"
    finally:
        smtp.stop()


@pytest.mark.slow
def test_the_same_walk_in_the_browser(live_store: str, tmp_path: Path, browser: Browser) -> None:
    with serving(live_store, tmp_path) as base:
        upload = tmp_path / "tp-hcm.xlsx"
        with httpx.Client(base_url=base, timeout=30) as fetch:
            form = fetch.get("/signin")
            fetch.post("/signin", data={"username": "can.bo.hcm", "password": PASSWORD,
                                        "csrf_token": token_of(form.text)})  # fmt: skip
            upload.write_bytes(_filled(fetch, 2025, {("EXPORTS", MONTH): SLIP}, group="TRADE"))  # type: ignore[arg-type]

        def signed_in(username: str) -> Any:
            page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
            page.goto(f"{base}/signin")
            page.fill("#username", username)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            return page

        officer = signed_in("can.bo.hcm")
        officer.goto(f"{base}/submit")
        officer.set_input_files("input[type=file]", str(upload))
        officer.locator("form[enctype] button[type=submit]").first.click()
        expect(officer.get_by_test_id("preview-warnings")).to_contain_text("Giá trị có vẻ nhầm đơn vị")
        officer.get_by_role("button", name="Xác nhận").first.click()
        expect(officer.get_by_test_id("receipt")).to_be_visible()
        officer.goto(f"{base}/quality")
        officer.get_by_test_id("flags").get_by_role("link", name="EXPORTS").click()
        expect(officer.get_by_test_id("flag-check")).to_contain_text("Nhầm đơn vị")
        expect(officer.get_by_test_id("flag-chart")).to_have_attribute("data-drawn", "true")
        officer.fill("textarea[name=reason]", "Lô hàng điện thoại xuất khẩu lớn trong tháng")
        officer.get_by_role("button", name="Giá trị là đúng").click()
        expect(officer.get_by_test_id("flag-reason")).to_contain_text("Lô hàng điện thoại")
        flag_url = officer.url
        assert officer.evaluate("() => document.documentElement.scrollWidth") <= 390

        office = signed_in("chuyen.vien")
        office.goto(flag_url)
        office.get_by_role("button", name="Đóng cảnh báo").click()
        expect(office.get_by_test_id("flag-timeline")).to_contain_text("Đã đóng cảnh báo")
        office.goto(f"{base}/quality/scorecards?period={MONTH}")
        expect(office.get_by_test_id("internal_consistency-PC-79")).to_contain_text("100")
        assert str(Period.parse(MONTH)) == MONTH
