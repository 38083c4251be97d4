"""`govops jobs ...`: list the scheduled jobs with their last runs, and run one now."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine

from govops.jobs.registry import Registry
from govops.settings import Settings

out = Console()


@contextmanager
def _store() -> Iterator[Engine]:
    """The configured store, with the CLI's error reporting."""
    from govops.commandline import engine_of, friendly_errors
    from govops.settings import get_settings

    with friendly_errors():
        yield engine_of(get_settings())


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _next(due: datetime | None, now: datetime) -> str:
    return _when(due) + (" (due now)" if due is not None and due <= now else "")


def make_jobs_app(registry_of: Callable[[Settings], Registry]) -> typer.Typer:
    """`govops jobs`, over the jobs `registry_of` gathers (the root command hands it every domain's jobs: this
    package sits below the domains and imports none of them)."""
    jobs_app = typer.Typer(help="Scheduled jobs: list them with their last runs, run one now.", no_args_is_help=True)

    @jobs_app.command("list")
    def list_command() -> None:
        """Every job: its schedule, last run (UTC), outcome, duration and next due time (UTC)."""
        from govops.db.base import utcnow
        from govops.db.engine import make_session_factory
        from govops.jobs.schedule import describe
        from govops.jobs.service import latest_runs, upcoming
        from govops.settings import get_settings

        with _store() as engine, make_session_factory(engine)() as session:
            registry = registry_of(get_settings())
            now = utcnow()
            last = latest_runs(session=session, jobs=registry.jobs)
            table = Table(header_style="bold")
            table.add_column("job", no_wrap=True)
            for heading in ("schedule", "last run", "outcome", "duration", "next due"):
                table.add_column(heading)
            for job in registry:
                run = last.get(job.name)
                outcome = "-" if run is None else run.state + (f" (try {run.attempt})" if run.attempt > 1 else "")
                if run is not None and run.error and run.state != "succeeded":
                    outcome += f": {run.error[:80]}"
                duration = f"{run.duration_ms / 1000:.2f} s" if run and run.duration_ms is not None else "-"
                schedule = describe(job.schedule, str) + (", each server" if job.per_process else "")
                table.add_row(
                    job.name,
                    schedule,
                    _when(run.started_at if run else None),
                    escape(outcome),
                    duration,
                    _next(upcoming(session=session, job=job, now=now), now),
                )
            out.print(table)

    @jobs_app.command("run")
    def run_command(
        name: Annotated[str, typer.Argument(help="the job's name, as `govops jobs list` shows it")],
    ) -> None:
        """Run a job now, in this process, outside its schedule; the run is recorded like any other."""
        from govops.jobs.runner import JobRunner
        from govops.settings import get_settings

        with _store() as engine:
            settings = get_settings()
            runner = JobRunner(
                engine, settings, registry_of(settings), worker=f"cli:{socket.gethostname()}:{os.getpid()}"
            )
            outcome = runner.run_now(name, requested_by=os.environ.get("USER") or "cli")
        seconds = f"{outcome.duration.total_seconds():.2f} s"
        if outcome.state == "succeeded":
            out.print(
                f"{escape(name)}: succeeded in {seconds}" + (f": {escape(outcome.summary)}" if outcome.summary else "")
            )
            return
        Console(stderr=True).print(
            f"[bold red]{escape(name)}: {outcome.state}[/] after {seconds}: {escape(outcome.error or '')}"
        )
        raise typer.Exit(1)

    return jobs_app
