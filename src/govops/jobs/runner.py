"""Runs the jobs that are due: called by the worker between its steps, and by `govops jobs run`.

Each claim, each take-up and each record of an outcome is a short transaction of its own; the job
itself runs outside them, in its own transactions. A worker killed while a job runs leaves the run
"running" until its lease ends; then any worker takes it up again as the next attempt.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Engine

from govops.db.base import utcnow
from govops.db.engine import make_session_factory
from govops.jobs import service
from govops.jobs.registry import Job, JobContext, Registry
from govops.jobs.schedule import due_times
from govops.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Outcome:
    job: str
    due_at: datetime
    attempt: int
    state: str  # succeeded, retrying, failed; "lost" when another worker took the run over meanwhile
    duration: timedelta
    summary: str | None
    error: str | None


class JobRunner:
    def __init__(self, engine: Engine, settings: Settings, jobs: Registry | Iterable[Job], *, worker: str) -> None:
        self.engine, self.settings, self.worker = engine, settings, worker
        self.registry = jobs if isinstance(jobs, Registry) else Registry()
        if not isinstance(jobs, Registry):
            self.registry.add(*jobs)
        self.clock: Callable[[], datetime] = utcnow  # what time it is (tests move it)
        self._since: datetime | None = None  # the first look for due jobs
        self._reader = make_session_factory(engine)
        self._writer = make_session_factory(engine, writer=True)

    def scope_of(self, job: Job) -> str:
        return self.worker if job.per_process else ""

    def run_due(self, now: datetime | None = None) -> list[Outcome]:
        """Run every due time no worker has claimed yet, then every run waiting to be taken up again."""
        now = now or self.clock()
        jobs = list(self.registry)
        if not jobs:
            return []
        if self._since is None:
            self._since = now
        outcomes: list[Outcome] = []
        with self._reader() as session:
            due = [
                (job, at)
                for job in jobs
                for at in due_times(job.schedule, session=session, now=now)
                # Work on this process's memory starts at its first due time after start-up (which does its own).
                if not (job.per_process and at <= self._since)
            ]
            done = (
                service.seen(
                    session=session,
                    jobs=[j.name for j in jobs],
                    scopes=["", self.worker],
                    since=min(at for _, at in due),
                )
                if due
                else set()
            )
        for job, at in due:
            if (job.name, at) in done:
                continue
            with self._writer() as session:
                claimed = service.claim(
                    session=session, job=job, due_at=at, worker=self.worker, scope=self.scope_of(job), now=self.clock()
                )
                session.commit()
            if claimed is not None:
                outcomes.append(self._run(job, claimed))
        outcomes.extend(self._take_up(now))
        return outcomes

    def _take_up(self, now: datetime) -> list[Outcome]:
        with self._reader() as session:
            waiting = service.waiting(session=session, jobs=list(self.registry.jobs), scopes=["", self.worker], now=now)
        outcomes = []
        for run in waiting:
            job = self.registry.jobs[run.job]
            with self._writer() as session:
                if run.state == "running" and run.attempt >= (1 if run.manual else job.attempts):
                    service.give_up(
                        session=session,
                        run=run,
                        error=f"the worker {run.worker} stopped while running it (its lease ran out); "
                        f"no tries left ({run.attempt} of {job.attempts})",
                        now=now,
                    )
                    session.commit()
                    continue
                claimed = service.take_up(session=session, run=run, job=job, worker=self.worker, now=self.clock())
                session.commit()
            if claimed is not None:
                outcomes.append(self._run(job, claimed))
        return outcomes

    def run_now(self, name: str, *, requested_by: str | None = None) -> Outcome:
        """Run `name` at once in this process, outside its schedule; recorded like any run, not retried."""
        job = self.registry.get(name)
        now = self.clock()
        with self._writer() as session:
            claimed = service.claim(
                session=session,
                job=job,
                due_at=now,
                worker=self.worker,
                scope=self.scope_of(job),
                manual=True,
                requested_by=requested_by,
                now=now,
            )
            session.commit()
        assert claimed is not None  # a due time of this very moment, of this process: nobody else claims it
        return self._run(job, claimed)

    def _run(self, job: Job, claimed: service.Claimed) -> Outcome:
        context = JobContext(
            engine=self.engine,
            settings=self.settings,
            due_at=claimed.due_at,
            attempt=claimed.attempt,
            manual=claimed.manual,
        )
        started = time.perf_counter()
        summary: str | None = None
        error: str | None = None
        try:
            summary = job.run(context)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning(
                "job failed", job=job.name, due_at=claimed.due_at.isoformat(), attempt=claimed.attempt, error=error
            )
        duration = timedelta(seconds=time.perf_counter() - started)
        with self._writer() as session:
            state = service.finish(
                session=session,
                claimed=claimed,
                job=job,
                worker=self.worker,
                duration=duration,
                summary=summary,
                error=error,
                now=self.clock(),
            )
            session.commit()
        if state is None:
            log.warning("job run taken over by another worker before it ended", job=job.name)
        else:
            log.info("job run", job=job.name, state=state, seconds=round(duration.total_seconds(), 3))
        return Outcome(
            job=job.name,
            due_at=claimed.due_at,
            attempt=claimed.attempt,
            state=state or "lost",
            duration=duration,
            summary=summary,
            error=error,
        )
