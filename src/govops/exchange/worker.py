"""The delivery worker: `govops worker`, or a thread inside `govops serve` and `govops demo`.

Any number can run at once against one PostgreSQL store, woken by its commits (LISTEN/NOTIFY)
and polling now and then for retries that fall due; each step is a short transaction
(see exchange.webhooks), so a worker killed at any moment loses nothing: its leases run out and
another worker, or the same one restarted, takes the work up.
"""

from __future__ import annotations

import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy import Engine

from govops.db import dialect
from govops.db.base import utcnow
from govops.db.engine import make_session_factory
from govops.events import service as events
from govops.exchange import webhooks
from govops.jobs.registry import Job, JobContext
from govops.jobs.runner import JobRunner
from govops.notify import email
from govops.settings import Settings
from govops.warehouse.notify import CommitListener

log = structlog.get_logger(__name__)

# Each worker names its database connections so, and counts the live names to know its share of the work.
PRESENCE = "govops-webhook-worker "
# How often a busy worker counts the others again (one join later does not wait for it to go idle).
COUNT_EVERY = 1.0
# How many of a subscription's next deliveries one lease takes, posted back to back on one connection:
# the transactions that lease and settle them are shared by as many deliveries.
RUN = 8
# How long, after one answer, to wait for others to record them together (fewer, larger transactions).
GATHER_SECONDS = 0.003
# How long closing waits for a periodic run still going.
CLOSE_WAIT = 5.0


