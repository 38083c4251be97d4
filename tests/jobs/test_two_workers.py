"""End to end: a job that fires at a moment a domain stored runs exactly once with two workers, each on an engine
(a connection pool) of its own, polling side by side, on SQLite and on PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from govops.db.base import utcnow
from govops.db.engine import make_engine, transaction
from govops.exchange.worker import Worker
from govops.jobs.models import JobRun
from govops.jobs.registry import Job, JobContext
from govops.jobs.schedule import At
from govops.settings import Settings

NAME = "t.deadline-reached"


@pytest.fixture
def store(engine: Engine) -> Iterator[Engine]:
    """A domain's table of deadlines and a table the job writes its effect to (the test's own)."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t_deadline (at VARCHAR(40) NOT NULL)"))
        conn.execute(text("CREATE TABLE t_effect (due_at VARCHAR(40) NOT NULL, worker VARCHAR(200) NOT NULL)"))
    yield engine
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE t_deadline"))
        conn.execute(text("DROP TABLE t_effect"))
        conn.execute(JobRun.__table__.delete().where(JobRun.job == NAME))


def deadlines(session: Session, start: datetime, end: datetime) -> list[datetime]:
    stored = session.scalars(text("SELECT at FROM t_deadline")).all()
    return [m for m in map(datetime.fromisoformat, stored) if start <= m < end]


def effect(context: JobContext) -> str:
    with transaction(context.engine) as session:
        session.execute(
            text("INSERT INTO t_effect (due_at, worker) VALUES (:due_at, :worker)"),
            {"due_at": context.due_at.isoformat(), "worker": str(context.engine.url.database)},
        )
        time.sleep(0.3)  # a run that takes a while: the other worker looks meanwhile
    return "deadline reached"


def test_a_stored_moment_fires_exactly_once_with_two_workers(store: Engine) -> None:
    job = Job(name=NAME, schedule=At(deadlines, what="test deadlines"), run=effect, summary="t")
    settings = Settings(database_url=str(store.url), jobs_poll_seconds=0.1, audit_checkpoint_minutes=0)
    moment = (utcnow() + timedelta(seconds=3)).replace(microsecond=0)
    with store.begin() as conn:
        conn.execute(text("INSERT INTO t_deadline (at) VALUES (:at)"), {"at": moment.isoformat()})
    engines = [make_engine(str(store.url.render_as_string(hide_password=False))) for _ in range(2)]
    workers = [Worker.configured(e, settings, every=0.1, jobs=[job]) for e in engines]
    try:
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 60
        while True:
            with store.connect() as conn:
                finished = conn.scalar(
                    text("SELECT count(*) FROM job_run WHERE job = :job AND state = 'succeeded'"), {"job": NAME}
                )
            if finished:
                break
            assert time.monotonic() < deadline, "no worker ran the job within a minute of its moment"
            time.sleep(0.1)
        assert utcnow() >= moment  # not before its moment
        time.sleep(1.0)  # both workers keep looking, ten times each
    finally:
        for worker in workers:
            worker.stop()
        for e in engines:
            e.dispose()
    with Session(store) as session:
        runs = list(session.scalars(select(JobRun).where(JobRun.job == NAME)))
        effects = session.execute(text("SELECT due_at FROM t_effect")).all()
    assert len(runs) == 1 and len(effects) == 1
    [run] = runs
    assert (run.due_at, run.state, run.attempt, run.summary) == (moment, "succeeded", 1, "deadline reached")
    assert run.worker in {w.name for w in workers}
    assert effects[0][0] == moment.isoformat()
