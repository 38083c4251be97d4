"""One store per test run (SQLite file, or the PostgreSQL server named by GOVOPS_TEST_DATABASE_URL),
migrated and loaded with the reference data once; each test runs inside a savepoint rolled back after it."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from govops.app import create_app
from govops.catalog.service import load_reference
from govops.db.engine import make_engine
from govops.db.migrate import upgrade
from govops.settings import Settings
from govops.warehouse import series_cache
from govops.web.deps import get_session, unit_of_work

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


# The suite's longest files, longest first (CPU seconds measured on SQLite in a comment). Parallel workers take whole
# files in collection order (`--dist loadfile`): were these left where their names put them (the browser walks are
# all under tests/web, last by name), one worker would end the run alone on them while the others sat idle. The two
# walks over the demo store are three files apart: the first builds the store while the next workers (two or three)
# start on files that do not need it, instead of waiting for it.
LONGEST_FIRST = [
    "web/test_phone.py",  # 94
    "interop/sdmx/test_api.py",  # 47
    "exchange/test_live.py",  # 32
    "web/test_browser.py",  # 86
    "quality/test_end_to_end.py",  # 23
    "exchange/test_officer_month_browser.py",  # 18
    "web/test_signin.py",  # 18
    "cli/test_serve.py",  # 17
    "web/test_browser_analyst.py",  # 16
    "warehouse/test_accept.py",  # 14
    "web/test_browser_xss.py",  # 14
    "tasks/test_walk.py",  # 11, and waits for its worker's rounds
    "targets/test_walk.py",
    "forecast/test_end_to_end.py",
    "reporting/test_end_to_end.py",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    rank = {here / name: n for n, name in enumerate(LONGEST_FIRST)}
    gone = [str(path) for path in rank if not path.exists()]
    if gone:
        raise pytest.UsageError(f"LONGEST_FIRST in tests/conftest.py names files that are gone: {gone}")
    items.sort(key=lambda item: rank.get(item.path, len(rank)))  # stable: each file keeps its tests' order


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("GOVOPS_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('store') / 'test.db'}"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    # Parallel runs (pytest -n): each worker owns a database of its own on the same server.
    return _worker_database(make_url(url), worker)


def _worker_database(url: URL, worker: str) -> str:
    name = f"{url.database}_{worker}"
    server = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}) is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        # A clean schema each run: the suite owns this database.
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    with Session(engine) as session, session.begin():
        load_reference(session=session)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()
    # Answers computed from data now rolled back: the data versions go back too, and would match them again.
    series_cache.clear()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    # commit() inside the code under test only releases a savepoint; the outer transaction is rolled back.
    with Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as session:
        yield session


@pytest.fixture(scope="session")
def signing_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys") / "signing-key.pem"


@pytest.fixture
def client(engine: Engine, session: Session, signing_key_file: Path) -> Iterator[TestClient]:
    app = create_app(
        Settings(
            database_url=str(engine.url),
            signing_key_file=signing_key_file,
            audit_checkpoint_file=signing_key_file.parent / "audit-checkpoints.jsonl",
            page_warmer=False,
            worker=False,
        ),
        engine=engine,
    )
    use_session(app, session)
    with TestClient(app) as test_client:
        yield test_client


def use_session(app: FastAPI, session: Session) -> None:
    """The app's requests work in the test's session: reads as they are, writes under the unit of work's rule.

    Each writing request has a savepoint of its own, as a real one has a session of its own: kept when the
    route returns, rolled back when it raises, leaving what the test itself stored before it in place.
    """

    def work() -> Iterator[Session]:
        request = session.begin_nested()
        try:
            yield session
        except BaseException:
            if request.is_active:
                request.rollback()
            raise
        if request.is_active:  # unless the route committed or rolled back the session's own transaction
            request.commit()
        # As the unit of work commits: a later request's rollback (a form shown again) goes back to here.
        session.commit()

    app.dependency_overrides[get_session] = lambda: session
    app.dependency_overrides[unit_of_work] = work


def shared_file(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"shared test data missing: {path}")
    return path


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a store made by `govops demo` (once per test run, shared by its parallel workers, which only
    read it or copy it), and what the command printed, in `demo.out`."""
    # The parent of each worker's base folder is the run's own, the same for every worker of the run.
    shared = tmp_path_factory.getbasetemp().parent if os.environ.get("PYTEST_XDIST_WORKER") else None
    if shared is None:
        return _make_demo(tmp_path_factory.mktemp("demo"))
    folder = shared / "demo"
    with open(shared / "demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker makes it; the others wait for it, then read it
        if not (folder / "demo.out").exists():
            folder.mkdir(exist_ok=True)
            _make_demo(folder)
    return folder


def _make_demo(folder: Path) -> Path:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVOPS_")}
    env["GOVOPS_DATABASE_URL"] = f"sqlite:///{folder / 'govops.db'}"
    demo = subprocess.run(
        [sys.executable, "-m", "govops", "demo", "--no-serve"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr
    assert "viewer" in demo.stdout and "govops-demo" in demo.stdout
    # Written last: its presence says the store is whole.
    (folder / "demo.out").write_text(demo.stdout, encoding="utf-8")
    return folder
