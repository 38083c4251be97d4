"""Over real HTTP (`govops serve` with its worker): Ho Chi Minh City's system submits a month of retail sales far
outside the 95% band of its forecast, and within seconds (the submission's commit wakes the watcher) the early
warning reaches the analyst's inbox, an e-mail read back from a real SMTP server, and the
city's webhook receiver, naming the city as what drives the nation's deviation."""

from __future__ import annotations

import json
import time
import uuid

import httpx2 as httpx
import pytest

from govops.auth.service import create_user
from govops.db.engine import make_engine, transaction
from govops.exchange import service as exchange
from govops.exchange import webhooks
from govops.forecast import service
from tests.cli.conftest import Govops, govops, initialised_store, serving
from tests.exchange.test_webhooks import Receiver, receiver
from tests.forecast.test_service import month, retail, submit
from tests.notify.test_email import SmtpServer, free_port, text_of

__all__ = ["govops", "initialised_store", "receiver"]
MONTHS = 36
PASSWORD = "a-long-password-1"


def _wait(what: str, check: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.3)
    pytest.fail(f"{what} did not happen within {seconds} s")


def _events(receiver: Receiver) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for body in receiver.bodies():
        out += body.get("events", []) if isinstance(body, dict) else body
    return out


@pytest.mark.slow
def test_a_value_far_outside_its_band_reaches_the_inbox_an_email_and_a_webhook(
    govops: Govops, receiver: Receiver
) -> None:
    engine = make_engine(f"sqlite:///{govops.store}")
    with transaction(engine) as session:
        submit(
            session,
            [(a, month(i), retail(a, i, base)) for i in range(MONTHS) for a, base in (("01", 5e4), ("79", 9e4))],
        )
        service.run(
            session=session, series=service.store_series(session=session, indicator="RETAIL_SALES"), trigger="t"
        )
        member = exchange.create_member(session=session, agency="PC-79", system="ioc", name="HCMC IOC")
        exchange.grant(session=session, member=member, group="TRADE", read=True, write=True)
        key = exchange.issue_key(session=session, member=member).key
        webhooks.subscribe(session=session, member=member, url=receiver.url, topics=["forecasts"])
        create_user(
            session=session,
            username="go.analyst",
            password=PASSWORD,
            full_name="Chuyên viên",
            agency="GO",
            role="analyst",
            email="analyst@go.example",
            language="en",
        )
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
    try:
        with serving(govops) as base:
            expected = retail("79", MONTHS, 9e4)
            sent = httpx.post(
                f"{base}/api/v1/submissions",
                content=json.dumps(
                    {
                        "observations": [
                            {
                                "indicator": "RETAIL_SALES",
                                "area": "79",
                                "period": month(MONTHS),
                                "value": round(3 * expected, 1),
                            }
                        ]
                    }
                ).encode(),
                headers={
                    "Authorization": f"Bearer {key}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": uuid.uuid4().hex,
                },
                timeout=10,
            )
            assert sent.status_code == 201, sent.text
            submitted = time.monotonic()

            def warned() -> list[dict[str, object]]:
                return [e for e in _events(receiver) if e.get("type") == "forecast.warning"]

            _wait("the webhook's warning", lambda: len(warned()) >= 2, 30)  # the city's and the nation's
            assert time.monotonic() - submitted < 30
            by_area = {e["payload"]["area"]: e["payload"] for e in warned()}  # type: ignore[index]
            assert set(by_area) == {"79", "VN"}
            city = by_area["79"]
            assert city["kind"] == "outside_band" and city["period"] == month(MONTHS)
            assert city["value"] > city["upper"]  # type: ignore[operator]
            assert by_area["VN"]["drivers"][0]["area"] == "79"  # type: ignore[index]
            _wait("the e-mails", lambda: len(smtp.inbox.received) >= 2, 30)
            assert {tuple(to) for to, _ in smtp.inbox.received} == {("analyst@go.example",)}
            bodies = [text_of(mail) for _, mail in smtp.inbox.received]
            assert any("outside the 95% band" in b and "Hồ Chí Minh" in b for b in bodies), bodies
            with httpx.Client(base_url=base, timeout=10) as browser:
                form = browser.get("/signin").text
                token = form.split('name="csrf_token" value="')[1].split('"')[0]
                browser.post("/signin", data={"username": "go.analyst", "password": PASSWORD, "csrf_token": token})
                inbox = browser.get("/api/v1/notifications").json()
                warnings = browser.get("/forecasts/warnings?lang=en").text
            kinds = [n["kind"] for n in inbox["items"]]
            assert kinds.count("forecast_warning") == 2, kinds
            assert month(MONTHS) in warnings and "Hồ Chí Minh" in warnings
    finally:
        smtp.stop()
