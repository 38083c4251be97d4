"""`govops serve` as a real process against slow, idle and lying clients, spoken to over raw sockets."""

from __future__ import annotations

import re
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest

from tests.cli.conftest import Govops, serving

HEADER_TIMEOUT = 1.0
KEEP_ALIVE_TIMEOUT = 1


@pytest.fixture(scope="module")
def server(initialised_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Govops, str]]:
    folder = tmp_path_factory.mktemp("serve-limits")
    shutil.copy(initialised_store, folder / "govops.db")
    govops = Govops(folder / "govops.db", folder)
    govops.env["GOVOPS_HEADER_TIMEOUT"] = str(HEADER_TIMEOUT)
    govops.env["GOVOPS_KEEP_ALIVE_TIMEOUT"] = str(KEEP_ALIVE_TIMEOUT)
    with serving(govops) as base:
        yield govops, base


def connect(base: str) -> socket.socket:
    address = urlsplit(base)
    sock = socket.create_connection((address.hostname, address.port), timeout=10)
    return sock


def seconds_until_closed(sock: socket.socket) -> float:
    """Reads until the server closes the connection (whatever it sends first); returns how long that took."""
    started = time.monotonic()
    while sock.recv(65536):
        pass
    return time.monotonic() - started


def test_a_connection_that_sends_half_a_request_line_is_closed(server: tuple[Govops, str]) -> None:
    with connect(server[1]) as sock:
        sock.sendall(b"GET /heal")
        assert seconds_until_closed(sock) < HEADER_TIMEOUT + 3


def test_a_connection_that_sends_nothing_is_closed(server: tuple[Govops, str]) -> None:
    with connect(server[1]) as sock:
        assert seconds_until_closed(sock) < HEADER_TIMEOUT + 3


def test_headers_that_never_end_are_cut_off(server: tuple[Govops, str]) -> None:
    with connect(server[1]) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1\r\n")
        assert seconds_until_closed(sock) < HEADER_TIMEOUT + 3


def test_an_idle_kept_alive_connection_is_closed_after_its_request(server: tuple[Govops, str]) -> None:
    with connect(server[1]) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        answer = b""
        while b'"status":"ok"' not in answer:
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
        # A second request on the same connection within the keep-alive time is served...
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        second = b""
        while b'"status":"ok"' not in second:
            chunk = sock.recv(65536)
            assert chunk, second
            second += chunk
        # ...and then, idle, the connection is closed.
        assert seconds_until_closed(sock) < KEEP_ALIVE_TIMEOUT + 3


def test_headers_piling_up_past_the_limit_are_refused_without_waiting_for_their_end(
    server: tuple[Govops, str],
) -> None:
    with connect(server[1]) as sock:
        # More than GOVOPS_MAX_HEADER_BYTES (16 KiB) of a request that has not ended: nothing more is buffered.
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 20_000)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400")


def test_a_spoofed_forwarded_address_is_not_believed_without_a_trusted_proxy(server: tuple[Govops, str]) -> None:
    govops, base = server
    with httpx.Client(base_url=base, timeout=10) as http:
        form = http.get("/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None
        refused = http.post(
            "/signin",
            data={"username": "spoofer", "password": "a wrong password", "csrf_token": token.group(1)},
            headers={"X-Forwarded-For": "203.0.113.99", "X-Forwarded-Proto": "https"},
        )
    assert refused.status_code == 401
    assert "secure" not in refused.headers.get("set-cookie", "").lower()
    listed = govops("audit", "list", "--action", "auth.sign_in_failed", "--target", "spoofer")
    assert listed.code == 0, listed.err
    assert "127.0.0.1" in listed.out and "203.0.113.99" not in listed.out
