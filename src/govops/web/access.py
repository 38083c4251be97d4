"""What a caller of the API may read, and who may write at all.

A member system (API key) reads the indicator groups granted to it, up to its clearance; a
signed-in user reads by role; anonymous callers read public data only.

Writing needs credentials, always: `require_credentials_to_write` is a dependency of the whole app
and refuses every POST, PUT, PATCH and DELETE without an API key or a signed-in user whose role may
write (and, for a browser session, the CSRF token). Only routes marked `@public_write` (signing in
and out) are let through; a new route is guarded without anyone remembering to.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool
from starlette.concurrency import run_in_threadpool

from govops.audit.service import Actor
from govops.auth.service import WRITING_ROLES, readable_classifications
from govops.catalog import service as catalog_service
from govops.db.base import utcnow
from govops.errors import GovopsError, lazy_gettext
from govops.events.service import Interest
from govops.exchange import service as exchange
from govops.web.contacts import ContactStamps
from govops.web.deps import SessionDep
from govops.web.signin import SAFE_METHODS, SESSION_COOKIE, CurrentUser, current_user, verify_csrf

ANONYMOUS_CLASSIFICATIONS = ("public",)
# A member's last contact is noted at most this often by reads (each stamp is a write, made later).
_CONTACT_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Reader:
    classifications: tuple[str, ...]
    # None: every indicator of those classifications; else only these codes (a member's granted groups).
    indicators: frozenset[str] | None = None
    member: str | None = None
    # A member's agency: events about an agency's own business reach it, and every reader of every agency's
    # (`every_agency`: signed-in staff, and the Government Office's systems).
    agency: str | None = None
    every_agency: bool = False

    def may_read(self, code: str, classification: str) -> bool:
        return classification in self.classifications and (self.indicators is None or code in self.indicators)

    def interest(
        self, *, indicators: Iterable[str] = (), areas: Iterable[str] = (), topics: Iterable[str] = ()
    ) -> Interest:
        """The events this reader may see, narrowed to some indicators, areas and topics or types."""
        return Interest(
            classifications=frozenset(self.classifications),
            readable=self.indicators,
            indicators=frozenset(indicators),
            areas=frozenset(areas),
            topics=frozenset(topics),
            agency=self.agency,
            any_agency=self.every_agency,
        )


def presented_key(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    return request.headers.get("x-api-key", "").strip()


def authenticated_member_id(request: Request, presented: str) -> int | None:
    """The member id of `presented` if this request's write guard has authenticated that key already."""
    found: tuple[str, int] | None = getattr(request.state, "authenticated_key", None)
    return found[1] if found is not None and found[0] == presented else None


def readable(request: Request, user: CurrentUser, session: SessionDep) -> Reader:
    key = presented_key(request)
    if key:
        member = exchange.authenticate(session=session, presented=key, stamp=False)
        now = utcnow()
        if member.last_contact_at is None or now - member.last_contact_at > _CONTACT_EVERY:
            # Noted in memory and written later (govops.web.contacts): a read never waits for the write lock.
            contact_stamps(request).member(member.id, key, now)
        clearance, codes = exchange.readable_by(session=session, member=member)
        request.state.audit_actor = Actor("member", member.code, member.agency.code)
        return Reader(
            classifications=clearance,
            indicators=codes,
            member=member.code,
            agency=member.agency.code,
            every_agency=exchange.reads_every_agency(member),
        )
    if user is not None:
        return Reader(classifications=readable_classifications(user.role), every_agency=True)
    return Reader(classifications=ANONYMOUS_CLASSIFICATIONS)


Readable = Annotated[Reader, Depends(readable)]


def contact_stamps(request: Request) -> ContactStamps:
    stamps: ContactStamps = request.app.state.contact_stamps
    return stamps


