"""Browser and network defences of every response: security headers (a Content-Security-Policy that allows
scripts from this site only) and the client's address behind a trusted reverse proxy.

Wiring: `install_security(app, settings)` once, last in the app factory, so that these layers are the outermost
(every other layer sees the real client address and scheme).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from fastapi import FastAPI, Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

# Scripts only from this site and never inline (a name or unit stored with markup in it cannot run), no plugins,
# no framing. ECharts and htmx set style attributes, hence 'unsafe-inline' for styles only.
CONSOLE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

# The interactive API documentation (/docs, /redoc) is FastAPI's: it loads Swagger UI or ReDoc from their CDN and
# starts them with one inline script, which is allowed by its hash only.
_DOCS_SOURCES = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)

SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def docs_policy(inline_scripts: Iterable[bytes]) -> str:
    """The policy of an API documentation page whose inline scripts are exactly `inline_scripts`."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'" for script in inline_scripts
    )
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' {_DOCS_SOURCES} {hashes}".rstrip(),
            f"style-src 'self' 'unsafe-inline' {_DOCS_SOURCES} https://fonts.googleapis.com",
            "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
            "font-src 'self' https://fonts.gstatic.com",
            "worker-src 'self' blob:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "frame-ancestors 'none'",
        )
    )


class SecurityHeaders:
    """Adds the security headers to every HTTP response (pages, API, static files, errors)."""

    def __init__(self, app: ASGIApp, *, docs_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.docs_paths = frozenset(docs_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in self.docs_paths:
            await self._docs(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _set_headers(MutableHeaders(scope=message), CONSOLE_POLICY)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A small page: held back until complete, so that its own inline scripts can be allowed by their hashes.
        start: Message | None = None
        body: list[bytes] = []

        async def collect(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            body.append(message.get("body", b""))
            if not message.get("more_body", False):
                content = b"".join(body)
                _set_headers(MutableHeaders(scope=start), docs_policy(_INLINE_SCRIPT.findall(content)))
                await send(start)
                await send({"type": "http.response.body", "body": content, "more_body": False})

        await self.app(scope, receive, collect)


def _set_headers(headers: MutableHeaders, policy: str) -> None:
    headers["Content-Security-Policy"] = policy
    for name, value in SECURITY_HEADERS.items():
        headers[name] = value


def client_ip(request: Request) -> str | None:
    """The address of the client behind this request: the peer itself, or, when the peer is one of
    GOVOPS_TRUSTED_PROXIES, the address that proxy forwarded (X-Forwarded-For). The one place to read it:
    audit entries, sign-in throttling, sessions and submissions all use this."""
    return request.client.host if request.client else None


def install_security(app: FastAPI, *, trusted_proxies: list[str]) -> None:
    """Security headers on every response, and forwarded headers believed from `trusted_proxies` only."""
    docs = [path for path in (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if path]
    app.add_middleware(SecurityHeaders, docs_paths=docs)
    if trusted_proxies:
        # uvicorn's own middleware (used with proxy headers switched off in the server itself): it sets the client
        # and scheme from X-Forwarded-For / X-Forwarded-Proto, taking the nearest address not of a trusted proxy.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted_proxies)
