"""Users, passwords, sign-in (throttled) and sign-in sessions.

Keyword-only functions taking a session; they flush, never commit: the caller owns the transaction.
One exception to keep in mind: `authenticate` records a failed attempt and then raises, so a caller
that rolls back on errors must commit that record first (``govops.web.signin.sign_in`` does).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import structlog
from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import ColumnElement, CursorResult, Result, delete, or_, select, update
from sqlalchemy.orm import Session

from govops.auth.models import SignInFailure, User, UserSession
from govops.auth.schemas import Role, UserOut
from govops.catalog.models import Agency
from govops.db.base import utcnow
from govops.db.dialect import advisory_xact_lock, lock_key
from govops.errors import GovopsError, NotFound, Problem

log = structlog.get_logger(__name__)

# One list of roles: the enum the API describes them with.
ROLES: tuple[str, ...] = tuple(role.value for role in Role)
# Roles that may change anything at all (what exactly, each route decides); a viewer only reads.
WRITING_ROLES: tuple[str, ...] = ("administrator", "analyst", "data_officer")
# Roles that submit observations for their agency (console upload, POST /api/v1/observations when signed in).
OFFICER_ROLES: tuple[str, ...] = ("data_officer", "administrator")
LANGUAGES: tuple[str, ...] = ("vi", "en")

_READABLE: dict[str, tuple[str, ...]] = {
    "viewer": ("public",),
    "data_officer": ("public", "internal"),
    "analyst": ("public", "internal", "confidential"),
    "administrator": ("public", "internal", "confidential"),
}

USERNAME_PATTERN = re.compile(r"[a-z0-9._-]{3,64}")
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PASSWORD_MIN = 10
PASSWORD_MAX = 1024

# Sign-in throttling: this many failures within the window refuse further attempts until they age out.
THROTTLE_WINDOW = timedelta(minutes=15)
THROTTLE_PER_USERNAME = 5
THROTTLE_PER_IP = 20

# Sign-in sessions end 12 hours after sign-in, or after 2 hours without a request.
SESSION_LIFETIME = timedelta(hours=12)
SESSION_IDLE = timedelta(hours=2)
# last_seen_at is written at most this often, so that browsing is not a stream of writes.
SESSION_TOUCH = timedelta(minutes=1)

_USER_AGENT_MAX = 200
_IP_MAX = 45
_TOKEN_MAX = 128

_hasher = PasswordHash((Argon2Hasher(),))


def readable_classifications(role: str) -> tuple[str, ...]:
    """The indicator security classifications a user with this role may read."""
    try:
        return _READABLE[role]
    except KeyError:
        raise GovopsError(
            f"unknown role {role!r}", code="unknown_role", hint=f"use one of {', '.join(ROLES)}"
        ) from None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not a password of anyone: only here to take as long as checking one")


def hash_token(token: str) -> str:
    """What the store keeps of a session token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_username(username: str) -> str:
    return username.strip().lower()


# --- users ------------------------------------------------------------------------------------


def password_problems(password: str, *, username: str) -> list[Problem]:
    """What is wrong with a new password (empty when it is acceptable)."""
    problems: list[Problem] = []
    if len(password) < PASSWORD_MIN:
        problems.append(
            Problem(
                f"the password is too short ({len(password)} characters)",
                field="password",
                hint=f"use at least {PASSWORD_MIN} characters; a few unrelated words make a good one",
            )
        )
    elif len(password) > PASSWORD_MAX:
        problems.append(
            Problem("the password is too long", field="password", hint=f"use at most {PASSWORD_MAX} characters")
        )
    if password.strip().lower() == normalise_username(username):
        problems.append(
            Problem("the password is the user name", field="password", hint="choose a password unlike the user name")
        )
    return problems


