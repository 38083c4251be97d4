"""Notifying people: write notifications in the caller's transaction, list a person's inbox, mark it read.

Keyword-only functions taking a session; they flush, never commit. The e-mail of each notification is
sent later, outside the writer's transaction, by `govops.notify.email.send_pending`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from govops.auth.models import User
from govops.auth.service import normalise_username
from govops.db.base import utcnow
from govops.errors import NotFound
from govops.i18n import LOCALES, translations
from govops.notify.kinds import KINDS, UNKNOWN, get_kind
from govops.notify.models import Notification
from govops.notify.schemas import NotificationOut
from govops.paging import MAX_BIG_ID, Page, check_limit, decode_cursor, make_page

log = structlog.get_logger(__name__)

INBOX_PAGE = 20
MAX_LINK = 500
MAX_PARAM_CHARS = 500


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def notify(
    *,
    session: Session,
    recipients: Iterable[int | str],
    kind: str,
    params: Mapping[str, Any] | None = None,
    link: str | None = None,
    now: datetime | None = None,
) -> list[Notification]:
    """One notification per recipient (user ids or user names, each once), in the caller's transaction.

    Its text is rendered from `kind` and `params` whenever it is read, in the reader's language. A
    recipient with an e-mail address (and an active account) also gets it by e-mail, sent by the worker
    when SMTP is configured. Unknown recipients raise NotFound; an unknown kind, a missing param or a link
    that is not a path of this server are programming errors (ValueError).
    """
    found = get_kind(kind)
    values = _params(found.name, found.params, params or {})
    if link is not None and (not link.startswith("/") or link.startswith("//") or len(link) > MAX_LINK):
        raise ValueError(f"a notification's link is a path of this server (/...), not {link!r}")
    users = _users(session, recipients)
    now = now or utcnow()
    made = []
    for user in users:
        emailed = bool(user.email) and user.active
        notification = Notification(
            user_id=user.id,
            kind=found.name,
            params=values,
            link=link,
            created_at=now,
            email_state="pending" if emailed else None,
            email_attempts=0,
            email_next_at=now if emailed else None,
        )
        session.add(notification)
        made.append(notification)
    session.flush()
    log.info("notified", kind=found.name, recipients=[u.username for u in users])
    return made


def _params(kind: str, wanted: tuple[str, ...], given: Mapping[str, Any]) -> dict[str, Any]:
    missing = [name for name in wanted if name not in given]
    if missing:
        raise ValueError(f"notification kind {kind!r} needs the params {', '.join(missing)}")
    values: dict[str, Any] = {}
    for name, value in given.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, str | int | float)
            or (isinstance(value, float) and not math.isfinite(value))
        ):
            raise ValueError(f"param {name!r} of a {kind!r} notification must be text or a number, not {value!r}")
        values[str(name)] = value[:MAX_PARAM_CHARS] if isinstance(value, str) else value
    return values


def _users(session: Session, recipients: Iterable[int | str]) -> list[User]:
    wanted = list(dict.fromkeys(recipients))
    ids = [r for r in wanted if isinstance(r, int)]
    names = [normalise_username(r) for r in wanted if isinstance(r, str)]
    users: dict[int, User] = {}
    if ids or names:
        stmt = select(User).where(or_(User.id.in_(ids), User.username.in_(names)))
        users = {user.id: user for user in session.scalars(stmt)}
    known = {u.id for u in users.values()} | {u.username for u in users.values()}
    unknown = [str(r) for r in wanted if (r if isinstance(r, int) else normalise_username(r)) not in known]
    if unknown:
        raise NotFound(
            f"no user {', '.join(unknown)} to notify", hint="name users by id or user name; see `govops user list`"
        )
    return sorted(users.values(), key=lambda u: u.id)


# --- reading ------------------------------------------------------------------------------------


def render(notification: Notification, locale: str) -> Rendered:
    """Subject and body in `locale` ('vi' or 'en'): the kind's texts translated, then filled with the params."""
    gettext = translations(locale if locale in LOCALES else "vi").gettext
    kind = KINDS.get(notification.kind, UNKNOWN)
    params = _Params(notification.params)
    params.setdefault("kind", notification.kind)
    # A param also given in the reader's language ("report.en" beside "report") reads in it: a name the sender
    # knows in both languages, such as a reporting regime's.
    for name in kind.params:
        if isinstance(localised := notification.params.get(f"{name}.{locale}"), str | int | float):
            params[name] = localised
    return Rendered(subject=gettext(kind.subject) % params, body=gettext(kind.body) % params)


class _Params(dict[str, Any]):
    # A param a later version of a kind added is shown as an ellipsis on older rows, not an error.
    def __missing__(self, key: str) -> str:
        return "…"


def out(notification: Notification, locale: str) -> NotificationOut:
    text = render(notification, locale)
    return NotificationOut(
        id=notification.id,
        kind=notification.kind,
        subject=text.subject,
        body=text.body,
        link=notification.link,
        created_at=notification.created_at,
        read_at=notification.read_at,
    )


def inbox(
    *,
    session: Session,
    user: User,
    cursor: str | None = None,
    limit: int = INBOX_PAGE,
    unread_only: bool = False,
    locale: str | None = None,
) -> Page[NotificationOut]:
    """The user's notifications, newest first, in `locale` (a page's language) or else the user's; a page at
    a time."""
    check_limit(limit)
    before = decode_cursor(cursor, max_id=MAX_BIG_ID)
    stmt = select(Notification).where(Notification.user_id == user.id)
    if before:
        stmt = stmt.where(Notification.id < before)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    rows = list(session.scalars(stmt.order_by(Notification.id.desc()).limit(limit + 1)))
    return make_page(rows, limit=limit, key=lambda n: n.id, out=lambda n: out(n, locale or user.language))


def unread_count(*, session: Session, user_id: int) -> int:
    """How many of the user's notifications are unread (one indexed count, for the console's header)."""
    stmt = select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    return int(session.scalar(stmt) or 0)


def get_own(*, session: Session, user: User, notification_id: int) -> Notification:
    """The user's own notification; another person's is as absent as one that does not exist."""
    found = session.get(Notification, notification_id) if 0 < notification_id <= MAX_BIG_ID else None
    if found is None or found.user_id != user.id:
        raise NotFound(f"you have no notification {notification_id}", hint="see your notifications at /notifications")
    return found


def mark_read(*, session: Session, user: User, notification_id: int, now: datetime | None = None) -> Notification:
    """Marks one of the user's notifications read (once: a second time keeps the first moment)."""
    notification = get_own(session=session, user=user, notification_id=notification_id)
    if notification.read_at is None:
        notification.read_at = now or utcnow()
        session.flush()
    return notification


def mark_all_read(*, session: Session, user: User, now: datetime | None = None) -> int:
    """Marks every unread notification of the user read; returns how many."""
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now or utcnow())
    )
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)
