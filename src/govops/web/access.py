"""What a caller of the API may read, and who may write at all.

A member system (API key) reads the indicator groups granted to it, up to its clearance; a
signed-in user reads by role; anonymous callers read public data only.

Writing needs credentials, always: `require_credentials_to_write` is a dependency of the whole app
and refuses every POST, PUT, PATCH and DELETE without an API key or a signed-in user whose role may
write (and, for a browser session, the CSRF token). Only routes marked `@public_write` (signing in
and out) are let through; a new route is guarded without anyone remembering to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from govops.audit.service import Actor
from govops.auth.service import WRITING_ROLES, readable_classifications
from govops.auth.web import SAFE_METHODS, CurrentUser, current_user, verify_csrf
from govops.db.base import utcnow
from govops.errors import GovopsError, NotFound
from govops.exchange import service as exchange
from govops.warehouse.changes import Interest
from govops.web.deps import SessionDep, WriteSessionDep

ANONYMOUS_CLASSIFICATIONS = ("public",)
# A member's last contact is stamped at most this often by reads (each stamp is a write).
_CONTACT_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Reader:
    classifications: tuple[str, ...]
    # None: every indicator of those classifications; else only these codes (a member's granted groups).
    indicators: frozenset[str] | None = None
    member: str | None = None

    def may_read(self, code: str, classification: str) -> bool:
        return classification in self.classifications and (self.indicators is None or code in self.indicators)

    def interest(self, *, indicators: Iterable[str] = (), areas: Iterable[str] = ()) -> Interest:
        """The change events this reader may see, narrowed to some indicators and areas."""
        return Interest(
            classifications=frozenset(self.classifications),
            readable=self.indicators,
            indicators=frozenset(indicators),
            areas=frozenset(areas),
        )


def presented_key(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    return request.headers.get("x-api-key", "").strip()


def readable(request: Request, user: CurrentUser, session: SessionDep, writer: WriteSessionDep) -> Reader:
    key = presented_key(request)
    if key:
        member = exchange.authenticate(session=session, presented=key, stamp=False)
        if member.last_contact_at is None or utcnow() - member.last_contact_at > _CONTACT_EVERY:
            # Once a minute a read waits for the write lock to note the contact (the monitor shows it).
            exchange.note_contact(session=writer, member=member, presented=key)
            writer.commit()
        clearance, codes = exchange.readable_by(session=session, member=member)
        request.state.audit_actor = Actor("member", member.code, member.agency.code)
        return Reader(classifications=clearance, indicators=codes, member=member.code)
    if user is not None:
        return Reader(classifications=readable_classifications(user.role))
    return Reader(classifications=ANONYMOUS_CLASSIFICATIONS)


Readable = Annotated[Reader, Depends(readable)]


def reader_of(request: Request) -> Reader:
    """`readable` for routes that must not keep a database session while they run (event streams):
    the sessions are opened and closed here, not held until the response ends."""
    state = request.app.state
    with state.session_factory() as session, state.write_session_factory() as writer:
        return readable(request, current_user(request, session), session, writer)


def require_readable(code: str, classification: str, reader: Reader) -> None:
    if not reader.may_read(code, classification):
        # 404, not 403: the existence of a confidential indicator is itself not for everyone.
        raise NotFound(f"no indicator with code {code!r}", hint="list the codes with GET /api/v1/indicators")


# --- writing ------------------------------------------------------------------------------------

_PUBLIC_WRITE = "__govops_public_write__"
Endpoint = TypeVar("Endpoint", bound=Callable[..., object])


def public_write(endpoint: Endpoint) -> Endpoint:
    """Marks a state-changing route that anyone may call (signing in and out); put it under @router.post."""
    setattr(endpoint, _PUBLIC_WRITE, True)
    return endpoint


def is_public_write(endpoint: object) -> bool:
    return bool(getattr(endpoint, _PUBLIC_WRITE, False))


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
    key = presented_key(request)
    if key:
        # A key is sent by a program, never added by a browser on its own: no CSRF token needed.
        await run_in_threadpool(lambda: exchange.authenticate(session=session, presented=key, stamp=False))
        return
    user = await run_in_threadpool(current_user, request, session)  # the route's own user, cached on the request
    if user is None:
        raise GovopsError(
            "changing data needs credentials",
            # The code each side already answers with: a key for the API, a sign-in for the console.
            code="unauthorized" if request.url.path.startswith("/api/") else "sign_in_required",
            status=401,
            hint="send `Authorization: Bearer gvk_...` with your system's API key, or sign in to the console",
        )
    if user.role not in WRITING_ROLES:
        raise GovopsError(
            f"your role ({user.role}) may not change data",
            code="forbidden",
            status=403,
            hint=f"this needs the role {' or '.join(WRITING_ROLES)}; ask an administrator",
        )
    await verify_csrf(request, user)


WriteGuard = Depends(require_credentials_to_write)
