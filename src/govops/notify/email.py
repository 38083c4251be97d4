"""E-mail of notifications: an outbox sender that runs outside the writers' transactions.

`send_pending(engine, settings)` claims due e-mails (a short transaction: SKIP LOCKED on PostgreSQL,
the write lock on SQLite, and a lease so that a sender killed mid-way lets another take them up),
sends them over one SMTP connection, then records each outcome. A failure keeps the notification
pending with its error, to be tried again after a growing wait; after the last attempt it is marked
failed (still in the inbox). Several workers may run it at once: each e-mail is claimed by one.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from html import escape

import structlog
from sqlalchemy import ColumnElement, Engine, and_, or_, select
from sqlalchemy.orm import Session

from govops.auth.models import User
from govops.db.base import utcnow
from govops.db.engine import make_session_factory
from govops.i18n import translations
from govops.notify.models import Notification
from govops.notify.service import render
from govops.settings import Settings

log = structlog.get_logger(__name__)

BATCH = 20
# A claimed e-mail is another sender's to take up if not settled by then (a batch takes at most
# BATCH times the SMTP timeout).
LEASE = timedelta(minutes=10)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=2)
MAX_ATTEMPTS = 10
# An e-mail not sent within this long after its notification (SMTP configured late, a long outage) is
# not sent at all: the inbox still has it, and a stale "report due" mail helps nobody.
MAX_AGE = timedelta(days=3)
MAX_ERROR = 500


@dataclass(frozen=True)
class Outgoing:
    notification_id: int
    message: EmailMessage


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    expired: int = 0
    errors: list[str] = field(default_factory=list)


def send_pending(engine: Engine, settings: Settings, *, now: datetime | None = None, batch: int = BATCH) -> SendReport:
    """Sends every e-mail that is due (nothing when GOVOPS_SMTP_HOST is unset); what happened to each."""
    report = SendReport()
    if not settings.smtp_host:
        return report
    now = now or utcnow()
    with make_session_factory(engine)() as session:
        if not _anything_due(session, now):
            return report  # no write lock taken while there is nothing to send (SQLite has only one)
    writer = make_session_factory(engine, writer=True)
    seen: set[int] = set()
    while True:
        with writer() as session:
            outgoing = _claim(session, settings=settings, now=now, limit=batch, report=report)
            session.commit()
        outgoing = [o for o in outgoing if o.notification_id not in seen]
        if not outgoing:
            return report
        seen.update(o.notification_id for o in outgoing)
        errors = _deliver(outgoing, settings)
        with writer() as session:
            _settle(session, errors=errors, now=now, report=report)
            session.commit()
        log.info("notification e-mails", sent=report.sent, retrying=report.retrying, failed=report.failed)


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        Notification.email_state == "pending",
        Notification.email_next_at <= now,
        or_(Notification.email_claimed_until.is_(None), Notification.email_claimed_until < now),
    )


def _anything_due(session: Session, now: datetime) -> bool:
    return session.scalar(select(Notification.id).where(_due(now)).limit(1)) is not None


def _claim(session: Session, *, settings: Settings, now: datetime, limit: int, report: SendReport) -> list[Outgoing]:
    stmt = (
        select(Notification)
        .where(_due(now))
        .order_by(Notification.email_next_at, Notification.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = list(session.scalars(stmt))
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_({n.user_id for n in claimed})))}
    outgoing = []
    for notification in claimed:
        user = users[notification.user_id]
        if now - notification.created_at > MAX_AGE:
            notification.email_state = "expired"
            report.expired += 1
        elif not user.email or not user.active:
            # The address was removed or the account disabled since: no e-mail after all.
            notification.email_state, notification.email_next_at = None, None
        else:
            notification.email_claimed_until = now + LEASE
            notification.email_attempts += 1
            outgoing.append(Outgoing(notification.id, message(notification, user, settings, now=now)))
    session.flush()
    return outgoing


def message(notification: Notification, user: User, settings: Settings, *, now: datetime) -> EmailMessage:
    """The e-mail of one notification, in the user's language: plain text and the same as simple HTML, UTF-8."""
    gettext = translations(user.language).gettext
    text = render(notification, user.language)
    greeting = gettext("Dear %(name)s,") % {"name": user.full_name}
    signature = gettext("govops sent this message; every notification is also in your console inbox.")
    lines = [greeting, "", text.body, ""]
    html = [f"<p>{escape(greeting)}</p>", f"<p>{_html_lines(text.body)}</p>"]
    if notification.link and settings.public_url:
        url = settings.public_url.rstrip("/") + notification.link
        opener = gettext("Open it in the console: %(url)s")
        lines.append(opener % {"url": url})
        anchor = f'<a href="{escape(url)}">{escape(url)}</a>'
        html.append(f"<p>{escape(opener) % {'url': anchor}}</p>")
    elif notification.link:
        where = gettext("In the console: %(path)s") % {"path": notification.link}
        lines.append(where)
        html.append(f"<p>{escape(where)}</p>")
    lines += ["", "-- ", signature]
    html.append(f'<p style="color:#555;font-size:small">{escape(signature)}</p>')
    mail = EmailMessage()
    mail["Subject"] = text.subject
    mail["From"] = settings.smtp_from
    assert user.email is not None
    mail["To"] = formataddr((user.full_name, user.email))
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = make_msgid(f"notification.{notification.id}")
    # Auto-replies (out of office) are not sent back to a mailbox nobody reads.
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content("\n".join(lines) + "\n", charset="utf-8")
    mail.add_alternative(_html_page(text.subject, html, user.language), subtype="html", charset="utf-8")
    mail["Content-Language"] = user.language  # after the content, which replaces every Content-* header
    return mail


