"""The app's own request wrappers, as plain ASGI middleware.

Plain ASGI, not `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs the rest of the app in
a task of its own and passes every chunk of a response body through a memory stream, which a thousand
event streams pay on every event. These pass the messages straight through.
"""

from __future__ import annotations

import uuid

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from govops.web.errors import error_body


class RefuseNul:
    """400 for a path or query with a NUL: no code, name or period contains one, and PostgreSQL cannot
    even compare text with one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query: bytes = scope.get("query_string", b"")
            if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
                response = JSONResponse(
                    error_body(
                        "invalid_request",
                        "the request's path or query contains a NUL character",
                        hint="remove control characters from codes and search terms",
                    ),
                    status_code=400,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class RequestId:
    """Every log line of a request carries its id (the caller's X-Request-ID, or a new one), and so does its answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = Headers(scope=scope).get("x-request-id") or uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.clear_contextvars()
