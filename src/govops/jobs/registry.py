"""What a job is, and the registry domains add theirs to (each in its own `jobs.py`).

The registry knows no domain: `govops.assembly` collects every domain's jobs for the worker, the
`govops jobs` command and the console.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from govops.db.engine import transaction
from govops.errors import GovopsError
from govops.jobs.schedule import Schedule
from govops.settings import Settings


def lazy_gettext(message: str) -> str:
    """Marks a message for the catalogue; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class JobContext:
    """What a job's function gets: the store, the settings, and which due time this run is for."""

    engine: Engine
    settings: Settings
    due_at: datetime
    attempt: int
    manual: bool


@dataclass(frozen=True)
class Job:
    """A named piece of scheduled work. `run` returns a short summary of what it did (or None)."""

    name: str
    schedule: Schedule
    run: Callable[[JobContext], str | None]
    # English, marked with lazy_gettext so that the console shows it in the reader's language.
    summary: str
    attempts: int = 3  # tries per due time, the first included
    first_retry: timedelta = timedelta(minutes=1)  # then doubles, up to max_retry
    max_retry: timedelta = timedelta(hours=1)
    # A run not finished by then is taken as lost (its worker died) and taken up again.
    lease: timedelta = timedelta(minutes=15)
    # Work on this process's memory (page caches): every process runs it, each once per due time.
    per_process: bool = False
    # Work that follows the store's changes: the worker also runs it as soon as a commit wakes it (in a thread of
    # its own, never twice at once, not recorded as a run); the schedule stays its safety net.
    on_commit: bool = False

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > 100 or not self.name.replace("-", "").replace(".", "").isalnum():
            raise ValueError(f"job name {self.name!r}: letters, digits, '-' and '.', at most 100")
        if self.attempts < 1:
            raise ValueError("a job is tried at least once")

    def retry_wait(self, attempt: int) -> timedelta:
        """How long after failed attempt number `attempt` (1, 2...) the next one starts."""
        return min(self.first_retry * (1 << max(attempt - 1, 0)), self.max_retry)


def following(*, pending: Callable[[Session], bool], work: Callable[[Session], str]) -> Callable[[JobContext], str]:
    """The run of a job that follows the domain events after commit (an `on_commit` job): a look first, without the
    follower's lock, since most commits that wake the worker stored nothing it follows; then `work`, in a
    transaction of its own."""

    def run(context: JobContext) -> str:
        with Session(context.engine) as session:
            if not pending(session):
                return "nothing new to follow"
        with transaction(context.engine) as session:
            return work(session)

    return run


@dataclass
class Registry:
    """The jobs a worker runs, by name."""

    jobs: dict[str, Job] = field(default_factory=dict)

    def add(self, *jobs: Job) -> None:
        for job in jobs:
            if job.name in self.jobs:
                raise ValueError(f"two jobs are named {job.name!r}")
            self.jobs[job.name] = job

    def __iter__(self) -> Iterator[Job]:
        return iter(sorted(self.jobs.values(), key=lambda j: j.name))

    def __len__(self) -> int:
        return len(self.jobs)

    def get(self, name: str) -> Job:
        found = self.jobs.get(name)
        if found is None:
            raise GovopsError(
                f"there is no job named {name!r}",
                code="unknown_job",
                status=404,
                where="name",
                hint="the jobs are: " + ", ".join(sorted(self.jobs)),
            )
        return found
