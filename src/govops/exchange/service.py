"""Members, API keys and grants. Functions flush, never commit: the caller owns the transaction.

An API key reads `gvk_<prefix>_<secret>`: the prefix finds the key's row, the secret is checked
against a SHA-256 hash. Keys are 192 random bits, so a slow password hash would add nothing but
latency to every request; the comparison is constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from govops.catalog.models import GOVERNMENT_OFFICE, Agency, Indicator, IndicatorGroup, indicator_group_member
from govops.catalog.schemas import Classification
from govops.db.base import utcnow
from govops.errors import GovopsError, NotFound
from govops.exchange.models import ApiKey, Grant, Member

# A clearance reads the classifications up to its own, in this order (the catalogue's one enum).
CLEARANCES: tuple[str, ...] = tuple(level.value for level in Classification)
KEY_PREFIX = "gvk_"
DEFAULT_KEY_DAYS = 365
_SYSTEM_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_KEY_SHAPE = re.compile(r"^gvk_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{32})$")


class Unauthorized(GovopsError):
    def __init__(self, message: str, *, hint: str) -> None:
        super().__init__(message, code="unauthorized", status=401, hint=hint)


def create_member(
    *,
    session: Session,
    agency: str,
    system: str,
    name: str,
    clearance: str = "internal",
    public_key: str | None = None,
    now: datetime | None = None,
) -> Member:
    found = session.scalar(select(Agency).where(Agency.code == agency))
    if found is None:
        raise NotFound(f"no agency with code {agency!r}", hint="list agencies with GET /api/v1/agencies")
    if not _SYSTEM_CODE.fullmatch(system):
        raise GovopsError(
            f"system code {system!r} is not valid",
            code="invalid_member",
            hint="use 1-40 lower-case letters, digits and dashes, e.g. tabmis or health-hmis",
        )
    if clearance not in CLEARANCES:
        raise GovopsError(
            f"unknown clearance {clearance!r}", code="invalid_member", hint=f"use one of {', '.join(CLEARANCES)}"
        )
    code = f"{agency}/{system}"
    if session.scalar(select(Member.id).where(Member.code == code)) is not None:
        raise GovopsError(
            f"member {code} exists already", code="conflict", status=409, hint="choose another system code"
        )
    member = Member(
        code=code,
        agency_id=found.id,
        system_code=system,
        name=name.strip() or code,
        public_key=check_public_key(public_key) if public_key else None,
        clearance=clearance,
        active=True,
        created_at=now or utcnow(),
    )
    session.add(member)
    session.flush()
    return member


def check_public_key(text: str) -> str:
    """A raw Ed25519 public key (32 bytes) in base64, as `openssl pkey -pubout -outform DER | tail -c 32` gives."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise GovopsError(
            "the public key is not a base64 Ed25519 public key (32 bytes)",
            code="invalid_public_key",
            hint="send the raw 32-byte key in base64, 44 characters ending in '='",
        )
    return base64.b64encode(raw).decode()


def get_member(*, session: Session, code: str) -> Member:
    member = session.scalar(select(Member).where(Member.code == code))
    if member is None:
        raise NotFound(f"no member {code!r}", hint="list members with `govops exchange members`")
    return member


CONSOLE_SYSTEM = "console"


def console_code(agency: Agency) -> str:
    return f"{agency.code}/{CONSOLE_SYSTEM}"


def console_member(*, session: Session, agency: Agency) -> Member:
    """The member that an agency's console uploads are submitted as, made on first use with no rights:
    the Government Office grants it the groups the agency's officers may write, as for any system."""
    found = session.scalar(select(Member).where(Member.code == console_code(agency)))
    if found is not None:
        return found
    return create_member(
        session=session, agency=agency.code, system=CONSOLE_SYSTEM, name="console uploads", clearance="internal"
    )


def list_members(*, session: Session) -> list[Member]:
    return list(session.scalars(select(Member).order_by(Member.code)))


