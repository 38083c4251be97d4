"""An unhandled error answers with the error page (or the one error shape) and leaves the connection usable."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from govops.app import create_app
from govops.settings import Settings
from tests.cli.conftest import free_port


@pytest.fixture
def failing_app(engine: Engine, tmp_path: Path) -> FastAPI:
    """The real app with one console page and one API route that fail the way a bug does."""
    app = create_app(
        Settings(
            database_url=str(engine.url),
            signing_key_file=tmp_path / "signing-key.pem",
            page_warmer=False,
            worker=False,
        ),
        engine=engine,
    )

    @app.get("/provinces/t/broken")
    def broken_page() -> None:
        raise TypeError("a template called gettext with an argument it does not take")

    @app.get("/api/v1/t/broken")
    def broken_route() -> None:
        raise KeyError("missing")

    return app


def test_a_page_that_fails_answers_with_the_error_page(failing_app: FastAPI) -> None:
    with TestClient(failing_app) as client:
        page = client.get("/provinces/t/broken")
        assert page.status_code == 500
        assert 'data-testid="error-page"' in page.text and "Đã có lỗi ở phía hệ thống" in page.text
        assert "Traceback" not in page.text and "TypeError" not in page.text
        english = client.get("/provinces/t/broken", params={"lang": "en"})
        assert english.status_code == 500 and "Something went wrong on our side" in english.text
        api = client.get("/api/v1/t/broken")
        assert api.status_code == 500
        assert api.json()["error"]["code"] == "internal" and api.json()["error"]["hint"]
        assert api.headers["x-request-id"]


@pytest.fixture
def served(failing_app: FastAPI) -> Iterator[int]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(failing_app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            thread.join(0.05)
        assert server.started, "the server did not start"
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def test_the_connection_stays_open_after_an_unhandled_error(served: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    try:
        connection.request("GET", "/provinces/t/broken")
        failed = connection.getresponse()
        assert failed.status == 500 and b"error-page" in failed.read()
        assert failed.getheader("connection") != "close"
        socket_before = connection.sock
        # The next request on the same keep-alive connection is answered, not reset.
        connection.request("GET", "/healthz")
        healthy = connection.getresponse()
        assert healthy.status == 200 and b'"ok"' in healthy.read()
        assert connection.sock is socket_before
    finally:
        connection.close()
