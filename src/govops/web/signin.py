"""Sign-in for FastAPI: the session cookie, the current user, role checks and CSRF protection.

Wiring: call `install_auth(app)` once in the app factory (it sets the anonymous CSRF cookie that
`csrf_token` hands out before sign-in). Routes then declare `CurrentUser`, `SignedInUser`,
`Depends(require_role(...))` and, on every POST/PUT/PATCH/DELETE, `Depends(verify_csrf)`.
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from govops.audit.service import Actor
from govops.auth import service
from govops.auth.models import User, UserSession
from govops.db.base import utcnow
from govops.errors import GovopsError, lazy_gettext
from govops.settings import get_settings
from govops.web.auditing import record_request
from govops.web.deps import SessionDep
from govops.web.errors import CSRF_FAILED
from govops.web.security import client_ip

SESSION_COOKIE = "govops_session"
# Before sign-in there is no session to hold the CSRF token: a short-lived cookie holds it instead.
CSRF_COOKIE = "govops_csrf"
CSRF_COOKIE_MAX_AGE = 2 * 3600
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# Setting (not yet in govops.settings): send cookies only over https even when the request looks like http,
# e.g. behind a TLS-terminating proxy that does not forward the scheme.
SECURE_COOKIES_SETTING = "secure_cookies"

log = structlog.get_logger(__name__)

_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,128}")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def secure_cookies(request: Request) -> bool:
    """Whether cookies for this request must carry the Secure flag."""
    return request.url.scheme == "https" or bool(getattr(get_settings(), SECURE_COOKIES_SETTING, False))


def set_session_cookie(response: Response, token: str, *, secure: bool) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, whole site; a browser-session cookie (the store ends it)."""
    response.set_cookie(SESSION_COOKIE, token, path="/", httponly=True, samesite="lax", secure=secure)


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


def set_csrf_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        CSRF_COOKIE, token, max_age=CSRF_COOKIE_MAX_AGE, path="/", httponly=True, samesite="lax", secure=secure
    )


# --- who is asking ----------------------------------------------------------------------------


def current_user(request: Request, session: SessionDep) -> User | None:
    """The signed-in user of this request, or None; also kept on request.state.user / .user_session."""
    if hasattr(request.state, "user_session"):
        cached: User | None = request.state.user
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    user_session = service.session_for_token(session=session, token=token, touch=False) if token else None
    if user_session is not None:
        now = utcnow()
        stamps = getattr(request.app.state, "contact_stamps", None)
        if stamps is not None and now - user_session.last_seen_at >= service.SESSION_TOUCH:
            # Noted in memory, written later by the contact stamps' thread: a read never takes the write lock.
            stamps.user_session(user_session.id, now)
    request.state.user_session = user_session
    request.state.user = user_session.user if user_session is not None else None
    return user_session.user if user_session is not None else None


CurrentUser = Annotated[User | None, Depends(current_user)]


def require_user(user: CurrentUser) -> User:
    if user is None:
        raise GovopsError.of(
            "sign_in_required",
            lazy_gettext("sign in to see this page"),
            lazy_gettext("sign in with your user name and password; sessions end after 2 hours without activity"),
            status=401,
        )
    return user


SignedInUser = Annotated[User, Depends(require_user)]


def require_role(*roles: str) -> Callable[[User], User]:
    """A dependency: the signed-in user, who must have one of `roles` (403 `forbidden` otherwise)."""
    unknown = set(roles) - set(service.ROLES)
    if unknown or not roles:
        raise ValueError(f"require_role needs roles among {service.ROLES}, got {roles}")

    def dependency(user: SignedInUser) -> User:
        if user.role not in roles:
            raise GovopsError.of(
                "forbidden",
                lazy_gettext("your role (%(role)s) may not do this"),
                lazy_gettext("this needs the role %(roles)s; ask an administrator"),
                status=403,
                role=user.role,
                roles=" or ".join(roles),
            )
        return user

    return dependency


# The guard of every administration page (catalogue, users, audit trail, exchange members, mappings).
Administrator = Annotated[User, Depends(require_role("administrator"))]


# --- CSRF -------------------------------------------------------------------------------------


def _user_session(request: Request) -> UserSession | None:
    if not hasattr(request.state, "user_session"):
        raise RuntimeError("CSRF needs to know who is asking: declare current_user (or require_user) on this route")
    found: UserSession | None = request.state.user_session
    return found


def csrf_token(request: Request) -> str:
    """The token to put in every form (hidden field `csrf_token`) and in HTMX's X-CSRF-Token header.

    Signed in: the session's token. Anonymous (the sign-in form): a random token kept in a short-lived
    cookie, which `install_auth`'s middleware sets on the response.
    """
    user_session = _user_session(request)
    if user_session is not None:
        return user_session.csrf_token
    issued: str | None = getattr(request.state, "csrf_cookie", None)
    if issued is not None:
        return issued
    cookie = request.cookies.get(CSRF_COOKIE)
    if cookie and _TOKEN_SHAPE.fullmatch(cookie):
        return cookie
    token = secrets.token_urlsafe(32)
    request.state.csrf_cookie = token
    return token


