"""tasks' scheduled work: the watch over every open task (overdue, reminders before the deadline, linked data).

Each run is once per due time across workers (the job runner's rule); each slip or reminder is also written once
per task and deadline (a unique timeline key), so a second worker or a manual run never notifies twice.
"""

from __future__ import annotations

from govops.db.engine import transaction
from govops.jobs.registry import Job, JobContext, lazy_gettext
from govops.jobs.schedule import Every
from govops.settings import Settings
from govops.tasks.service import watch

WATCH_MINUTES = 15


def watch_tasks(context: JobContext) -> str:
    with transaction(context.engine) as session:
        found = watch(session=session)
    return f"{found.overdue} overdue, {found.reminded} reminded, {found.closed_by_indicator} closed by their data"


def jobs(settings: Settings) -> list[Job]:
    return [
        Job(
            name="tasks.watch",
            schedule=Every(WATCH_MINUTES),
            run=watch_tasks,
            summary=lazy_gettext(
                "Watch the open tasks: mark the overdue, remind before deadlines, close tasks whose data reached "
                "their targets."
            ),
        )
    ]
