"""The runner against the real store: each due time once whatever the number of workers, failures retried with
backoff and their errors kept, lost runs taken up again, runs queued by hand, per-process work, pruning."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from govops.db.engine import transaction
from govops.jobs import service
from govops.jobs.models import JobRun
from govops.jobs.registry import Job, JobContext
from govops.jobs.runner import JobRunner
from govops.jobs.schedule import At, Every
from govops.settings import Settings

T0 = datetime(2025, 7, 1, 8, 7, 30, tzinfo=UTC)


@pytest.fixture
def name(engine: Engine) -> Iterator[str]:
    """A job name of this test's own; its runs are deleted afterwards (the runner commits)."""
    made = f"t.{uuid.uuid4().hex[:12]}"
    yield made
    with transaction(engine) as session:
        session.execute(delete(JobRun).where(JobRun.job.like(f"{made}%")))


def runs(engine: Engine, job: str) -> list[JobRun]:
    with Session(engine) as session:
        return list(session.scalars(select(JobRun).where(JobRun.job == job).order_by(JobRun.due_at, JobRun.id)))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def runner(engine: Engine, jobs: list[Job], worker: str, clock: Clock) -> JobRunner:
    made = JobRunner(engine, Settings(database_url=str(engine.url)), jobs, worker=worker)
    made.clock = clock
    return made


def test_a_due_time_runs_once_whatever_the_number_of_workers(engine: Engine, name: str) -> None:
    calls: list[datetime] = []

    def count(context: JobContext) -> str:
        calls.append(context.due_at)
        return f"run {len(calls)}"

    job = Job(name=name, schedule=Every(15), run=count, summary="t")
    clock = Clock(T0)
    first, second = runner(engine, [job], "w1", clock), runner(engine, [job], "w2", clock)
    [outcome] = first.run_due()
    eight = datetime(2025, 7, 1, 8, tzinfo=UTC)
    assert (outcome.state, outcome.due_at, outcome.summary) == ("succeeded", eight, "run 1")
    assert second.run_due() == [] and first.run_due() == []
    clock.now = T0 + timedelta(minutes=10)  # 08:17:30: the 08:15 due time
    assert len(second.run_due()) == 1 and first.run_due() == []
    [a, b] = runs(engine, name)
    assert (a.state, a.worker, a.attempt, a.summary) == ("succeeded", "w1", 1, "run 1")
    assert (b.due_at, b.worker, b.started_at) == (datetime(2025, 7, 1, 8, 15, tzinfo=UTC), "w2", clock.now)
    assert a.duration_ms is not None and a.finished_at is not None and a.error is None
    assert calls == [a.due_at, b.due_at]


def test_a_claim_another_worker_made_first_is_refused_inside_a_usable_transaction(engine: Engine, name: str) -> None:
    job = Job(name=name, schedule=Every(15), run=lambda _c: None, summary="t")
    with transaction(engine) as session:
        assert service.claim(session=session, job=job, due_at=T0, worker="w1", now=T0) is not None
    with transaction(engine) as session:
        assert service.claim(session=session, job=job, due_at=T0, worker="w2", now=T0) is None
        assert service.queue(session=session, job=job, requested_by="t", now=T0 + timedelta(seconds=1)).id
    assert [(r.worker, r.state) for r in runs(engine, name)] == [("w1", "running"), (None, "queued")]


def test_a_failing_job_is_retried_with_backoff_and_its_error_kept(engine: Engine, name: str) -> None:
    tries: list[int] = []

    def flaky(context: JobContext) -> str:
        tries.append(context.attempt)
        if context.attempt < 3:
            raise OSError(f"disk full (try {context.attempt})")
        return "done"

    job = Job(name=name, schedule=Every(60), run=flaky, summary="t", first_retry=timedelta(minutes=1), attempts=4)
    clock = Clock(T0)
    work = runner(engine, [job], "w1", clock)
    [failed] = work.run_due()
    assert (failed.state, failed.error) == ("retrying", "OSError: disk full (try 1)")
    [run] = runs(engine, name)
    assert (run.state, run.attempt, run.error, run.next_try_at) == (
        "retrying",
        1,
        "OSError: disk full (try 1)",
        T0 + timedelta(minutes=1),
    )
    clock.now = T0 + timedelta(seconds=59)
    assert work.run_due() == []  # not yet
    clock.now = T0 + timedelta(minutes=1)
    assert [o.state for o in work.run_due()] == ["retrying"]
    [run] = runs(engine, name)
    assert (run.attempt, run.next_try_at) == (2, clock.now + timedelta(minutes=2))  # twice as long
    clock.now += timedelta(minutes=2)
    assert [(o.state, o.summary) for o in runner(engine, [job], "w2", clock).run_due()] == [("succeeded", "done")]
    [run] = runs(engine, name)
    assert (run.state, run.attempt, run.worker, run.error, run.next_try_at) == ("succeeded", 3, "w2", None, None)
    assert tries == [1, 2, 3]