@dataclass(frozen=True)
class IssuedKey:
    key: str
    prefix: str
    expires_at: datetime


def issue_key(
    *, session: Session, member: Member, days: int = DEFAULT_KEY_DAYS, now: datetime | None = None
) -> IssuedKey:
    """A new key for `member`; the returned text is the only time the key is seen."""
    if not 1 <= days <= 3 * 365:
        raise GovopsError(f"a key lasts 1 to {3 * 365} days, not {days}", code="invalid_key", hint="e.g. --days 365")
    now = now or utcnow()
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(24)
    key = ApiKey(
        member_id=member.id,
        prefix=prefix,
        secret_hash=_hash(secret),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(key)
    session.flush()
    return IssuedKey(key=f"{KEY_PREFIX}{prefix}_{secret}", prefix=prefix, expires_at=key.expires_at)


def rotate_key(
    *,
    session: Session,
    member: Member,
    old_prefix: str,
    overlap: timedelta = timedelta(days=7),
    now: datetime | None = None,
) -> IssuedKey:
    """A new key; the old one keeps working for `overlap` so that the system can switch without downtime."""
    now = now or utcnow()
    old = _key(session, member, old_prefix)
    issued = issue_key(session=session, member=member, now=now)
    old.expires_at = min(old.expires_at, now + overlap)
    session.flush()
    return issued


def revoke_key(*, session: Session, member: Member, prefix: str, now: datetime | None = None) -> ApiKey:
    key = _key(session, member, prefix)
    if key.revoked_at is None:
        key.revoked_at = now or utcnow()
        session.flush()
    return key


def list_keys(*, session: Session, member: Member) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).where(ApiKey.member_id == member.id).order_by(ApiKey.created_at)))


def _key(session: Session, member: Member, prefix: str) -> ApiKey:
    key = session.scalar(select(ApiKey).where(ApiKey.member_id == member.id, ApiKey.prefix == prefix))
    if key is None:
        raise NotFound(f"{member.code} has no key {prefix!r}", hint="list its keys with `govops exchange keys`")
    return key


def authenticate(*, session: Session, presented: str, now: datetime | None = None, stamp: bool = True) -> Member:
    """The member a key belongs to, if the key is valid now; with `stamp`, its use is noted on key and member."""
    now = now or utcnow()
    shape = _KEY_SHAPE.fullmatch(presented.strip())
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == shape.group(1))) if shape else None
    if shape is None or key is None or not hmac.compare_digest(key.secret_hash, _hash(shape.group(2))):
        raise Unauthorized(
            "the API key is not valid", hint="send `Authorization: Bearer gvk_...` with a key issued to you"
        )
    if key.revoked_at is not None:
        raise Unauthorized("the API key was revoked", hint="ask the Government Office for a new key")
    if key.expires_at <= now:
        raise Unauthorized("the API key has expired", hint="rotate keys before they expire; ask for a new one")
    member = key.member
    if not member.active:
        raise Unauthorized(f"member {member.code} is disabled", hint="ask the Government Office to enable it")
    if stamp:
        key.last_used_at = member.last_contact_at = now
        session.flush()
    return member


def authenticated_member(*, session: Session, member_id: int, presented: str, now: datetime | None = None) -> Member:
    """The member of a key this request has already authenticated (the app's write guard does, before the route),
    its use noted as `authenticate` notes it: loaded by id, without looking the key up and hashing it again."""
    now = now or utcnow()
    member = session.get_one(Member, member_id)
    member.last_contact_at = now
    shape = _KEY_SHAPE.fullmatch(presented.strip())
    if shape is not None:
        session.execute(update(ApiKey).where(ApiKey.prefix == shape.group(1)).values(last_used_at=now))
    session.flush()
    return member


