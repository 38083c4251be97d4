"""A slow SMTP server never holds up webhook deliveries: both run in one worker, e-mail off to one side."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from govops.auth.service import create_user
from govops.db.engine import transaction
from govops.exchange.worker import Worker
from tests.exchange.test_webhooks import Receiver, _subscribe, _write, receiver, store, template  # noqa: F401
from tests.notify.test_email import Inbox, SmtpServer, notify, row, settings_for, smtp  # noqa: F401

LONGEST_STALL = 30.0  # seconds; the sender's SMTP timeout is longer


class StallingInbox(Inbox):
    """Sits on each e-mail until `release` is set; `stalling` is set as soon as one has come in."""

    def __init__(self) -> None:
        super().__init__()
        self.stalling, self.release = threading.Event(), threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.stalling.set()
        until = time.monotonic() + LONGEST_STALL
        while not self.release.is_set() and time.monotonic() < until:
            await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


def test_a_webhook_is_delivered_on_time_while_the_smtp_server_stalls(
    store: Engine,  # noqa: F811
    receiver: Receiver,  # noqa: F811
    smtp: SmtpServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    smtp.inbox = inbox = StallingInbox()
    smtp.start()
    _subscribe(store, receiver)
    with transaction(store) as session:
        lan = create_user(
            session=session,
            username="lan",
            password="correct horse battery",
            full_name="Nguyễn Thị Lan",
            agency="GO",
            role="data_officer",
            email="lan@vpcp.gov.vn",
        )
    waiting = notify(store, lan)
    settings = settings_for(store, smtp.port, tmp_path, smtp_timeout=LONGEST_STALL * 2)
    worker = Worker.configured(store, settings, every=0.1)
    worker.start()
    try:
        # The worker's e-mail sender is now waiting on the SMTP server.
        assert inbox.stalling.wait(timeout=10)
        _write(store, ("ENT_NEW", "79", "2026-09", 1))
        # Delivered while the SMTP server still sits on the e-mail (a worker waiting on it would deliver nothing).
        written = time.monotonic()
        while not receiver.got and time.monotonic() - written < LONGEST_STALL / 2:
            time.sleep(0.01)
        assert receiver.got, "no webhook delivered while the SMTP server stalled"
        (event,) = json.loads(receiver.got[0][1])["events"]
        assert (event["indicator"], event["area"], event["value"]) == ("ENT_NEW", "79", 1.0)
        assert inbox.received == []  # the e-mail is still on its way
        inbox.release.set()
        worker.join_periodic(timeout=LONGEST_STALL)
    finally:
        inbox.release.set()
        worker.stop()
    # The slow server got the e-mail in the end, and the notification says so.
    ((_, mail),) = inbox.received
    assert mail["To"] == "Nguyễn Thị Lan <lan@vpcp.gov.vn>"
    assert row(store, waiting).email_state == "sent"