def _user_problems(
    session: Session,
    *,
    username: str,
    full_name: str,
    agency: str,
    role: str,
    email: str | None,
    language: str,
) -> tuple[list[Problem], Agency | None]:
    problems: list[Problem] = []
    if not USERNAME_PATTERN.fullmatch(username):
        problems.append(
            Problem(
                "the user name must be 3 to 64 characters: lower-case letters, digits, '.', '_' or '-'",
                field="username",
                value=username,
                hint="for example nguyen.van.a",
            )
        )
    if not full_name.strip():
        problems.append(Problem("the full name is empty", field="full_name", hint="give the person's full name"))
    elif len(full_name.strip()) > 200:
        problems.append(Problem("the full name is too long", field="full_name", hint="use at most 200 characters"))
    found = session.scalar(select(Agency).where(Agency.code == agency.strip().upper()))
    if found is None:
        problems.append(
            Problem(
                f"no agency with code {agency!r}",
                field="agency",
                value=agency,
                hint="use an agency code such as NSO, MOF or PC-01 (GET /api/v1/agencies lists them)",
            )
        )
    if role not in ROLES:
        problems.append(
            Problem(f"unknown role {role!r}", field="role", value=role, hint=f"use one of {', '.join(ROLES)}")
        )
    if email is not None and (len(email) > 254 or not EMAIL_PATTERN.fullmatch(email)):
        problems.append(
            Problem("not an e-mail address", field="email", value=email, hint="write it as name@example.gov.vn")
        )
    if language not in LANGUAGES:
        problems.append(
            Problem(
                f"unknown language {language!r}", field="language", value=language, hint="use vi (Vietnamese) or en"
            )
        )
    return problems, found


def _invalid(username: str, problems: list[Problem]) -> GovopsError:
    return GovopsError(
        f"user {username!r} not saved: {len(problems)} problem(s)",
        code="invalid_user",
        hint="fix the fields listed in 'problems' and try again",
        status=422,
        problems=problems,
    )


def _duplicate(username: str) -> GovopsError:
    return GovopsError(
        f"a user named {username!r} already exists",
        code="duplicate_username",
        hint="choose another user name, or change this user's password with `govops user passwd`",
        status=409,
    )


def check_new_user(
    *,
    session: Session,
    username: str,
    full_name: str,
    agency: str,
    role: str,
    email: str | None = None,
    language: str = "vi",
) -> None:
    """Everything `create_user` checks except the password (so the CLI can complain before asking for it)."""
    username = normalise_username(username)
    problems, _ = _user_problems(
        session, username=username, full_name=full_name, agency=agency, role=role, email=email, language=language
    )
    if problems:
        raise _invalid(username, problems)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise _duplicate(username)


def create_user(
    *,
    session: Session,
    username: str,
    password: str,
    full_name: str,
    agency: str,
    role: str,
    email: str | None = None,
    language: str = "vi",
    now: datetime | None = None,
) -> User:
    """A new active user of `agency` (by code) with `role`; every problem is reported at once."""
    now = now or utcnow()
    username = normalise_username(username)
    email = (email.strip() or None) if email is not None else None
    problems, found = _user_problems(
        session, username=username, full_name=full_name, agency=agency, role=role, email=email, language=language
    )
    problems += password_problems(password, username=username)
    if problems:
        raise _invalid(username, problems)
    assert found is not None
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise _duplicate(username)
    user = User(
        username=username,
        full_name=full_name.strip(),
        email=email,
        agency_id=found.id,
        agency=found,
        role=role,
        password_hash=hash_password(password),
        active=True,
        language=language,
        created_at=now,
        password_changed_at=now,
    )
    session.add(user)
    session.flush()
    log.info("user created", username=username, agency=found.code, role=role)
    return user


def get_user(*, session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == normalise_username(username)))
    if user is None:
        raise NotFound(f"no user named {username!r}", hint="list the users with `govops user list`")
    return user


def recorder_of(user: User) -> str:
    """How a change a person made is signed where the store keeps who made it (events' `recorded_by`)."""
    return f"user:{user.username}"