def test_a_job_failing_every_try_ends_failed_with_its_last_error(engine: Engine, name: str) -> None:
    def broken(context: JobContext) -> None:
        raise RuntimeError(f"no receiver (try {context.attempt})")

    job = Job(name=name, schedule=Every(60), run=broken, summary="t", attempts=2, first_retry=timedelta(seconds=10))
    clock = Clock(T0)
    work = runner(engine, [job], "w1", clock)
    work.run_due()
    clock.now += timedelta(seconds=10)
    assert [o.state for o in work.run_due()] == ["failed"]
    clock.now += timedelta(minutes=50)  # 08:58: still the 08:00 due time, failed for good: nothing more
    assert work.run_due() == []
    [run] = runs(engine, name)
    assert (run.state, run.attempt, run.error) == ("failed", 2, "RuntimeError: no receiver (try 2)")


def test_a_run_whose_worker_died_is_taken_up_when_its_lease_runs_out(engine: Engine, name: str) -> None:
    done: list[int] = []
    job = Job(name=name, schedule=Every(60), run=lambda c: str(done.append(c.attempt)), summary="t")
    with transaction(engine) as session:  # the dead worker's claim of 08:00
        service.claim(session=session, job=job, due_at=datetime(2025, 7, 1, 8, tzinfo=UTC), worker="dead", now=T0)
    clock = Clock(T0 + timedelta(minutes=14))
    work = runner(engine, [job], "w1", clock)
    assert work.run_due() == []  # its lease still runs
    clock.now = T0 + job.lease + timedelta(seconds=1)
    assert [(o.state, o.attempt) for o in work.run_due()] == [("succeeded", 2)]
    [run] = runs(engine, name)
    assert (run.state, run.worker, run.attempt) == ("succeeded", "w1", 2) and done == [2]


def test_a_lost_run_with_no_tries_left_is_marked_failed(engine: Engine, name: str) -> None:
    job = Job(name=name, schedule=Every(60), run=lambda _c: "ran", summary="t", attempts=1)
    with transaction(engine) as session:
        service.claim(session=session, job=job, due_at=datetime(2025, 7, 1, 8, tzinfo=UTC), worker="dead", now=T0)
    clock = Clock(T0 + job.lease + timedelta(seconds=1))
    assert runner(engine, [job], "w1", clock).run_due() == []
    [run] = runs(engine, name)
    assert run.state == "failed" and run.error is not None
    assert run.error.startswith("the worker dead stopped while running it (its lease ran out)")


def test_a_run_queued_by_hand_is_run_once_by_the_next_worker(engine: Engine, name: str) -> None:
    job = Job(name=name, schedule=At(lambda *_: [], what="nothing"), run=lambda c: f"manual={c.manual}", summary="t")
    with transaction(engine) as session:
        service.queue(session=session, job=job, requested_by="admin", now=T0)
    clock = Clock(T0 + timedelta(seconds=2))
    outcomes = runner(engine, [job], "w1", clock).run_due() + runner(engine, [job], "w2", clock).run_due()
    assert [(o.state, o.summary) for o in outcomes] == [("succeeded", "manual=True")]
    [run] = runs(engine, name)
    assert (run.manual, run.requested_by, run.state, run.attempt) == (True, "admin", "succeeded", 1)


def test_stored_moments_each_run_once(engine: Engine, name: str) -> None:
    moments = [T0 - timedelta(hours=2), T0 - timedelta(minutes=1), T0 + timedelta(minutes=5)]
    seen: list[datetime] = []

    def deadline(context: JobContext) -> None:
        seen.append(context.due_at)

    job = Job(
        name=name,
        schedule=At(lambda _s, a, b: [m for m in moments if a <= m < b], what="deadlines"),
        run=deadline,
        summary="t",
    )
    clock = Clock(T0)
    first, second = runner(engine, [job], "w1", clock), runner(engine, [job], "w2", clock)
    assert len(first.run_due()) == 2 and second.run_due() == []
    clock.now = T0 + timedelta(minutes=5)
    assert len(second.run_due()) == 1 and first.run_due() == []
    assert seen == moments
    with Session(engine) as session:
        assert service.upcoming(session=session, job=job, now=clock.now) is None


def test_work_on_a_process_memory_runs_in_every_process(engine: Engine, name: str) -> None:
    job = Job(name=name, schedule=Every(10), run=lambda _c: None, summary="t", per_process=True)
    clock = Clock(T0)
    first, second = runner(engine, [job], "serve-1", clock), runner(engine, [job], "serve-2", clock)
    # A process's own start-up did this work: it starts at the next due time.
    assert first.run_due() == [] and second.run_due() == []
    clock.now = T0 + timedelta(minutes=5)  # 08:12:30: the 08:10 due time
    assert len(first.run_due()) == 1 and len(second.run_due()) == 1
    assert first.run_due() == [] and second.run_due() == []
    assert sorted(r.scope for r in runs(engine, name)) == ["serve-1", "serve-2"]


def test_old_finished_runs_are_pruned(engine: Engine, name: str) -> None:
    job = Job(name=name, schedule=Every(60), run=lambda _c: None, summary="t")
    clock = Clock(T0)
    runner(engine, [job], "w1", clock).run_due()
    clock.now = T0 + timedelta(days=40)
    runner(engine, [job], "w1", clock).run_due()
    with transaction(engine) as session:
        assert service.prune(session=session, before=T0 + timedelta(days=30)) >= 1
    assert [r.due_at for r in runs(engine, name)] == [datetime(2025, 8, 10, 8, tzinfo=UTC)]
