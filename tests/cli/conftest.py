"""The CLI is tested as a user runs it: a real `govops` process on its own SQLite store."""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
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

    def __call__(self, *args: str, timeout: float = 120, input: str | None = None, **env: str) -> Run:
        """Run `govops ARGS` in this store's folder; `input` is what the command reads on its standard input."""
        return _launcher.run(list(args), cwd=self.cwd, env=self.env | env, timeout=timeout, stdin=input)


# The program of a process that imports govops once, then forks a child per command, which runs it as
# `python -m govops ARGS` would from that point: in its own folder, environment and standard streams. The import
# (over a second, most of a command's time) is paid once per test process, not once per command.
_ZYGOTE = """
import json, os, runpy, sys
import govops.cli.main
for line in sys.stdin:
    request = json.loads(line)
    child = os.fork()
    if child == 0:
        # From here the child is the command's own process: it ends as `python -m govops` would, its exit
        # code, traceback and clean-up (a SQLite store left whole, its write-ahead log folded in) included.
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.dup2(os.open(request["in"] or os.devnull, os.O_RDONLY), 0)
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # not the zygote's reader of requests, nor its buffer
        os.dup2(os.open(request["out"], os.O_WRONLY), 1)
        os.dup2(os.open(request["err"], os.O_WRONLY), 2)
        sys.argv = ["govops", *request["args"]]
        runpy.run_module("govops", run_name="__main__")
        sys.exit(0)
    print(json.dumps({"pid": child}), flush=True)
    print(json.dumps({"code": os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])}), flush=True)
"""


class _Launcher:
    """Runs `govops` commands through one pre-imported process per test process (see `_ZYGOTE`); a command asked
    for while another runs gets a plain process of its own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._zygote: subprocess.Popen[str] | None = None

    def run(self, args: list[str], *, cwd: Path, env: dict[str, str], timeout: float, stdin: str | None) -> Run:
        if not self._lock.acquire(blocking=False):
            return _plain(args, cwd=cwd, env=env, timeout=timeout, stdin=stdin)
        try:
            return self._forked(args, cwd=cwd, env=env, timeout=timeout, stdin=stdin)
        finally:
            self._lock.release()

    def _forked(self, args: list[str], *, cwd: Path, env: dict[str, str], timeout: float, stdin: str | None) -> Run:
        if self._zygote is None or self._zygote.poll() is not None:
            base = {k: v for k, v in os.environ.items() if not k.startswith("GOVOPS_")} | {"COLUMNS": "200"}
            self._zygote = subprocess.Popen(
                [sys.executable, "-c", _ZYGOTE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=base
            )
            atexit.register(_stop, self._zygote)
        zygote = self._zygote
        assert zygote.stdin is not None and zygote.stdout is not None
        with tempfile.TemporaryDirectory() as streams:
            out, err, given = Path(streams, "out"), Path(streams, "err"), Path(streams, "in")
            out.touch()
            err.touch()
            if stdin is not None:
                given.write_text(stdin, encoding="utf-8")
            request = {
                "args": args,
                "cwd": str(cwd),
                "env": env,
                "in": str(given) if stdin is not None else None,
                "out": str(out),
                "err": str(err),
            }
            zygote.stdin.write(json.dumps(request) + "\n")
            zygote.stdin.flush()
            child = json.loads(zygote.stdout.readline())["pid"]
            ready, _, _ = select.select([zygote.stdout], [], [], timeout)
            if not ready:
                os.kill(child, signal.SIGKILL)
                zygote.stdout.readline()
                raise subprocess.TimeoutExpired(["govops", *args], timeout)
            code = json.loads(zygote.stdout.readline())["code"]
            return Run(code, out.read_text(encoding="utf-8"), err.read_text(encoding="utf-8"))


def _stop(zygote: subprocess.Popen[str]) -> None:
    zygote.kill()
    zygote.wait()
    for stream in (zygote.stdin, zygote.stdout):
        if stream is not None:
            stream.close()


def _plain(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float, stdin: str | None) -> Run:
    proc = subprocess.run(
        [sys.executable, "-m", "govops", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


_launcher = _Launcher()


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
