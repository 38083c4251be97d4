"""The CLI is tested as a user runs it: a real `govops` process on its own SQLite store."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

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
