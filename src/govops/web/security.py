"""Browser and network defences of every response: security headers (a Content-Security-Policy that allows
scripts from this site only) and the client's address behind a trusted reverse proxy.

Wiring: `install_security(app, settings)` once, last in the app factory, so that these layers are the outermost
(every other layer sees the real client address and scheme).
"""

from __future__ import annotations

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

SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class SecurityHeaders:
    """Adds the security headers to every HTTP response (pages, API, static files, errors)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _set_headers(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _set_headers(headers: MutableHeaders) -> None:
    headers["Content-Security-Policy"] = CONSOLE_POLICY
    for name, value in SECURITY_HEADERS.items():
        headers[name] = value


def client_ip(request: Request) -> str | None:
    """The address of the client behind this request: the peer itself, or, when the peer is one of
    GOVOPS_TRUSTED_PROXIES, the address that proxy forwarded (X-Forwarded-For). The one place to read it:
    audit entries, sign-in throttling, sessions and submissions all use this."""
    return request.client.host if request.client else None


def install_security(app: FastAPI, *, trusted_proxies: list[str]) -> None:
    """Security headers on every response, and forwarded headers believed from `trusted_proxies` only."""
    app.add_middleware(SecurityHeaders)
    if trusted_proxies:
        # uvicorn's own middleware (used with proxy headers switched off in the server itself): it sets the client
        # and scheme from X-Forwarded-For / X-Forwarded-Proto, taking the nearest address not of a trusted proxy.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted_proxies)