class ReaderLookups:
    """Who a stream's caller is, worked out without ever waiting on the connection pool.

    A thousand systems reconnecting at once (after a restart of the server) all ask at the same moment.
    The answer is kept per credential for `ttl` seconds, so the same key or session is looked up once for
    the whole burst; and at most `concurrency` lookups use a connection at a time, the others queue for
    their turn instead of failing for want of a pooled connection.
    """

    def __init__(self, *, concurrency: int, ttl: float = 10.0) -> None:
        self.ttl = ttl
        self._turns = threading.BoundedSemaphore(max(1, concurrency))
        self._lock = threading.Lock()
        self._known: dict[tuple[str, str], tuple[float, Reader, Actor | None]] = {}
        # A lock per stripe of credentials, not per credential: made-up keys cannot make it grow.
        self._asking = tuple(threading.Lock() for _ in range(64))

    @classmethod
    def for_engine(cls, engine: Engine) -> ReaderLookups:
        # Half the pool: the rest stays for the requests that read data, and for the change hub's poller.
        size = engine.pool.size() if isinstance(engine.pool, QueuePool) else 4
        return cls(concurrency=max(1, size // 2))

    def reader(self, request: Request) -> Reader:
        credential = (presented_key(request), request.cookies.get(SESSION_COOKIE, ""))
        if credential == ("", ""):
            return Reader(classifications=ANONYMOUS_CLASSIFICATIONS)
        # One lookup per credential at a time: the others of a burst wait for it and take its answer.
        with self._asking[hash(credential) % len(self._asking)]:
            found = self._fresh(credential)
            if found is None:
                with self._turns:
                    found = self._look_up(request)
                with self._lock:
                    self._known[credential] = found
                    self._forget_old()
        _, reader, actor = found
        if actor is not None:
            request.state.audit_actor = actor
        return reader

    def _fresh(self, credential: tuple[str, str]) -> tuple[float, Reader, Actor | None] | None:
        with self._lock:
            found = self._known.get(credential)
        return found if found is not None and time.monotonic() - found[0] < self.ttl else None

    def _forget_old(self) -> None:
        now = time.monotonic()
        for credential in [c for c, (at, _, _) in self._known.items() if now - at >= self.ttl]:
            del self._known[credential]

    @staticmethod
    def _look_up(request: Request) -> tuple[float, Reader, Actor | None]:
        with request.app.state.session_factory() as session:
            reader = readable(request, current_user(request, session), session)
        return time.monotonic(), reader, getattr(request.state, "audit_actor", None)


def reader_of(request: Request) -> Reader:
    """`readable` for routes that must not keep a database session while they run (event streams):
    a short lookup (or a recent answer for the same credential), no session held until the response ends."""
    lookups: ReaderLookups = request.app.state.reader_lookups
    return lookups.reader(request)


def require_readable(code: str, classification: str, reader: Reader) -> None:
    if not reader.may_read(code, classification):
        # 404, not 403: the existence of a confidential indicator is itself not for everyone.
        error = catalog_service.unknown_indicator(code)
        error.hint = "list the codes with GET /api/v1/indicators"  # the API's reader is a program
        raise error


# --- writing ------------------------------------------------------------------------------------

_PUBLIC_WRITE = "__govops_public_write__"
Endpoint = TypeVar("Endpoint", bound=Callable[..., object])


def public_write(endpoint: Endpoint) -> Endpoint:
    """Marks a state-changing route that anyone may call (signing in and out); put it under @router.post."""
    setattr(endpoint, _PUBLIC_WRITE, True)
    return endpoint


def is_public_write(endpoint: object) -> bool:
    return bool(getattr(endpoint, _PUBLIC_WRITE, False))


_PERSONAL_WRITE = "__govops_personal_write__"


def personal_write(endpoint: Endpoint) -> Endpoint:
    """Marks a route that changes only the signed-in person's own things (marking their notifications read):
    any signed-in user may, a viewer too, with the CSRF token; API keys and anonymous callers may not."""
    setattr(endpoint, _PERSONAL_WRITE, True)
    return endpoint


def is_personal_write(endpoint: object) -> bool:
    return bool(getattr(endpoint, _PERSONAL_WRITE, False))


async def require_credentials_to_write(request: Request, session: SessionDep) -> None:
    """An app-wide dependency: no write without an API key or a signed-in user whose role may write.

    What exactly the caller may change is the route's to decide (an administrator's page, a member's
    rights on each row); this only makes sure that no state-changing route is open by omission.
    """
    # Reads cost nothing here: the session is opened only by a query, so an event stream holds no connection.
    if request.method in SAFE_METHODS:
        return
    route = request.scope.get("route")
    if route is not None and is_public_write(getattr(route, "endpoint", None)):
        return
    personal = route is not None and is_personal_write(getattr(route, "endpoint", None))
    key = presented_key(request)
    if key and not personal:
        # A key is sent by a program, never added by a browser on its own: no CSRF token needed.
        member = await run_in_threadpool(lambda: exchange.authenticate(session=session, presented=key, stamp=False))
        # The route that needs the member takes it from here instead of looking the key up again.
        request.state.authenticated_key = (key, member.id)
        return
    user = await run_in_threadpool(current_user, request, session)  # the route's own user, cached on the request
    if user is None:
        error = GovopsError.of(
            # The code each side already answers with: a key for the API, a sign-in for the console.
            "unauthorized" if request.url.path.startswith("/api/") else "sign_in_required",
            lazy_gettext("changing data needs credentials"),
            lazy_gettext("sign in to the console"),
            status=401,
        )
        error.hint = "send `Authorization: Bearer gvk_...` with your system's API key, or sign in to the console"
        raise error
    if user.role not in WRITING_ROLES and not personal:
        raise GovopsError.of(
            "forbidden",
            lazy_gettext("your role (%(role)s) may not change data"),
            lazy_gettext("this needs the role %(roles)s; ask an administrator"),
            status=403,
            role=user.role,
            roles=" or ".join(WRITING_ROLES),
        )
    await verify_csrf(request, user)


WriteGuard = Depends(require_credentials_to_write)