def check_csrf(request: Request, form_value: str | None) -> None:
    """Raises 403 `csrf_failed` unless the form's (or the X-CSRF-Token header's) token is this visitor's."""
    user_session = _user_session(request)
    sent = form_value or request.headers.get(CSRF_HEADER)
    expected = user_session.csrf_token if user_session is not None else request.cookies.get(CSRF_COOKIE)
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise GovopsError.of(
            CSRF_FAILED,
            lazy_gettext("the form's security token is missing or out of date"),
            lazy_gettext("reload the page and send the form again (cookies must be enabled)"),
            status=403,
        )


async def verify_csrf(request: Request, _user: CurrentUser) -> None:
    """A dependency for every state-changing route: the token comes from the header or the form field."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    check_csrf(request, sent)


# --- signing in and out -----------------------------------------------------------------------


def sign_in(request: Request, *, session: Session, username: str, password: str) -> tuple[str, UserSession]:
    """Check the password and start a session; returns the token for `set_session_cookie`.

    Use the route's unit of work (WriteSessionDep), which commits the new session with the answer. The attempt
    and, when it fails, its audit entry are committed here in transactions of their own: throttling must count
    them although the route then answers with an error. Any session the browser had before ends (no session
    fixation).
    """
    try:
        attempt = service.record_attempt(session=session, username=username, ip=client_ip(request))
        _purge_now_and_then(request, session=session)
        # A transaction of its own, deliberately: counted (and the counting lock released) before the slow
        # password check, so that parallel guesses cannot all pass the throttle.
        session.commit()
        user = service.check_password(session=session, attempt=attempt, password=password)
    except GovopsError as exc:
        record_request(
            session=session,
            request=request,
            action="auth.sign_in_failed",
            target=service.normalise_username(username)[:64],
            detail={"reason": exc.code},
        )
        # Deliberately committed before the error is raised: the unit of work rolls back what a failed route
        # wrote, but a failed sign-in must stay on record.
        session.commit()
        raise
    previous: UserSession | None = getattr(request.state, "user_session", None)
    if previous is not None:
        service.end_session(session=session, user_session=session.merge(previous, load=True))
    token, user_session = service.start_session(
        session=session, user=user, ip=client_ip(request), user_agent=request.headers.get("user-agent")
    )
    record_request(
        session=session,
        request=request,
        action="auth.sign_in",
        target=user.username,
        actor=Actor("user", user.username, user.agency.code),
    )
    request.state.user, request.state.user_session = user, user_session
    return token, user_session


# Dead sessions and failures older than the throttling window are deleted at sign-in, at most this often per
# running application (one per process).
PURGE_EVERY = 60.0


class _PurgeSchedule:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: float | None = None

    def due(self) -> bool:
        """True at most once every PURGE_EVERY seconds (the caller then purges)."""
        with self._lock:
            now = time.monotonic()
            if self._last is not None and now - self._last < PURGE_EVERY:
                return False
            self._last = now
            return True


def _purge_now_and_then(request: Request, *, session: Session) -> None:
    schedule = getattr(request.app.state, "sign_in_purge", None)
    if schedule is None:
        schedule = request.app.state.sign_in_purge = _PurgeSchedule()
    if schedule.due():
        purged = service.purge(session=session)
        if any(purged.values()):
            log.info("expired sign-in records deleted", **purged)


def sign_out(request: Request, response: Response, *, session: Session) -> None:
    """End this browser's session (committed by the route's unit of work) and clear its cookie."""
    user_session = _user_session(request)
    if user_session is not None:
        service.end_session(session=session, user_session=session.merge(user_session, load=True))
        record_request(session=session, request=request, action="auth.sign_out", target=user_session.user.username)
    request.state.user, request.state.user_session = None, None
    clear_session_cookie(response)


# --- app wiring -------------------------------------------------------------------------------


def install_auth(app: FastAPI) -> None:
    """Sets the anonymous CSRF cookie on responses whose page asked `csrf_token` for a new one."""
    app.add_middleware(CsrfCookie)


class CsrfCookie:
    """Plain ASGI (see govops.web.middleware): the cookie goes on the response's start, as it passes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The route's `request.state` keeps its values in this dictionary of the scope.
        state: dict[str, Any] = scope.setdefault("state", {})

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                token: Any = state.get("csrf_cookie")
                if isinstance(token, str):
                    carrier = Response()
                    set_csrf_cookie(carrier, token, secure=secure_cookies(Request(scope)))
                    headers = MutableHeaders(scope=message)
                    for value in carrier.headers.getlist("set-cookie"):
                        headers.append("set-cookie", value)
            await send(message)

        await self.app(scope, receive, send_with_cookie)