def user_out(user: User) -> UserOut:
    return UserOut.model_validate(
        {
            "username": user.username,
            "full_name": user.full_name,
            "email": user.email,
            "agency": user.agency.code,
            "role": user.role,
            "active": user.active,
            "language": user.language,
            "created_at": user.created_at,
            "password_changed_at": user.password_changed_at,
            "last_sign_in_at": user.last_sign_in_at,
        }
    )


def list_users(
    *, session: Session, agency: str | None = None, role: str | None = None, active: bool | None = None
) -> list[UserOut]:
    """Users by user name, optionally of one agency (code), one role, or only (in)active ones."""
    stmt = select(User).join(User.agency).order_by(User.username)
    if agency is not None:
        stmt = stmt.where(Agency.code == agency.strip().upper())
    if role is not None:
        stmt = stmt.where(User.role == role)
    if active is not None:
        stmt = stmt.where(User.active == active)
    return [user_out(u) for u in session.scalars(stmt)]


def set_password(
    *,
    session: Session,
    username: str,
    password: str,
    keep: UserSession | None = None,
    now: datetime | None = None,
) -> User:
    """A new password: every session of the user ends (but `keep`: the user's own, changing it) and failed
    sign-ins are forgotten."""
    now = now or utcnow()
    user = get_user(session=session, username=username)
    problems = password_problems(password, username=user.username)
    if problems:
        raise GovopsError(
            f"password of {user.username!r} not changed: {len(problems)} problem(s)",
            code="invalid_password",
            hint="choose another password",
            status=422,
            problems=problems,
        )
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    end_all_sessions(session=session, user=user, keep=keep, now=now)
    session.execute(delete(SignInFailure).where(SignInFailure.username == user.username))
    session.flush()
    log.info("password changed", username=user.username)
    return user


def set_active(*, session: Session, username: str, active: bool, now: datetime | None = None) -> User:
    """Enable or disable a user; disabling ends every session at once."""
    user = get_user(session=session, username=username)
    user.active = active
    if not active:
        end_all_sessions(session=session, user=user, now=now)
    session.flush()
    log.info("user enabled" if active else "user disabled", username=user.username)
    return user


def update_user(
    *,
    session: Session,
    username: str,
    full_name: str,
    agency: str,
    role: str,
    language: str,
    active: bool,
    now: datetime | None = None,
) -> User:
    """Change a user's full name, agency (by code), role, language and whether active; every problem is
    reported at once and nothing changes then. Disabling ends every session (see `set_active`)."""
    user = get_user(session=session, username=username)
    problems, found = _user_problems(
        session, username=user.username, full_name=full_name, agency=agency, role=role, email=None, language=language
    )
    if problems:
        raise _invalid(user.username, problems)
    assert found is not None
    user.full_name = full_name.strip()
    user.agency_id = found.id
    user.agency = found
    user.role = role
    user.language = language
    session.flush()
    if active != user.active:
        set_active(session=session, username=user.username, active=active, now=now)
    log.info("user updated", username=user.username, agency=found.code, role=role, active=active)
    return user


# --- sign-in ----------------------------------------------------------------------------------


