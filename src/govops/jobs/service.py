"""The runs' records: claiming a due time, taking up a run again, finishing one, and reading them.

Keyword-only functions taking a session; they flush, never commit. A claim is an insert that the
unique (job, due_at, scope) lets only one worker make; taking a run up again is an update that only
matches the state and attempt the worker saw, so that only one worker wins it either way, on SQLite
and on PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govops.db.base import utcnow
from govops.jobs.models import WAITING, JobRun
from govops.jobs.registry import Job
from govops.jobs.schedule import due_times, next_due

# Error text kept with a run: enough to read the cause, not a whole traceback.
ERROR_CHARS = 2000


@dataclass(frozen=True)
class Claimed:
    """A run this worker now holds: it must finish it before `lease_until`."""

    id: int
    job: str
    due_at: datetime
    attempt: int
    manual: bool


def seen(*, session: Session, jobs: Iterable[str], scopes: Iterable[str], since: datetime) -> set[tuple[str, datetime]]:
    """(job, due time) of the runs recorded from `since` on: the due times no worker needs to claim."""
    rows = session.execute(
        select(JobRun.job, JobRun.due_at).where(
            JobRun.job.in_(list(jobs)), JobRun.scope.in_(list(scopes)), JobRun.due_at >= since
        )
    )
    return {(job, due_at) for job, due_at in rows}


def claim(
    *,
    session: Session,
    job: Job,
    due_at: datetime,
    worker: str,
    scope: str = "",
    manual: bool = False,
    requested_by: str | None = None,
    now: datetime | None = None,
) -> Claimed | None:
    """Record the run of `job` for `due_at` as this worker's; None when another worker has it already.

    In a savepoint, so that the losing insert leaves the caller's transaction usable.
    """
    now = now or utcnow()
    run = JobRun(
        job=job.name,
        due_at=due_at,
        scope=scope,
        manual=manual,
        requested_by=requested_by,
        state="running",
        attempt=1,
        worker=worker,
        started_at=now,
        lease_until=now + job.lease,
    )
    try:
        with session.begin_nested():
            session.add(run)
    except IntegrityError:
        return None
    return Claimed(id=run.id, job=job.name, due_at=due_at, attempt=1, manual=manual)


def queue(*, session: Session, job: Job, requested_by: str, now: datetime | None = None) -> JobRun:
    """Ask the workers to run `job` now, once, outside its schedule (the console's "run now")."""
    now = now or utcnow()
    run = JobRun(
        job=job.name,
        due_at=now,
        scope="",
        manual=True,
        requested_by=requested_by,
        state="queued",
        attempt=0,
        next_try_at=now,
    )
    session.add(run)
    session.flush()
    return run


def waiting(*, session: Session, jobs: Iterable[str], scopes: Iterable[str], now: datetime) -> list[JobRun]:
    """Runs to take up: queued by hand, due for a retry, or running under a lease that ran out (its worker died)."""
    return list(
        session.scalars(
            select(JobRun)
            .where(
                JobRun.job.in_(list(jobs)),
                JobRun.scope.in_(list(scopes)),
                or_(
                    and_(JobRun.state.in_(WAITING), JobRun.next_try_at <= now),
                    and_(JobRun.state == "running", JobRun.lease_until < now),
                ),
            )
            .order_by(JobRun.due_at, JobRun.id)
        )
    )


def take_up(*, session: Session, run: JobRun, job: Job, worker: str, now: datetime | None = None) -> Claimed | None:
    """Take a waiting run (see `waiting`) as this worker's next attempt; None when another worker took it first."""
    now = now or utcnow()
    taken = session.execute(
        update(JobRun)
        .where(JobRun.id == run.id, JobRun.state == run.state, JobRun.attempt == run.attempt)
        .values(
            state="running",
            attempt=run.attempt + 1,
            worker=worker,
            started_at=now,
            finished_at=None,
            duration_ms=None,
            lease_until=now + job.lease,
            next_try_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return Claimed(id=run.id, job=run.job, due_at=run.due_at, attempt=run.attempt + 1, manual=run.manual)


def give_up(*, session: Session, run: JobRun, error: str, now: datetime | None = None) -> bool:
    """Mark a run whose tries are used up as failed (a lost lease on the last attempt); False if another worker
    changed it first."""
    done = session.execute(
        update(JobRun)
        .where(JobRun.id == run.id, JobRun.state == run.state, JobRun.attempt == run.attempt)
        .values(state="failed", finished_at=now or utcnow(), lease_until=None, error=error[:ERROR_CHARS])
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def finish(
    *,
    session: Session,
    claimed: Claimed,
    job: Job,
    worker: str,
    duration: timedelta,
    summary: str | None = None,
    error: str | None = None,
    now: datetime | None = None,
) -> str | None:
    """Record how a run ended; its new state (succeeded, retrying or failed), or None if this worker had lost it
    (its lease ran out and another worker took it up)."""
    now = now or utcnow()
    if error is None:
        values: dict[str, object] = {"state": "succeeded", "summary": summary, "error": None, "next_try_at": None}
    elif claimed.attempt < job.attempts and not claimed.manual:
        values = {
            "state": "retrying",
            "error": error[:ERROR_CHARS],
            "next_try_at": now + job.retry_wait(claimed.attempt),
        }
    else:
        values = {"state": "failed", "error": error[:ERROR_CHARS], "next_try_at": None}
    done = session.execute(
        update(JobRun)
        .where(JobRun.id == claimed.id, JobRun.worker == worker, JobRun.attempt == claimed.attempt)
        .values(finished_at=now, duration_ms=duration.total_seconds() * 1000, lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    return str(values["state"]) if done.rowcount == 1 else None  # type: ignore[attr-defined]


def upcoming(*, session: Session, job: Job, now: datetime) -> datetime | None:
    """When a worker runs `job` next: a due time that has come but has no run yet, else the next one."""
    due = due_times(job.schedule, session=session, now=now)
    if due and not job.per_process:
        done = seen(session=session, jobs=[job.name], scopes=[""], since=min(due))
        unrun = [at for at in due if (job.name, at) not in done]
        if unrun:
            return min(unrun)
    return next_due(job.schedule, session=session, now=now)


def latest_runs(*, session: Session, jobs: Iterable[str]) -> dict[str, JobRun]:
    """Each job's most recent run (by due time, then id), whatever its scope."""
    newest = (
        select(JobRun.job, func.max(JobRun.id).label("id"))
        .where(JobRun.job.in_(list(jobs)), JobRun.state != "queued")
        .group_by(JobRun.job)
        .subquery()
    )
    return {run.job: run for run in session.scalars(select(JobRun).join(newest, newest.c.id == JobRun.id))}


def recent_runs(*, session: Session, job: str | None = None, limit: int = 50) -> list[JobRun]:
    """The most recent runs, newest first (queued ones included)."""
    stmt = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if job is not None:
        stmt = stmt.where(JobRun.job == job)
    return list(session.scalars(stmt))


def prune(*, session: Session, before: datetime) -> int:
    """Delete finished runs that ended before `before`; how many."""
    gone = session.execute(delete(JobRun).where(JobRun.state.in_(("succeeded", "failed")), JobRun.finished_at < before))
    return int(gone.rowcount)  # type: ignore[attr-defined]