def note_contact(*, session: Session, member_id: int, presented: str, now: datetime | None = None) -> None:
    """Stamp the use of a key already authenticated: two plain updates, no second lookup and hash.

    Reads record their contacts in memory and a flusher calls this later (see govops.web.contacts), so a
    stamp never goes back in time when it arrives after a newer one.
    """
    now = now or utcnow()
    shape = _KEY_SHAPE.fullmatch(presented.strip())
    if shape is not None:
        session.execute(
            update(ApiKey)
            .where(ApiKey.prefix == shape.group(1), or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now))
            .values(last_used_at=now)
        )
    session.execute(
        update(Member)
        .where(Member.id == member_id, or_(Member.last_contact_at.is_(None), Member.last_contact_at < now))
        .values(last_contact_at=now)
    )


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def writable_groups(*, session: Session, member: Member | None) -> list[IndicatorGroup]:
    """The groups `member` may write, by code (none for no member yet)."""
    if member is None:
        return []
    return list(
        session.scalars(
            select(IndicatorGroup)
            .join(Grant, Grant.group_id == IndicatorGroup.id)
            .where(Grant.member_id == member.id, Grant.can_write.is_(True))
            .order_by(IndicatorGroup.code)
        )
    )


def grant(
    *,
    session: Session,
    member: Member,
    group: str,
    read: bool,
    write: bool,
    for_others: bool = False,
    now: datetime | None = None,
) -> Grant:
    """Set what `member` may do with `group`'s indicators (replacing what it could before); `for_others`: it may
    also submit them with another agency as their source."""
    found = session.scalar(select(IndicatorGroup).where(IndicatorGroup.code == group))
    if found is None:
        raise NotFound(f"no indicator group {group!r}", hint="list groups with `govops catalog list`")
    if not (read or write):
        raise GovopsError("a grant gives read, write or both", code="invalid_grant", hint="use --read and/or --write")
    if for_others and not write:
        raise GovopsError(
            "submitting for other agencies is part of writing",
            code="invalid_grant",
            hint="add --write, or leave --for-others out",
        )
    existing = session.scalar(select(Grant).where(Grant.member_id == member.id, Grant.group_id == found.id))
    if existing is None:
        existing = Grant(member_id=member.id, group_id=found.id)
        session.add(existing)
    existing.can_read, existing.can_write, existing.for_others = read, write, for_others
    existing.granted_at = now or utcnow()
    session.flush()
    return existing


def revoke(*, session: Session, member: Member, group: str) -> None:
    found = session.scalar(
        select(Grant)
        .join(IndicatorGroup, IndicatorGroup.id == Grant.group_id)
        .where(Grant.member_id == member.id, IndicatorGroup.code == group)
    )
    if found is None:
        raise NotFound(f"{member.code} has no grant on {group!r}", hint="see its grants with `govops exchange members`")
    session.delete(found)
    session.flush()


def list_grants(*, session: Session, member: Member) -> list[Grant]:
    return list(
        session.scalars(
            select(Grant)
            .join(IndicatorGroup, IndicatorGroup.id == Grant.group_id)
            .where(Grant.member_id == member.id)
            .order_by(IndicatorGroup.code)
        )
    )


def reads_every_agency(member: Member) -> bool:
    """Whether the member follows every agency's own business (its tasks, its reports), as signed-in staff do: the
    Government Office's systems, which supervise them all. Any other member follows its own agency's only."""
    return member.agency.kind == GOVERNMENT_OFFICE


def readable_by(*, session: Session, member: Member) -> tuple[tuple[str, ...], frozenset[str]]:
    """The classifications (up to its clearance) and the indicator codes (its granted groups) a member reads."""
    codes = session.scalars(
        select(Indicator.code)
        .join(indicator_group_member, indicator_group_member.c.indicator_id == Indicator.id)
        .join(Grant, Grant.group_id == indicator_group_member.c.group_id)
        .where(Grant.member_id == member.id, Grant.can_read.is_(True))
    )
    return CLEARANCES[: CLEARANCES.index(member.clearance) + 1], frozenset(codes)
