"""The CLI is tested as a user runs it: a real `govops` process on its own SQLite store."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import pytest


@dataclass
class Run:
    code: int
    out: str
    err: str


class Govops:
    def __init__(self, store: Path, cwd: Path) -> None:
        self.store, self.cwd = store, cwd
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GOVOPS_")}
        self.env["GOVOPS_DATABASE_URL"] = f"sqlite:///{store}"
        self.env["COLUMNS"] = "200"

    def __call__(self, *args: str, timeout: float = 120, **env: str) -> Run:
        proc = subprocess.run(
            [sys.executable, "-m", "govops", *args],
            cwd=self.cwd,
            env=self.env | env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def initialised_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli-template")
    govops = Govops(folder / "govops.db", folder)
    result = govops("init")
    assert result.code == 0, result.err
    return folder / "govops.db"


@pytest.fixture
def govops(initialised_store: Path, tmp_path: Path) -> Govops:
    """A fresh copy of an initialised store for each test."""
    store = tmp_path / "govops.db"
    shutil.copy(initialised_store, store)
    return Govops(store, tmp_path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(govops: Govops) -> Iterator[str]:
    """`govops serve` on a free port, until the block ends; yields its base URL."""
    port = free_port()
    log = govops.cwd / "server.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "govops", "serve", "--port", str(port)],
            cwd=govops.cwd,
            env=govops.env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            proc.kill()
            proc.wait()
            pytest.fail(f"server did not start: {log.read_text()}")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
