"""How `govops serve` runs uvicorn: limits that keep slow or idle connections from holding the server.

uvicorn closes an idle kept-alive connection after `timeout_keep_alive`, but waits forever for a request that
never finishes arriving (a connection that sends nothing, or half a request line, and keeps it open).
`HeaderTimeoutProtocol` adds that deadline: the request line and headers must arrive within
GOVOPS_HEADER_TIMEOUT seconds of the connection opening (or of the first byte of the next request on a kept-alive
connection), else the connection is closed.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from govops.settings import Settings


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's line and headers."""

    header_timeout: float = 10.0

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            # Part of a request line or of its headers is in: the rest must follow within the deadline.
            self._await_headers()
        else:
            self._headers_arrived()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_arrived()
        super().connection_lost(exc)

    def _await_headers(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _headers_arrived(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.logger.info("Closing a connection that sent no complete request headers in time.")
            self.transport.close()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments of `uvicorn.run` for `govops serve`."""
    protocol = type("GovopsHttpProtocol", (HeaderTimeoutProtocol,), {"header_timeout": settings.header_timeout})
    return {
        "http": protocol,
        # Forwarded headers are believed only from GOVOPS_TRUSTED_PROXIES, by the application itself
        # (govops.web.security): uvicorn's own default would believe any process on this machine.
        "proxy_headers": False,
        "timeout_keep_alive": settings.keep_alive_timeout,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "limit_concurrency": settings.max_connections,
    }