def _html_lines(text: str) -> str:
    return "<br>".join(escape(line) for line in text.splitlines())


def _html_page(title: str, paragraphs: Sequence[str], language: str) -> str:
    """A plain page every mail reader shows alike: no images, no styles but inline ones."""
    body = "\n".join(paragraphs)
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(language)}">\n<head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head>\n"
        f'<body style="font-family:Arial,sans-serif;line-height:1.5">\n{body}\n</body>\n</html>\n'
    )


def smtp_port(settings: Settings) -> int:
    """The configured port, or the usual one for the kind of connection."""
    return settings.smtp_port or (465 if settings.smtp_ssl else 587 if settings.smtp_starttls else 25)


def _connect(settings: Settings) -> smtplib.SMTP:
    assert settings.smtp_host is not None
    timeout, port = settings.smtp_timeout, smtp_port(settings)
    if settings.smtp_ssl:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, port, timeout=timeout)
    try:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_username, password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def _deliver(outgoing: Sequence[Outgoing], settings: Settings) -> dict[int, str | None]:
    """Each notification's error, or None when the server took its e-mail; one connection for the batch."""
    errors: dict[int, str | None] = {}
    try:
        smtp = _connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        reason = (
            f"could not connect or sign in to the SMTP server {settings.smtp_host}:{smtp_port(settings)}: {_said(exc)}"
        )
        return {o.notification_id: reason for o in outgoing}
    try:
        for item in outgoing:
            try:
                smtp.send_message(item.message)
                errors[item.notification_id] = None
            except smtplib.SMTPServerDisconnected as exc:
                errors[item.notification_id] = f"the SMTP server hung up: {_said(exc)}"
                break
            except (OSError, smtplib.SMTPException) as exc:
                errors[item.notification_id] = f"the SMTP server refused it: {_said(exc)}"
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    for item in outgoing:  # those after a hang-up: tried again later
        errors.setdefault(item.notification_id, "not sent: the SMTP connection ended before its turn")
    return errors


def _said(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:MAX_ERROR]


def _settle(session: Session, *, errors: dict[int, str | None], now: datetime, report: SendReport) -> None:
    rows = session.scalars(select(Notification).where(Notification.id.in_(errors)).with_for_update())
    for notification in rows:
        if notification.email_state != "pending":
            continue
        error = errors[notification.id]
        notification.email_claimed_until = None
        if error is None:
            notification.email_state, notification.email_sent_at, notification.email_error = "sent", now, None
            report.sent += 1
            continue
        notification.email_error = error[:MAX_ERROR]
        report.errors.append(error)
        if notification.email_attempts >= MAX_ATTEMPTS:
            notification.email_state = "failed"
            report.failed += 1
            log.warning("notification e-mail given up", notification=notification.id, error=error)
        else:
            wait = min(FIRST_RETRY * 2 ** (notification.email_attempts - 1), LONGEST_RETRY)
            notification.email_next_at = now + wait
            report.retrying += 1
            log.warning("notification e-mail failed; tried again later", notification=notification.id, error=error)
    session.flush()
