"""Notification e-mails sent to a real SMTP server on 127.0.0.1 (aiosmtpd) and read back from it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from govops.auth.models import User
from govops.auth.service import create_user
from govops.db.base import utcnow
from govops.db.engine import transaction
from govops.exchange.worker import Worker
from govops.notify import email, service
from govops.notify.models import Notification
from govops.settings import Settings

DUE = {"report": "BC-01", "agency": "Sở Tài chính", "period": "2026-02", "due": "2026-03-10"}


class Inbox:
    """What the SMTP server received: (envelope recipients, parsed message) per e-mail."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.received.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def text_of(mail: EmailMessage, subtype: str = "plain") -> str:
    """The plain-text (or HTML) part as written (SMTP carries lines ending in CRLF)."""
    part = mail.get_body(preferencelist=(subtype,))
    assert isinstance(part, EmailMessage) and part.get_content_type() == f"text/{subtype}"
    assert part.get_content_charset() == "utf-8"
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port, self.inbox = port, Inbox()
        self._controller: Controller | None = None

    def start(self, **smtp_options: Any) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **smtp_options)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on a free port of 127.0.0.1 (not yet started: see `started`)."""
    server = SmtpServer(free_port())
    yield server
    server.stop()


@pytest.fixture
def started(smtp: SmtpServer) -> SmtpServer:
    smtp.start()
    return smtp


def settings_for(engine: Engine, port: int, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": str(engine.url),
        "signing_key_file": tmp_path / "key.pem",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_from": "Cổng dữ liệu govops <no-reply@govops.test>",
        "public_url": "https://govops.test/",
        "audit_checkpoint_minutes": 0,
    }
    return Settings(**(values | overrides))


@pytest.fixture
def people(engine: Engine) -> Iterator[Callable[..., User]]:
    """Committed users (the sender works in transactions of its own); deleted with their notifications after."""
    made: list[int] = []

    def make(name: str, *, language: str = "vi", email_address: str | None = "") -> User:
        with transaction(engine) as session:
            user = create_user(
                session=session,
                username=name,
                password="correct horse battery",
                full_name=f"Nguyễn Thị {name.title()}",
                agency="GO",
                role="data_officer",
                language=language,
                email=f"{name}@vpcp.gov.vn" if email_address == "" else email_address,
            )
        made.append(user.id)
        return user

    yield make
    with transaction(engine) as session:
        session.execute(delete(Notification).where(Notification.user_id.in_(made)))
        session.execute(delete(User).where(User.id.in_(made)))


def notify(engine: Engine, user: User, kind: str = "report_due", **params: str) -> int:
    with transaction(engine) as session:
        (made,) = service.notify(session=session, recipients=[user.id], kind=kind, params=params or DUE, link="/submit")
        return made.id


def row(engine: Engine, notification_id: int) -> Notification:
    with Session(engine) as session:
        found = session.get(Notification, notification_id)
        assert found is not None
        return found


def test_a_vietnamese_speaker_receives_it_in_vietnamese(
    engine: Engine, started: SmtpServer, people: Callable[..., User], tmp_path: Path
) -> None:
    lan = people("lan")
    sent_id = notify(engine, lan)
    report = email.send_pending(engine, settings_for(engine, started.port, tmp_path))
    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    ((envelope_to, mail),) = started.inbox.received
    assert envelope_to == ["lan@vpcp.gov.vn"]
    assert mail["To"] == "Nguyễn Thị Lan <lan@vpcp.gov.vn>"
    assert mail["From"] == "Cổng dữ liệu govops <no-reply@govops.test>"
    assert mail["Subject"] == "Đến hạn báo cáo: BC-01"
    assert mail["Content-Language"] == "vi" and mail["Auto-Submitted"] == "auto-generated"
    # Plain text and the same as HTML, for mail readers that show either.
    assert mail.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "text/html"]
    body = text_of(mail)
    assert body.startswith("Kính gửi Nguyễn Thị Lan,\n\n")
    assert "Báo cáo BC-01 của Sở Tài chính kỳ 2026-02 đến hạn nộp ngày 2026-03-10." in body
    assert "Mở trên bảng điều hành: https://govops.test/submit" in body
    assert "Report due" not in body
    html = text_of(mail, "html")
    assert '<html lang="vi">' in html and "<title>Đến hạn báo cáo: BC-01</title>" in html
    assert "<p>Kính gửi Nguyễn Thị Lan,</p>" in html
    assert "<p>Báo cáo BC-01 của Sở Tài chính kỳ 2026-02 đến hạn nộp ngày 2026-03-10.</p>" in html
    assert '<p>Mở trên bảng điều hành: <a href="https://govops.test/submit">https://govops.test/submit</a></p>' in html
    assert "Report due" not in html
    stored = row(engine, sent_id)
    assert stored.email_state == "sent" and stored.email_sent_at is not None and stored.email_attempts == 1
    # Sent once: a second run finds nothing to send, and the notification is still unread in the inbox.
    assert email.send_pending(engine, settings_for(engine, started.port, tmp_path)).sent == 0
    assert len(started.inbox.received) == 1 and stored.read_at is None


def test_an_english_speaker_receives_it_in_english_and_no_address_means_no_email(
    engine: Engine, started: SmtpServer, people: Callable[..., User], tmp_path: Path
) -> None:
    tom, nam = people("tom", language="en"), people("nam", email_address=None)
    notify(engine, tom)
    unmailed = notify(engine, nam)
    assert email.send_pending(engine, settings_for(engine, started.port, tmp_path)).sent == 1
    ((to, mail),) = started.inbox.received
    assert to == ["tom@vpcp.gov.vn"] and mail["Subject"] == "Report due: BC-01"
    assert text_of(mail).startswith("Dear Nguyễn Thị Tom,\n\nThe report BC-01 of Sở Tài chính")
    html = text_of(mail, "html")
    assert '<html lang="en">' in html and "<p>Dear Nguyễn Thị Tom,</p>" in html
    assert "<p>The report BC-01 of Sở Tài chính" in html and "Kính gửi" not in html
    assert row(engine, unmailed).email_state is None


def test_what_people_typed_is_shown_as_text_in_the_html_part(
    engine: Engine, started: SmtpServer, people: Callable[..., User], tmp_path: Path
) -> None:
    lan = people("lan")
    notify(engine, lan, kind="alert_raised", alert='Lũ <b>quét</b> & "sạt lở"', area="<script>x()</script>")
    assert email.send_pending(engine, settings_for(engine, started.port, tmp_path)).sent == 1
    ((_, mail),) = started.inbox.received
    assert 'Lũ <b>quét</b> & "sạt lở"' in text_of(mail)
    html = text_of(mail, "html")
    assert "Lũ &lt;b&gt;quét&lt;/b&gt; &amp; &quot;sạt lở&quot;" in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html
    assert "<b>" not in html and "<script>" not in html


def test_a_closed_smtp_port_records_the_error_and_the_email_goes_out_later(
    engine: Engine, smtp: SmtpServer, people: Callable[..., User], tmp_path: Path
) -> None:
    lan = people("lan")
    waiting = notify(engine, lan)
    settings = settings_for(engine, smtp.port, tmp_path)  # nothing listens there yet
    report = email.send_pending(engine, settings)
    assert (report.sent, report.retrying) == (0, 1)
    stored = row(engine, waiting)
    assert stored.email_state == "pending" and stored.email_attempts == 1
    assert (
        stored.email_error is not None
        and f"could not connect or sign in to the SMTP server 127.0.0.1:{smtp.port}" in stored.email_error
    )
    assert stored.email_next_at is not None and stored.email_next_at > utcnow()
    # Not due yet: nothing is tried, even once the server is up.
    smtp.start()
    assert email.send_pending(engine, settings).sent == 0 and smtp.inbox.received == []
    later = email.send_pending(engine, settings, now=utcnow() + email.FIRST_RETRY + timedelta(seconds=1))
    assert later.sent == 1
    ((_, mail),) = smtp.inbox.received
    assert mail["Subject"] == "Đến hạn báo cáo: BC-01"
    stored = row(engine, waiting)
    assert stored.email_state == "sent" and stored.email_attempts == 2 and stored.email_error is None


def test_after_the_last_attempt_it_is_marked_failed_and_stays_in_the_inbox(
    engine: Engine, smtp: SmtpServer, people: Callable[..., User], tmp_path: Path
) -> None:
    lan = people("lan")
    waiting = notify(engine, lan)
    settings = settings_for(engine, smtp.port, tmp_path)
    moment = utcnow()
    for _ in range(email.MAX_ATTEMPTS):
        email.send_pending(engine, settings, now=moment)
        moment += email.LONGEST_RETRY + timedelta(seconds=1)
    stored = row(engine, waiting)
    assert stored.email_state == "failed" and stored.email_attempts == email.MAX_ATTEMPTS
    assert email.send_pending(engine, settings, now=moment).retrying == 0
    with Session(engine) as session:
        assert service.unread_count(session=session, user_id=lan.id) == 1


def test_two_senders_at_once_send_each_email_once(
    engine: Engine, started: SmtpServer, people: Callable[..., User], tmp_path: Path
) -> None:
    lan = people("lan")
    ids = [notify(engine, lan, report=f"R-{i}", agency="A", period="P", due="D") for i in range(30)]
    settings = settings_for(engine, started.port, tmp_path)
    reports: list[email.SendReport] = []
    senders = [
        threading.Thread(target=lambda: reports.append(email.send_pending(engine, settings, batch=4))) for _ in range(2)
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    subjects = sorted(mail["Subject"] for _, mail in started.inbox.received)
    assert subjects == sorted(f"Đến hạn báo cáo: R-{i}" for i in range(30))
    assert sum(r.sent for r in reports) == 30
    with Session(engine) as session:
        states = session.scalars(select(Notification.email_state).where(Notification.id.in_(ids)))
        assert set(states) == {"sent"}


def test_nothing_is_sent_without_smtp_settings_and_stale_ones_expire(
    engine: Engine, started: SmtpServer, people: Callable[..., User], tmp_path: Path
) -> None:
    lan = people("lan")
    waiting = notify(engine, lan)
    unset = settings_for(engine, started.port, tmp_path, smtp_host="")
    assert unset.smtp_host is None and email.send_pending(engine, unset).sent == 0
    assert row(engine, waiting).email_state == "pending" and started.inbox.received == []
    # SMTP configured days later: the inbox has it, the mail is not sent that late.
    report = email.send_pending(
        engine, settings_for(engine, started.port, tmp_path), now=utcnow() + email.MAX_AGE + timedelta(minutes=1)
    )
    assert report.expired == 1 and report.sent == 0 and started.inbox.received == []
    assert row(engine, waiting).email_state == "expired"


def test_the_worker_sends_them_when_smtp_is_configured(
    engine: Engine, started: SmtpServer, people: Callable[..., User], tmp_path: Path
) -> None:
    lan = people("lan")
    notify(engine, lan, kind="alert_raised", alert="Lũ quét", area="Lào Cai")
    assert Worker.configured(engine, settings_for(engine, started.port, tmp_path, smtp_host="")).periodic == []
    worker = Worker.configured(engine, settings_for(engine, started.port, tmp_path))
    try:
        worker.run_periodic()
        worker.join_periodic()
    finally:
        worker.close()
    ((_, mail),) = started.inbox.received
    assert mail["Subject"] == "Cảnh báo: Lũ quét"
    assert "Có cảnh báo mới: Lũ quét, tại Lào Cai." in text_of(mail)


# Signing in without TLS, on 127.0.0.1 only: aiosmtpd warns about it, which is the point of its warning.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_the_sender_signs_in_when_the_server_wants_it(
    engine: Engine, smtp: SmtpServer, people: Callable[..., User], tmp_path: Path
) -> None:
    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"govops", b"s3cret")
        return AuthResult(success=ok)

    smtp.start(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    lan = people("lan")
    refused = notify(engine, lan)
    # Without signing in, the server refuses each e-mail: recorded on it, tried again later.
    anonymous = settings_for(engine, smtp.port, tmp_path)
    assert email.send_pending(engine, anonymous).retrying == 1 and smtp.inbox.received == []
    error = row(engine, refused).email_error
    assert error is not None and error.startswith("the SMTP server refused it: ") and "530" in error
    right = settings_for(engine, smtp.port, tmp_path, smtp_username="govops", smtp_password="s3cret")
    assert email.send_pending(engine, right, now=utcnow() + email.FIRST_RETRY * 2).sent == 1
    ((to, _),) = smtp.inbox.received
    assert to == ["lan@vpcp.gov.vn"]


def test_smtp_settings_refuse_both_kinds_of_tls_and_pick_the_usual_port() -> None:
    with pytest.raises(ValueError, match="not both"):
        Settings(smtp_host="mail.example", smtp_ssl=True, smtp_starttls=True)
    assert email.smtp_port(Settings(smtp_host="mail.example", smtp_ssl=True)) == 465
    assert email.smtp_port(Settings(smtp_host="mail.example", smtp_starttls=True)) == 587
    assert email.smtp_port(Settings(smtp_host="mail.example")) == 25
    assert email.smtp_port(Settings(smtp_host="mail.example", smtp_port="2525")) == 2525
