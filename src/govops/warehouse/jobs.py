"""warehouse's scheduled work: the charts of the pages everyone opens, computed ahead of them.

The answers live in the memory of each process that serves pages, so every such process runs this
job for itself (per process); between runs its page warmer keeps recently seen charts current.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from govops.jobs.registry import Job, JobContext, lazy_gettext
from govops.jobs.schedule import Every
from govops.settings import Settings
from govops.warehouse.series_cache import refresh_recent, waiting


def page_cache_job(settings: Settings, *, warm_up: Callable[[Session], None] | None = None) -> Job:
    """`warm_up` computes what the overview and province pages show (given by the app that serves them)."""

    def refresh(context: JobContext) -> str:
        with Session(context.engine) as session:
            if warm_up is not None:
                warm_up(session)
            refreshed = refresh_recent(session=session)
            kept = len(waiting(session=session))
        return f"overview and province charts computed; {refreshed} recently seen charts refreshed, {kept} kept"

    return Job(
        name="warehouse.page-caches",
        schedule=Every(settings.page_cache_minutes),
        run=refresh,
        summary=lazy_gettext("Compute the overview's and province pages' charts ahead of visitors (each server)."),
        per_process=True,
    )
