"""Recording, listing and verifying the audit trail.

Keyword-only functions taking a session; they flush, never commit: an entry belongs to the
transaction of the action it records, and the caller commits both together.

The entries form one chain in id order. `record` serialises writers before it reads the last entry:
on PostgreSQL with a transaction-scoped advisory lock, on SQLite by the database write lock that
writer sessions take at BEGIN (BEGIN IMMEDIATE, see govops.db.engine). A unique prev_hash backs
both up: a second entry after the same one is refused, never stored as a fork.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from govops.audit.models import ACTOR_KINDS, AuditEntry
from govops.audit.schemas import AuditEntryOut, Verification
from govops.db.base import utcnow
from govops.db.dialect import advisory_xact_lock, reserve_ids
from govops.errors import GovopsError
from govops.paging import DEFAULT_LIMIT, Page, check_limit, make_page

log = structlog.get_logger(__name__)

# The prev_hash of the first entry.
GENESIS = "0" * 64
# Key of the PostgreSQL advisory lock that serialises writers of the trail ("govops", then 0x0A01).
LOCK_KEY = 0x676F_766F_7073_0A01
ACTION_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")

BROKEN_CONTENT = "hash does not match its content"
BROKEN_LINK = "prev_hash does not match the previous entry's hash"
BROKEN_START = "prev_hash is not 64 zeros although no entry precedes it (entries before it are missing)"

_MAX = {"actor": 100, "agency": 32, "target": 200, "ip": 45, "request_id": 100}


@dataclass(frozen=True)
class Actor:
    """Who acts: kind user (user name, agency code), member (member code) or system."""

    kind: str
    name: str
    agency: str | None = None


SYSTEM = Actor("system", "system")
# A request with neither a signed-in user nor an exchange member behind it.
ANONYMOUS = Actor("system", "anonymous")


# --- the hash ---------------------------------------------------------------------------------


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 as is: the one text of a value that the hash is taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def iso_utc(at: datetime) -> str:
    """ISO 8601 in UTC with microseconds, e.g. 2025-07-01T03:04:05.000006+00:00."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    *,
    prev_hash: str,
    id: int,
    at: datetime,
    actor_kind: str,
    actor: str,
    agency: str | None,
    action: str,
    target: str,
    detail: Mapping[str, Any],
    ip: str | None,
    request_id: str | None,
) -> str:
    """SHA-256 (hex) of prev_hash followed by the canonical JSON of every other field of the entry."""
    content = {
        "id": id,
        "at": iso_utc(at),
        "actor_kind": actor_kind,
        "actor": actor,
        "agency": agency,
        "action": action,
        "target": target,
        "detail": detail,
        "ip": ip,
        "request_id": request_id,
    }
    return hashlib.sha256((prev_hash + canonical_json(content)).encode("utf-8")).hexdigest()


def _stored_hash(row: Any) -> str | None:
    """The hash an entry as stored ought to carry; None when its detail is not even JSON."""
    try:
        detail = json.loads(row.detail)
    except ValueError:
        return None
    if not isinstance(detail, dict):
        return None
    return entry_hash(
        prev_hash=row.prev_hash,
        id=row.id,
        at=row.at,
        actor_kind=row.actor_kind,
        actor=row.actor,
        agency=row.agency,
        action=row.action,
        target=row.target,
        detail=detail,
        ip=row.ip,
        request_id=row.request_id,
    )


# --- recording --------------------------------------------------------------------------------


def _clean(value: str | None, field: str) -> str | None:
    # NUL cannot be stored in PostgreSQL text; the columns have a length.
    return None if value is None else value.replace("\x00", "")[: _MAX[field]]


def take_turn(session: Session) -> None:
    """Wait for this transaction's turn to write the trail (see the module's docstring); taking it twice is harmless."""
    # Held until this transaction ends: the next writer reads the last entry only after we commit.
    advisory_xact_lock(session, LOCK_KEY)


def _next_id(session: Session) -> int:
    # Taken under the lock, so ids grow along the chain; a rolled-back writer leaves a gap on PostgreSQL.
    return reserve_ids(session, AuditEntry.__table__, 1)[0]  # type: ignore[arg-type]