class Throttled(GovopsError):
    """Too many failed sign-ins for this user name or from this address; `retry_at` says until when."""

    def __init__(self, *, retry_at: datetime, now: datetime) -> None:
        minutes = max(1, -(-int((retry_at - now).total_seconds()) // 60))
        super().__init__(
            "too many failed sign-in attempts; sign-in is paused",
            code="throttled",
            hint=f"try again in {minutes} minute(s), after {retry_at.astimezone(UTC):%H:%M} UTC",
            status=429,
        )
        self.retry_at = retry_at
        self.retry_after = max(1, int((retry_at - now).total_seconds()))


def _bad_credentials() -> GovopsError:
    # The same words whether the user exists or not: the answer must not tell which user names exist.
    return GovopsError(
        "wrong user name or password",
        code="bad_credentials",
        hint=f"check both and try again; after {THROTTLE_PER_USERNAME} failures sign-in is paused for "
        f"{int(THROTTLE_WINDOW.total_seconds() // 60)} minutes",
        status=401,
    )


def _throttled_until(session: Session, whose: ColumnElement[bool], limit: int, now: datetime) -> datetime | None:
    stmt = (
        select(SignInFailure.at)
        .where(whose, SignInFailure.at > now - THROTTLE_WINDOW, SignInFailure.at <= now)
        .order_by(SignInFailure.at)
    )
    recent = list(session.scalars(stmt))
    if len(recent) < limit:
        return None
    # Refused until enough of these failures leave the window for fewer than `limit` to remain.
    return recent[len(recent) - limit] + THROTTLE_WINDOW


def _serialise_attempts(session: Session, keys: list[str]) -> None:
    """Hold, until the transaction ends, the right to count and record sign-in attempts for these keys.

    PostgreSQL: transaction-scoped advisory locks (taken in one order, so that two attempts never wait on each
    other). SQLite: the writing session's BEGIN IMMEDIATE already holds the store's write lock.
    """
    # On SQLite the first one begins the writing session's transaction: BEGIN IMMEDIATE, the write lock.
    for key in sorted({lock_key(k) for k in keys}):
        advisory_xact_lock(session, key)


def record_attempt(
    *, session: Session, username: str, ip: str | None = None, now: datetime | None = None
) -> SignInFailure:
    """Count a sign-in attempt before its password is checked; raises `throttled` (429) when the user name or the
    address has too many recent failures.

    The attempt is recorded as a failure at once (flushed) and counted under a lock, so that parallel guesses
    cannot all pass the check before any of them is recorded: commit it before checking the password (with
    `check_password`), which forgets it if the password is right.
    """
    name = normalise_username(username)[:64]
    ip = ip[:_IP_MAX] if ip else None
    _serialise_attempts(session, [f"sign-in user {name}"] + ([f"sign-in ip {ip}"] if ip else []))
    # The time is read once the lock is held: an attempt counted before this one is never in its future.
    now = now or utcnow()
    limits = [_throttled_until(session, SignInFailure.username == name, THROTTLE_PER_USERNAME, now)]
    if ip:
        limits.append(_throttled_until(session, SignInFailure.ip == ip, THROTTLE_PER_IP, now))
    refused = [at for at in limits if at is not None]
    if refused:
        log.warning("sign-in throttled", username=name, ip=ip)
        raise Throttled(retry_at=max(refused), now=now)
    attempt = SignInFailure(username=name, ip=ip, at=now)
    session.add(attempt)
    session.flush()
    return attempt


def check_password(*, session: Session, attempt: SignInFailure, password: str, now: datetime | None = None) -> User:
    """The active user of an attempt counted by `record_attempt`, if the password is right; raises
    `bad_credentials` (401; the attempt stays counted as a failure) or `account_disabled` (403)."""
    now = now or utcnow()
    name = attempt.username
    user = session.scalar(select(User).where(User.username == name)) if USERNAME_PATTERN.fullmatch(name) else None
    valid, new_hash = False, None
    if user is None:
        # As long as checking a real password, so that the time taken does not tell whether the user exists.
        _hasher.verify(password, _dummy_hash())
    else:
        try:
            valid, new_hash = _hasher.verify_and_update(password, user.password_hash)
        except UnknownHashError:
            log.error("stored password hash not recognised", username=name)
    if user is None or not valid:
        log.info("sign-in failed", username=name, ip=attempt.ip)
        raise _bad_credentials()
    # The right password: not a failure, whatever follows.
    session.execute(delete(SignInFailure).where(SignInFailure.id == attempt.id))
    if not user.active:
        session.flush()
        raise GovopsError(
            "this account is disabled",
            code="account_disabled",
            hint="ask an administrator to enable it (govops user enable)",
            status=403,
        )
    if new_hash is not None:
        user.password_hash = new_hash
    user.last_sign_in_at = now
    session.execute(delete(SignInFailure).where(SignInFailure.username == name))
    session.flush()
    log.info("signed in", username=name, ip=attempt.ip)
    return user


def authenticate(
    *, session: Session, username: str, password: str, ip: str | None = None, now: datetime | None = None
) -> User:
    """The active user with this user name and password; raises `bad_credentials` (401) or `throttled` (429).

    `record_attempt` then `check_password` in one transaction. A failure is recorded (flushed) before the error is
    raised: commit it, or throttling never starts. Where guesses may come in parallel (the web), commit between
    the two steps instead, as ``govops.web.signin.sign_in`` does, so that the password check runs outside the lock.
    """
    attempt = record_attempt(session=session, username=username, ip=ip, now=now)
    return check_password(session=session, attempt=attempt, password=password, now=now)


# --- sessions ---------------------------------------------------------------------------------


def start_session(
    *,
    session: Session,
    user: User,
    ip: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> tuple[str, UserSession]:
    """A new sign-in session; returns the raw token (for the cookie only: the store keeps its hash)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    user_session = UserSession(
        token_hash=hash_token(token),
        user_id=user.id,
        user=user,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_LIFETIME,
        ip=ip[:_IP_MAX] if ip else None,
        user_agent=user_agent[:_USER_AGENT_MAX] if user_agent else None,
    )
    session.add(user_session)
    session.flush()
    return token, user_session


def session_for_token(
    *, session: Session, token: str | None, now: datetime | None = None, touch: bool = True
) -> UserSession | None:
    """The live session of this token; None if unknown, revoked, expired, idle too long or the user is disabled.

    With `touch`, last_seen_at is written (at most once a minute); without, the caller stamps it later
    (`note_seen`), so that a read never writes.
    """
    if not token or len(token) > _TOKEN_MAX:
        return None
    now = now or utcnow()
    found = session.scalar(select(UserSession).where(UserSession.token_hash == hash_token(token)))
    if (
        found is None
        or found.revoked_at is not None
        or now >= found.expires_at
        or now - found.last_seen_at >= SESSION_IDLE
        or not found.user.active
    ):
        return None
    if touch and now - found.last_seen_at >= SESSION_TOUCH:
        found.last_seen_at = now
        session.flush()
    return found


def note_seen(*, session: Session, user_session_id: int, now: datetime) -> None:
    """Stamp a session's last request, unless a newer stamp is already stored."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == user_session_id, UserSession.last_seen_at < now)
        .values(last_seen_at=now)
    )


def end_session(*, session: Session, user_session: UserSession, now: datetime | None = None) -> None:
    """Sign out: the session's token stops working."""
    if user_session.revoked_at is None:
        user_session.revoked_at = now or utcnow()
        session.flush()


def end_all_sessions(
    *, session: Session, user: User, keep: UserSession | None = None, now: datetime | None = None
) -> int:
    """End every live session of the user (but `keep`); returns how many were ended."""
    stmt = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep.id)
    result = session.execute(stmt.values(revoked_at=now or utcnow()).execution_options(synchronize_session="fetch"))
    session.flush()
    return _rowcount(result)


def purge(*, session: Session, now: datetime | None = None) -> dict[str, int]:
    """Delete sessions that can no longer be used and failures older than the throttling window."""
    now = now or utcnow()
    sessions = session.execute(
        delete(UserSession).where(
            or_(
                UserSession.expires_at <= now,
                UserSession.last_seen_at <= now - SESSION_IDLE,
                UserSession.revoked_at.is_not(None),
            )
        )
    )
    failures = session.execute(delete(SignInFailure).where(SignInFailure.at <= now - THROTTLE_WINDOW))
    session.flush()
    return {"sessions": _rowcount(sessions), "failures": _rowcount(failures)}


def _rowcount(result: Result[Any]) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
