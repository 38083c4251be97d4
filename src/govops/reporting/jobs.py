"""reporting's scheduled work: follow the data as it arrives, judge each deadline as it passes, remind people.

Compliance follows submissions at once: `reporting.follow-changes` reads the observation change events and
recomputes only the expected reports they touch, run by the worker as soon as a submission's commit wakes it,
and every 30 s as the safety net (a worker that was down, a notification lost). `reporting.deadlines` runs at the
end of each grace period (moments stored with the reports), and `reporting.reminders` each morning, Vietnam time.
"""

from __future__ import annotations

from datetime import time

from sqlalchemy.orm import Session

from govops.db.engine import transaction
from govops.jobs.registry import Job, JobContext, following, lazy_gettext
from govops.jobs.schedule import At, Daily, Every
from govops.reporting import service
from govops.settings import Settings


def _recompute_touched(session: Session) -> str:
    return f"{service.follow_changes(session=session)} observation changes read"


def pass_deadlines(context: JobContext) -> str:
    with transaction(context.engine) as session:
        changed = service.pass_deadlines(session=session)
    return f"{len(changed)} expected reports changed status"


def remind(context: JobContext) -> str:
    with transaction(context.engine) as session:
        made = service.ensure_expected(session=session)
        sent = service.send_reminders(session=session)
    return f"{len(made)} expected reports made; reminders sent: " + (
        ", ".join(f"{stage} {count}" for stage, count in sorted(sent.items())) or "none"
    )


def jobs(settings: Settings) -> list[Job]:
    return [
        Job(
            name="reporting.follow-changes",
            schedule=Every(settings.reporting_follow_seconds / 60),
            run=following(pending=lambda session: service.changes_pending(session=session), work=_recompute_touched),
            summary=lazy_gettext("Recompute the compliance of the reports that newly arrived data touches."),
            on_commit=True,
        ),
        Job(
            name="reporting.deadlines",
            schedule=At(service.deadlines_between, what=lazy_gettext("reporting deadlines")),
            run=pass_deadlines,
            summary=lazy_gettext(
                "At each reporting deadline, mark the reports still incomplete as partial or missing."
            ),
        ),
        Job(
            name="reporting.reminders",
            schedule=Daily(time(8, 0), zone=settings.timezone),
            run=remind,
            summary=lazy_gettext("Remind data officers of reports due and overdue, and escalate long-late ones."),
        ),
    ]
