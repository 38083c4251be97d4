"""Audit entries for a web request: who is behind it (the signed-in user or an exchange member), from which
address, under which request id. The trail itself (`govops.audit.service`) knows nothing of HTTP."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import structlog
from fastapi import Request
from sqlalchemy.orm import Session

from govops.audit.models import AuditEntry
from govops.audit.service import ANONYMOUS, Actor, record
from govops.web.security import client_ip


def actor_of(request: Request) -> Actor:
    """Who is behind a request: the signed-in user, else whoever an authentication layer put on
    ``request.state.audit_actor`` (an exchange member, say), else ANONYMOUS."""
    user = getattr(request.state, "user", None)
    if user is not None:
        return Actor("user", user.username, user.agency.code)
    given = getattr(request.state, "audit_actor", None)
    return given if isinstance(given, Actor) else ANONYMOUS


def request_id_of(request: Request) -> str | None:
    """The id the request_id middleware bound for logging, else the client's X-Request-ID header."""
    bound = structlog.contextvars.get_contextvars().get("request_id")
    return str(bound) if bound else request.headers.get("X-Request-ID")


def record_request(
    *,
    session: Session,
    request: Request,
    action: str,
    target: str = "",
    detail: Mapping[str, Any] | None = None,
    actor: Actor | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """`record` for a web request: the actor (unless given), the client's address and the request id."""
    who = actor or actor_of(request)
    return record(
        session=session,
        action=action,
        actor_kind=who.kind,
        actor=who.name,
        agency=who.agency,
        target=target,
        detail=detail,
        ip=client_ip(request),
        request_id=request_id_of(request),
        at=at,
    )


def record_confidential_reads(
    *, session: Session, request: Request, codes: Iterable[str], detail: Mapping[str, Any] | None = None
) -> list[AuditEntry]:
    """One `confidential.read` entry per indicator code (sorted), saying which address and query read it.

    Reads run on a reading session: pass a writing one here (WriteSessionDep) and commit it before answering.
    """
    where = {"path": request.url.path, "query": request.url.query[:500], **(detail or {})}
    return [
        record_request(session=session, request=request, action="confidential.read", target=code, detail=where)
        for code in sorted(set(codes))
    ]
