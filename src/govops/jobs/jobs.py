"""jobs' own scheduled work: the record of old runs is pruned."""

from __future__ import annotations

from datetime import time, timedelta

from govops.db.base import utcnow
from govops.db.engine import transaction
from govops.jobs.registry import Job, JobContext, lazy_gettext
from govops.jobs.schedule import Daily
from govops.jobs.service import prune
from govops.settings import Settings


def prune_runs(context: JobContext) -> str:
    with transaction(context.engine) as session:
        gone = prune(session=session, before=utcnow() - timedelta(days=context.settings.jobs_keep_days))
    return f"{gone} finished runs older than {context.settings.jobs_keep_days} days deleted"


def jobs(settings: Settings) -> list[Job]:
    return [
        Job(
            name="jobs.prune-runs",
            schedule=Daily(time(3, 0), zone=settings.timezone),
            run=prune_runs,
            summary=lazy_gettext("Delete the records of job runs older than GOVOPS_JOBS_KEEP_DAYS."),
        )
    ]
