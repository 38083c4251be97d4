"""The issue's "done when", walked over real HTTP against `govops serve` (with its worker), on the store the suite
runs on (SQLite, or PostgreSQL when GOVOPS_TEST_DATABASE_URL names one):

the Government Office imports the year's targets from a file with `govops targets import` (one of them cascaded to
two provinces); the board says it is on track; Ho Chi Minh City's system submits September's exports, far below its
path; the target's probability falls below its threshold, and the alert reaches Ho Chi Minh City's officer by
e-mail and the Government Office's system by webhook, naming the city as what pulls the target down.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import yaml
from sqlalchemy import select

from govops.auth.service import create_user
from govops.db.engine import make_engine, transaction
from govops.exchange import service as exchange
from govops.exchange import webhooks
from govops.notify.models import Notification
from govops.warehouse.accept import ingest
from tests.cli.conftest import Govops, serving
from tests.exchange.test_webhooks import Receiver, receiver
from tests.notify.test_email import SmtpServer, free_port
from tests.targets.test_service import exports, year_total
from tests.tasks.test_walk import store_url

__all__ = ["receiver", "store_url"]


def _wait(what: str, check: Callable[[], object], seconds: float = 40) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    pytest.fail(f"{what} did not happen within {seconds} s")


def _alerts(receiver: Receiver) -> list[dict[str, Any]]:
    return [e for body in receiver.bodies() for e in body["events"] if e["type"] == "targets.alert"]


TARGETS = {
    "plans": [
        {
            "code": "T-01/2026",
            "kind": "resolution",
            "title_vi": "Nghị quyết thử",
            "title_en": "A test resolution",
            "issuer": "Chính phủ",
            "demo": True,
        }
    ],
    "targets": [
        {
            "code": "EXP-2026",
            "plan": "T-01/2026",
            "name_vi": "Kim ngạch xuất khẩu năm 2026",
            "name_en": "Exports in 2026",
            "indicator": "EXPORTS",
            "comparator": "at_least",
            "value": round(year_total(4000, 2026) * 0.99),
            "unit": "MN_USD",
            "period": "2026",
            "agencies": ["MOIT"],
            "cascade": [
                {"area": "01", "value": round(year_total(1000, 2026) * 0.99)},
                {"area": "79", "value": round(year_total(3000, 2026) * 0.99)},
            ],
        }
    ],
}


@pytest.mark.slow
def test_a_month_s_data_moves_a_target_below_its_threshold_and_the_alert_names_the_province(
    store_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    govops = Govops(tmp_path / "govops.db", tmp_path)
    govops.env["GOVOPS_DATABASE_URL"] = store_url
    made = govops("init")
    assert made.code == 0, made.err
    engine = make_engine(store_url)
    rows = [
        (area, f"{year}-{month:02d}", exports(base, year, month))
        for year in range(2019, 2027)
        for month in range(1, 13 if year < 2026 else 9)
        for area, base in (("01", 1000), ("79", 3000))
    ]
    with transaction(engine) as session:
        create_user(session=session, username="hcm.officer", password="a-long-password-1", full_name="Cán bộ",
                    agency="PC-79", role="data_officer", email="officer@hcm.example")  # fmt: skip
        hcm = exchange.create_member(session=session, agency="PC-79", system="stats", name="Số liệu TP.HCM")
        exchange.grant(session=session, member=hcm, group="TRADE", read=True, write=True)
        hcm_key = exchange.issue_key(session=session, member=hcm).key
        ioc = exchange.create_member(session=session, agency="GO", system="ioc", name="Trung tâm điều hành VPCP")
        exchange.grant(
            session=session, member=ioc, group="TRADE", read=True, write=False
        )  # an alert is read like its data
        webhooks.subscribe(session=session, member=ioc, url=receiver.url, topics=["targets"])
        ingest(
            session=session,
            rows=[
                (n, {"indicator": "EXPORTS", "area": a, "period": p, "value": v}) for n, (a, p, v) in enumerate(rows)
            ],
            recorded_by="history",
            rules=False,
        )
    engine.dispose()  # its connection closed now, not when the collector finds it in a later test
    file = tmp_path / "targets.yaml"
    file.write_text(yaml.safe_dump(TARGETS, allow_unicode=True), encoding="utf-8")
    imported = govops("targets", "import", str(file))
    assert imported.code == 0, imported.err
    assert "1 plans and 1 targets" in imported.out
    board = govops("targets", "board", "--year", "2026")
    assert board.code == 0, board.err
    line = next(x for x in board.out.splitlines() if "EXP-2026" in x)
    assert "on_track" in line and "2026-08" in line

    smtp = SmtpServer(free_port())
    smtp.start()
    govops.env |= {
        "GOVOPS_SMTP_HOST": "127.0.0.1",
        "GOVOPS_SMTP_PORT": str(smtp.port),
        "GOVOPS_JOBS_POLL_SECONDS": "1",
        "GOVOPS_SMTP_SEND_SECONDS": "1",
        "GOVOPS_PAGE_WARMER": "false",
    }
    try:
        with serving(govops) as base, httpx.Client(base_url=base, timeout=30) as api:
            listed = api.get("/api/v1/targets", params={"year": 2026, "level": "nation"}).json()["items"]
            [national] = [t for t in listed if t["code"] == "EXP-2026"]
            before = api.get(f"/api/v1/targets/{national['id']}/progress").json()
            assert before["rating"] == "on_track" and before["probability"] > 0.9

            sent = api.post(
                "/api/v1/submissions",
                headers={"Authorization": f"Bearer {hcm_key}", "Idempotency-Key": uuid.uuid4().hex},
                json={"observations": [{"indicator": "EXPORTS", "area": "79", "period": "2026-09", "value": 150}]},
            )
            assert sent.status_code == 201, sent.text

            # The worker's follower computes the target again once the submission's commit wakes it.
            def progress() -> dict[str, Any]:
                return dict(api.get(f"/api/v1/targets/{national['id']}/progress").json())

            _wait("the progress with September's value", lambda: progress()["as_of"] == "2026-09")
            after = progress()
            assert after["probability"] < 0.5 < before["probability"]
            assert after["drivers"][0]["area"] == "79"
            assert after["history"][0]["rating"] != "on_track"

            _wait("the alert by webhook", lambda: [e for e in _alerts(receiver) if e["subject"] == "EXP-2026"])
            alert = next(e for e in _alerts(receiver) if e["subject"] == "EXP-2026")
            assert alert["payload"]["provinces"][0]["area"] == "79"
            assert (
                alert["payload"]["probability"]
                < alert["payload"]["threshold"]
                <= alert["payload"]["probability_before"]
            )

            # (The city's officer is also told that quality checks flagged the value, in an e-mail of its own.)
            def alert_mails() -> list[Any]:
                return [
                    m
                    for to, m in smtp.inbox.received
                    if to == ["officer@hcm.example"] and m["Subject"].startswith("Chỉ tiêu có nguy cơ không đạt")
                ]

            _wait("the alert by e-mail", alert_mails)
            mail = alert_mails()[0]
            assert "Thành phố Hồ Chí Minh" in mail.get_body(preferencelist=("plain",)).get_content()
    finally:
        smtp.stop()
    engine = make_engine(store_url)
    with transaction(engine) as session:
        inbox = session.scalars(select(Notification).where(Notification.kind == "target_alert")).all()
        assert inbox, "the alert is in the inbox"
    engine.dispose()