def record(
    *,
    session: Session,
    action: str,
    actor_kind: str,
    actor: str,
    target: str = "",
    detail: Mapping[str, Any] | None = None,
    agency: str | None = None,
    ip: str | None = None,
    request_id: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append an entry to the trail (flushed, not committed: it stands or falls with the caller's transaction).

    Record it last, just before committing: on PostgreSQL the trail's lock is held from here to the end
    of the transaction.
    """
    if actor_kind not in ACTOR_KINDS:
        raise ValueError(f"actor_kind must be one of {ACTOR_KINDS}, not {actor_kind!r}")
    if not ACTION_PATTERN.fullmatch(action) or len(action) > 64:
        raise ValueError(f"action {action!r} is not dotted lower-case words, e.g. auth.sign_in")
    at = at or utcnow()
    if at.tzinfo is None:
        raise ValueError("naive datetime given where a UTC time is required")
    at = at.astimezone(UTC)
    content: dict[str, Any] = json.loads(canonical_json(dict(detail or {})))
    actor, target = _clean(actor, "actor") or "", _clean(target, "target") or ""
    agency, ip, request_id = _clean(agency, "agency"), _clean(ip, "ip"), _clean(request_id, "request_id")
    take_turn(session)
    last = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    prev_hash = last.hash if last is not None else GENESIS
    entry = AuditEntry(
        id=_next_id(session),
        at=at,
        actor_kind=actor_kind,
        actor=actor,
        agency=agency,
        action=action,
        target=target,
        detail=canonical_json(content),
        ip=ip,
        request_id=request_id,
        prev_hash=prev_hash,
    )
    entry.hash = entry_hash(
        prev_hash=prev_hash,
        id=entry.id,
        at=at,
        actor_kind=actor_kind,
        actor=actor,
        agency=agency,
        action=action,
        target=target,
        detail=content,
        ip=ip,
        request_id=request_id,
    )
    session.add(entry)
    session.flush()
    log.debug("audit entry", id=entry.id, action=action, actor=actor, target=target)
    return entry


def _os_user() -> str | None:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return None


def record_cli(
    *, session: Session, action: str, target: str = "", detail: Mapping[str, Any] | None = None
) -> AuditEntry:
    """`record` for a command run on the server (`govops ...`): the system acts; the detail says which
    operating-system account ran it."""
    return record(
        session=session,
        action=action,
        actor_kind=SYSTEM.kind,
        actor=SYSTEM.name,
        target=target,
        detail={**(detail or {}), "via": "cli", "os_user": _os_user()},
    )


def targets(codes: Iterable[str]) -> str:
    """Several codes as one target: sorted, comma-separated, cut short (with ',…') to fit the column."""
    joined = ""
    for code in sorted(set(codes)):
        candidate = f"{joined},{code}" if joined else code
        if len(candidate) > _MAX["target"] - 2:
            return f"{joined},…"
        joined = candidate
    return joined


# --- reading ----------------------------------------------------------------------------------


def entry_out(entry: AuditEntry) -> AuditEntryOut:
    try:
        detail = json.loads(entry.detail)
    except ValueError:
        detail = {"unreadable": entry.detail}
    return AuditEntryOut(
        id=entry.id,
        at=entry.at,
        actor_kind=entry.actor_kind,
        actor=entry.actor,
        agency=entry.agency,
        action=entry.action,
        target=entry.target,
        detail=detail if isinstance(detail, dict) else {"value": detail},
        ip=entry.ip,
        request_id=entry.request_id,
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{name} must carry a time zone")
    return value


def list_entries(
    *,
    session: Session,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after_id: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Page[AuditEntryOut]:
    """Entries newest first (by time, then id). `action` is one action (auth.sign_in) or, without a dot, a
    family (auth: every auth.* action); `since` is inclusive, `until` exclusive. `after_id` is the last
    entry of the previous page (decode the page's next_cursor with govops.paging.decode_cursor)."""
    check_limit(limit)
    stmt = select(AuditEntry)
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if action:
        if "." in action:
            stmt = stmt.where(AuditEntry.action == action)
        else:
            stmt = stmt.where(AuditEntry.action.startswith(f"{action}.", autoescape=True))
    if target:
        stmt = stmt.where(AuditEntry.target == target)
    if _aware(since, "since") is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if _aware(until, "until") is not None:
        stmt = stmt.where(AuditEntry.at < until)
    if after_id:
        last_at = session.scalar(select(AuditEntry.at).where(AuditEntry.id == after_id))
        if last_at is None:
            raise GovopsError(
                "the page cursor names an entry that no longer exists",
                code="invalid_cursor",
                hint="start again from the first page",
            )
        stmt = stmt.where(or_(AuditEntry.at < last_at, and_(AuditEntry.at == last_at, AuditEntry.id < after_id)))
    rows = session.scalars(stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit + 1)).all()
    return make_page(rows, limit=limit, key=lambda e: e.id, out=entry_out)


def verify(*, session: Session, batch: int = 5000, progress: Callable[[int], None] | None = None) -> Verification:
    """Walk the trail in id order, `batch` entries at a time (constant memory), checking that every entry's
    hash matches its content and that its prev_hash is the previous entry's hash. Ids may skip."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    columns = (
        AuditEntry.id,
        AuditEntry.at,
        AuditEntry.actor_kind,
        AuditEntry.actor,
        AuditEntry.agency,
        AuditEntry.action,
        AuditEntry.target,
        AuditEntry.detail,
        AuditEntry.ip,
        AuditEntry.request_id,
        AuditEntry.prev_hash,
        AuditEntry.hash,
    )
    expected, checked, after = GENESIS, 0, 0
    while True:
        # Plain rows, not ORM objects: nothing accumulates in the session's identity map.
        rows = session.execute(select(*columns).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(batch)).all()
        if not rows:
            return Verification(ok=True, checked=checked)
        for row in rows:
            if _stored_hash(row) != row.hash:
                return Verification(ok=False, checked=checked, broken_id=row.id, reason=BROKEN_CONTENT)
            if row.prev_hash != expected:
                reason = BROKEN_START if checked == 0 else BROKEN_LINK
                return Verification(ok=False, checked=checked, broken_id=row.id, reason=reason)
            expected = row.hash
            checked += 1
        after = rows[-1].id
        if progress is not None:
            progress(len(rows))


CONFIDENTIAL = "confidential"