@dataclass
class Periodic:
    """Work the worker runs every `seconds` beside the deliveries (scheduled jobs, notification e-mail), and,
    when `on_commit`, as soon as a commit wakes the worker (work that follows the store's changes).

    Each run has a thread of its own, so that a slow one (an SMTP server that stalls, a long job) holds up
    neither the deliveries nor the other periodic work; a run still going when the next falls due is not
    started twice, the next turn starts it once it has ended (and a commit while it runs starts it once more).
    """

    seconds: float
    run: Callable[[], object]
    name: str
    on_commit: bool = False
    due: float | None = None
    thread: threading.Thread | None = None
    pending: bool = False  # a commit woke the worker while this ran: run once more

    def busy(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, now: float) -> None:
        self.due = now + self.seconds
        self.thread = threading.Thread(target=self._run, name=f"govops-{self.name}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.run()
        except Exception:
            log.exception("periodic worker job failed", job=self.name)

    def join(self, timeout: float | None = None) -> None:
        if self.thread is not None:
            self.thread.join(timeout)


def _on_commit_run(job: Job, engine: Engine, settings: Settings) -> Callable[[], object]:
    """`job` run outside its schedule, because a commit came (not recorded as a run: it would fill the record)."""

    def run() -> object:
        return job.run(JobContext(engine=engine, settings=settings, due_at=utcnow(), attempt=1, manual=False))

    return run


class Worker:
    def __init__(
        self,
        engine: Engine,
        *,
        policy: webhooks.RetryPolicy | None = None,
        every: float = 0.5,
        timeout: float = 10.0,
        batch: int = 16,
        run: int = RUN,
        name: str | None = None,
    ) -> None:
        self.engine, self.every = engine, every
        self.lease = timedelta(seconds=timeout) + webhooks.LEASE_MARGIN
        self.run = run
        self.policy = policy or webhooks.RetryPolicy()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._writer = make_session_factory(engine, writer=True)
        self._reader = make_session_factory(engine)
        self.batch = batch
        self._poster = webhooks.Poster(timeout=timeout)
        self._senders = ThreadPoolExecutor(max_workers=batch, thread_name_prefix="govops-webhook-post")
        self._stop = threading.Event()
        self._wake = threading.Event()
        # Set by each commit that wrote events (this process's, or another's through LISTEN/NOTIFY).
        self._committed = threading.Event()
        self._thread: threading.Thread | None = None
        # Periodic work beside the deliveries, started between steps.
        self.periodic: list[Periodic] = []

    @classmethod
    def configured(cls, engine: Engine, settings: Settings, *, every: float = 0.5, jobs: Iterable[Job] = ()) -> Worker:
        """A worker that also runs the scheduled `jobs` that fall due (see govops.jobs), between its steps."""
        policy = webhooks.RetryPolicy(first_wait=settings.webhook_first_retry)
        worker = cls(engine, policy=policy, every=every, timeout=settings.webhook_timeout)
        runner = JobRunner(engine, settings, jobs, worker=worker.name)
        if len(runner.registry):
            worker.periodic.append(Periodic(settings.jobs_poll_seconds, runner.run_due, "jobs"))
        for job in runner.registry:
            if job.on_commit:
                worker.periodic.append(
                    Periodic(math.inf, _on_commit_run(job, engine, settings), f"{job.name}.on-commit", on_commit=True)
                )
        if settings.smtp_host:
            # Notification e-mails are an outbox drained like the webhooks' (SKIP LOCKED claims), not a scheduled
            # job: a run every few seconds would only fill the record of job runs.
            worker.periodic.append(
                Periodic(settings.smtp_send_seconds, lambda: email.send_pending(engine, settings), "notification-email")
            )
        return worker

    def run_periodic(self) -> None:
        """Start each periodic job that is due (the first time at once), or follows commits and one came, and is
        not still running from its last turn.

        It runs in a thread of its own and returns at once; a failing one is logged, not fatal.
        """
        now = time.monotonic()
        committed = self._committed.is_set()
        if committed:
            # Cleared before the runs start: they read the store after the commit that set it.
            self._committed.clear()
        for job in self.periodic:
            wanted = job.due is None or now >= job.due or (job.on_commit and (committed or job.pending))
            if wanted and not job.busy():
                job.pending = False
                job.start(now)
            elif job.on_commit and committed:
                job.pending = True

    def _woken_by_commit(self) -> None:
        self._committed.set()
        self._wake.set()

    def join_periodic(self, timeout: float | None = None) -> None:
        """Wait for the periodic jobs running now to end (up to `timeout` seconds each)."""
        for job in self.periodic:
            job.join(timeout)

    def run_once(self) -> int:
        """Fan out new events, then attempt deliveries until none is due; returns how many were posted.

        Up to `batch` subscriptions are in flight at once, side by side, each with a run of up to `run` of
        its next deliveries posted in order, one after another (a failure stops the run: the rest wait
        behind it). As soon as any run ends, one short transaction records its answers and leases runs
        for the free places (often the next of the same subscription), so a slow receiver holds up only
        its own subscription, never the others. Other workers lease the subscriptions this one does not hold.
        """
        with self._reader() as session:
            if not webhooks.has_work(session=session):
                return 0  # no write lock taken while nobody subscribes (SQLite has only one)
        with self._writer() as session:
            dialect.announce(session, PRESENCE + self.name)
            workers = dialect.count_announced(session, PRESENCE)
            webhooks.fan_out(session=session)
            session.commit()
        counted = time.monotonic()
        attempted = 0
        in_flight: dict[Future[list[webhooks.Outcome]], int] = {}
        answered: list[webhooks.Outcome] = []
        while True:
            room = 0 if self._stop.is_set() else self.batch - len(in_flight)
            with self._writer() as session:
                # Losing this transaction to a crash of the database server only means posting again what
                # it recorded as answered (at least once), never losing a delivery: fan_out's commits wait.
                dialect.commit_without_waiting(session)
                statuses = webhooks.settle(session=session, outcomes=answered, worker=self.name, policy=self.policy)
                if room and time.monotonic() - counted > COUNT_EVERY:
                    dialect.announce(session, PRESENCE + self.name)
                    workers, counted = dialect.count_announced(session, PRESENCE), time.monotonic()
                leased = (
                    webhooks.claim(session=session, worker=self.name, lease=self.lease, limit=room, workers=workers,
                                   holding=len(in_flight), run=self.run)
                    if room
                    else []
                )  # fmt: skip
                session.commit()
            if statuses:
                log.debug("webhook deliveries", statuses=statuses)
            runs: dict[int, list[webhooks.Lease]] = {}
            for lease in leased:
                runs.setdefault(lease.subscription_id, []).append(lease)
            for subscription_id, run in runs.items():
                in_flight[self._senders.submit(self._poster.post_run, run)] = subscription_id
            if not in_flight:
                return attempted
            done, rest = wait(in_flight, return_when=FIRST_COMPLETED)
            if rest and len(done) < len(in_flight) // 2:
                # Answers come close together: a moment's wait records several in one transaction.
                more, _ = wait(rest, timeout=GATHER_SECONDS)
                done |= more
            answered = [outcome for future in done for outcome in future.result()]
            attempted += sum(outcome.posted for outcome in answered)
            for future in done:
                del in_flight[future]

    def close(self) -> None:
        self._senders.shutdown(wait=True)
        self._poster.close()
        # A periodic run still going (an SMTP server that hangs) does not hold the shutdown for long: what it
        # claimed is leased, and taken up again once the lease runs out.
        self.join_periodic(timeout=CLOSE_WAIT)

    def run_forever(self) -> None:
        events.on_commit.append(self._woken_by_commit)
        listener = CommitListener.acquire(self.engine, events.on_commit)
        try:
            while not self._stop.is_set():
                # First: work that follows commits starts at once, whatever deliveries are waiting.
                self.run_periodic()
                try:
                    busy = self.run_once()
                except Exception:
                    log.exception("webhook worker step failed")
                    busy = 0
                if not busy:
                    self._wake.wait(self.every)
                    self._wake.clear()
        finally:
            if listener is not None:
                listener.release()
            events.on_commit.remove(self._woken_by_commit)
            self.close()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="govops-webhook-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
